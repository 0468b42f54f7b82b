// Recent client events: syncs, errors and exports.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {

void DrawLogPanel(ClientState& state, UiState& ui, float height) {
  if (!ui.log_open)
    return;
  ImGui::Separator();
  ImGui::TextDisabled("Log");
  if (!ImGui::BeginChild("log", ImVec2(0, height), false)) {
    ImGui::EndChild();
    return;
  }
  for (const LogEntry& entry : state.log()) {
    std::string time = FormatLocalTime(state.zone(), entry.time);
    if (entry.error)
      ImGui::TextColored(ImVec4(0.9f, 0.3f, 0.3f, 1.0f), "%s  %s", time.c_str(),
                         entry.text.c_str());
    else
      ImGui::Text("%s  %s", time.c_str(), entry.text.c_str());
  }
  // Follow new entries unless the user scrolled up.
  if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1)
    ImGui::SetScrollHereY(1.0f);
  ImGui::EndChild();
  RecordWidget("log.panel");
}

}  // namespace reclaim::client
