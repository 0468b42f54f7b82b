// API token login, shown while no token is stored.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {

void DrawLoginPanel(ClientState& state, UiState& ui) {
  if (state.logged_in())
    return;
  ImGui::Separator();
  ImGui::TextUnformatted("Log in with an API token");
  ImGui::TextDisabled(
      "Create one on the server: reclaim-server token create <name> --role remediator");
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 32);
  bool submit =
      InputStringWithHint("##token", "rcl_...", &ui.token,
                          ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
  RecordWidget("login.token");
  ImGui::SameLine();
  submit |= ImGui::Button("Log in");
  RecordWidget("login.submit");
  if (submit) {
    state.Login(ui.token);
    ui.token.clear();
  }
  if (!state.login_error().empty())
    ErrorText(state.login_error());
  if (state.store().empty())
    ImGui::TextDisabled("No local copy yet: the incidents load after the first sync.");
  else
    ImGui::TextDisabled("Showing the local copy of %zu incidents until you log in.",
                        state.store().size());
  ImGui::Separator();
}

}  // namespace reclaim::client
