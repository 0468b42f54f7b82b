#include <imgui.h>

#include "wasm-client/ui/panels.h"

namespace reclaim::client {

UiState::UiState() {
  column_choice.fill(true);
  export_incident_columns.fill(true);
  export_message_columns.fill(true);
}

void HandleEscape(ClientState& state, UiState& ui) {
  if (!ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false))
    return;
  if (state.confirmation()) {
    state.CancelConfirmation();
  } else if (ui.columns_open) {
    ui.columns_open = false;
  } else if (state.open_message()) {
    state.CloseMessage();
  } else if (ui.export_open) {
    ui.export_open = false;
  } else if (ui.remediation_open) {
    ui.remediation_open = false;
  } else if (ui.settings_open) {
    ui.settings_open = false;
  } else if (state.open_incident()) {
    state.CloseIncident();
    ui.restore_choice.clear();
  }
}

}  // namespace reclaim::client
