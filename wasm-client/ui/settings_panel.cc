// Settings: the theme and what the session is.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"

namespace reclaim::client {

void DrawSettingsPanel(ClientState& state, UiState& ui) {
  if (!ui.settings_open)
    return;
  const float em = ImGui::GetFontSize();
  ImGui::SetNextWindowSize(ImVec2(em * 20, 0), ImGuiCond_Always);
  ImGui::SetNextWindowPos(ImVec2(ImGui::GetIO().DisplaySize.x - em, em * 4), ImGuiCond_Appearing,
                          ImVec2(1, 0));
  if (ImGui::Begin("Settings", &ui.settings_open,
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
    ImGui::TextUnformatted("Theme");
    if (ImGui::RadioButton("Dark", state.theme() == Theme::kDark))
      state.SetTheme(Theme::kDark);
    RecordWidget("settings.theme.dark");
    ImGui::SameLine();
    if (ImGui::RadioButton("Light", state.theme() == Theme::kLight))
      state.SetTheme(Theme::kLight);
    RecordWidget("settings.theme.light");
    ImGui::Separator();
    const SessionInfo& session = state.session();
    if (state.logged_in() && !session.token_name.empty()) {
      ImGui::Text("Token: %s (%s)", session.token_name.c_str(), session.role.c_str());
      ImGui::Text("Organisation: %s", session.organisation.c_str());
    } else {
      ImGui::TextDisabled("Not logged in");
    }
    ImGui::Text("Time zone: %s", state.zone().Name().c_str());
    if (ImGui::Button("Close"))
      ui.settings_open = false;
    RecordWidget("settings.close");
  }
  ImGui::End();
}

}  // namespace reclaim::client
