// The top bar: sync state, the Sync button and the console's commands.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

void DrawStatusDot(bool online) {
  float size = ImGui::GetTextLineHeight() * 0.6f;
  ImVec2 pos = ImGui::GetCursorScreenPos();
  ImU32 color = online ? IM_COL32(0x3F, 0xB9, 0x6B, 0xFF) : IM_COL32(0xE0, 0x40, 0x40, 0xFF);
  ImGui::GetWindowDrawList()->AddCircleFilled(
      ImVec2(pos.x + size * 0.5f, pos.y + ImGui::GetTextLineHeight() * 0.5f), size * 0.5f, color);
  ImGui::Dummy(ImVec2(size, ImGui::GetTextLineHeight()));
}

}  // namespace

void DrawSyncStatus(ClientState& state, UiState& ui) {
  ImGui::TextUnformatted("Reclaim");
  ImGui::SameLine();
  ImGui::TextDisabled("Threat remediation incidents");
  ImGui::SameLine(0, ImGui::GetFontSize() * 2);

  DrawStatusDot(state.online());
  ImGui::SameLine();
  // Before login no request was sent, so the server's reachability is unknown.
  const char* connection = !state.logged_in() ? "Not logged in"
                           : state.online()   ? "Online"
                                              : "Offline";
  ImGui::Text("%s", connection);
  RecordWidget("sync.status");
  ImGui::SameLine();
  std::string last =
      state.last_sync() == 0 ? "never" : FormatLocalTime(state.zone(), state.last_sync());
  ImGui::TextDisabled("| %s | last sync %s | %zu incidents", DisplayName(state.sync_state()).data(),
                      last.c_str(), state.store().size());
  ImGui::SameLine();
  ImGui::BeginDisabled(!state.logged_in() || state.sync_state() == SyncState::kSyncing);
  if (ImGui::Button("Sync"))
    state.RequestSync();
  RecordWidget("sync.button");
  ImGui::EndDisabled();

  if (ImGui::Button("New remediation")) {
    ui.remediation_open = true;
    ui.remediation_submitted = false;
  }
  RecordWidget("remediation.open");
  ImGui::SameLine();
  if (ImGui::Button("Save snapshot"))
    ui.shell.save_snapshot = true;
  RecordWidget("snapshot.save");
  ImGui::SameLine();
  if (ImGui::Button("Open snapshot"))
    ui.shell.open_snapshot = true;
  RecordWidget("snapshot.open");
  ImGui::SameLine();
  if (ImGui::Button("Settings"))
    ui.settings_open = !ui.settings_open;
  RecordWidget("settings.open");
  ImGui::SameLine();
  if (ImGui::Button(ui.log_open ? "Hide log" : "Show log"))
    ui.log_open = !ui.log_open;
  RecordWidget("log.toggle");
  if (state.logged_in()) {
    ImGui::SameLine();
    if (ImGui::Button("Log out"))
      state.Logout();
    RecordWidget("logout");
  }

  if (!state.last_error().empty())
    ErrorText(state.last_error());
}

}  // namespace reclaim::client
