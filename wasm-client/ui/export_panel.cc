// Export Data: column checkboxes, then a CSV built locally and downloaded.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

template <typename Column, size_t N>
std::vector<Column> ChosenColumns(const std::array<bool, N>& chosen,
                                  const std::vector<Column>& all) {
  std::vector<Column> columns;
  for (Column column : all)
    if (chosen[static_cast<size_t>(column)])
      columns.push_back(column);
  return columns;
}

}  // namespace

void DrawExportPanel(ClientState& state, UiState& ui) {
  if (!ui.export_open)
    return;
  if (ui.export_messages && !state.open_incident())
    ui.export_messages = false;
  const float em = ImGui::GetFontSize();
  ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(em * 18, 0), ImGuiCond_Always);
  ImGui::SetNextWindowPos(ImVec2(display.x - em, em * 4), ImGuiCond_Appearing, ImVec2(1, 0));
  if (ImGui::Begin("Export Data", &ui.export_open,
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
    if (ui.export_messages) {
      ImGui::TextWrapped("Messages of %s", state.open_incident()->c_str());
      for (MessageColumn column : AllMessageColumns()) {
        std::string name(DisplayName(column));
        ImGui::Checkbox(name.c_str(), &ui.export_message_columns[static_cast<size_t>(column)]);
        RecordWidget("export.column." + name);
      }
    } else {
      ImGui::TextWrapped("All %zu incidents matching the filters", state.Page().total);
      for (IncidentColumn column : AllIncidentColumns()) {
        std::string name(DisplayName(column));
        ImGui::Checkbox(name.c_str(), &ui.export_incident_columns[static_cast<size_t>(column)]);
        RecordWidget("export.column." + name);
      }
    }
    if (ImGui::Button("Download")) {
      Result<Download> download =
          ui.export_messages
              ? state.ExportMessages(ChosenColumns(ui.export_message_columns, AllMessageColumns()))
              : state.ExportQueue(ChosenColumns(ui.export_incident_columns, AllIncidentColumns()));
      if (download.ok()) {
        ui.shell.downloads.push_back(std::move(*download));
        ui.export_error.clear();
        ui.export_open = false;
      } else {
        ui.export_error = download.status().message();
      }
    }
    RecordWidget("export.download");
    ImGui::SameLine();
    if (ImGui::Button("Cancel"))
      ui.export_open = false;
    RecordWidget("export.close");
    if (!ui.export_error.empty())
      ErrorText(ui.export_error);
  }
  ImGui::End();
}

}  // namespace reclaim::client
