// The incident queue: page controls, the column chooser and the table.
#include <imgui.h>

#include <algorithm>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

constexpr int kPageSizes[] = {50, 100, 150, 200, 250, 300};

std::string CellText(const ClientState& state, uint32_t row, IncidentColumn column) {
  const IncidentStore& store = state.store();
  const MessageCounts& counts = store.counts(row);
  switch (column) {
    case IncidentColumn::kCode: {
      char code[32];
      return std::string(code, store.FormatCode(row, code));
    }
    case IncidentColumn::kType:
      return std::string(DisplayName(store.type(row)));
    case IncidentColumn::kCreated:
      return FormatLocalTime(state.zone(), store.created(row));
    case IncidentColumn::kModified:
      return FormatLocalTime(state.zone(), store.modified(row));
    case IncidentColumn::kIdentifier:
      return std::string(store.identifier(row));
    case IncidentColumn::kReason:
      return std::string(store.reason(row));
    case IncidentColumn::kIdentified:
      return std::to_string(counts.identified);
    case IncidentColumn::kRemoved:
      return std::to_string(counts.removed);
    case IncidentColumn::kFailed:
      return std::to_string(counts.failed);
    case IncidentColumn::kRestored:
      return std::to_string(counts.restored);
  }
  return {};
}

// Short header names the browser tests also accept ("queue.header.Created").
const char* ShortHeaderName(IncidentColumn column) {
  switch (column) {
    case IncidentColumn::kCreated:
      return "Created";
    case IncidentColumn::kModified:
      return "Updated";
    default:
      return nullptr;
  }
}

void DrawToolbar(ClientState& state, UiState& ui) {
  const float em = ImGui::GetFontSize();
  ImGui::TextUnformatted("Show");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 5);
  int page_size = state.form().query.page_size;
  if (ImGui::BeginCombo("##page-size", std::to_string(page_size).c_str())) {
    for (int size : kPageSizes) {
      if (ImGui::Selectable(std::to_string(size).c_str(), size == page_size))
        state.SetPageSize(size);
      RecordWidget("pagesize." + std::to_string(size));
    }
    ImGui::EndCombo();
  }
  RecordWidget("pagesize.combo");
  ImGui::SameLine();
  int page = state.form().query.page;
  int pages = state.PageCount();
  ImGui::BeginDisabled(page <= 1);
  if (ImGui::Button("<"))
    state.SetPage(page - 1);
  RecordWidget("page.prev");
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::Text("Page %d of %d, %zu incidents", page, pages, state.Page().total);
  RecordWidget("page.label");
  ImGui::SameLine();
  ImGui::BeginDisabled(page >= pages);
  if (ImGui::Button(">"))
    state.SetPage(page + 1);
  RecordWidget("page.next");
  ImGui::EndDisabled();

  ImGui::SameLine();
  if (ImGui::Button("Export Data")) {
    ui.export_open = true;
    ui.export_messages = false;
    ui.export_error.clear();
  }
  RecordWidget("export.open");

  float cog = ImGui::GetFrameHeight();
  ImGui::SameLine(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - cog));
  if (CogwheelButton("##columns", cog)) {
    ui.columns_open = !ui.columns_open;
    ui.column_choice.fill(false);
    for (IncidentColumn column : state.visible_columns())
      ui.column_choice[static_cast<size_t>(column)] = true;
  }
  RecordWidget("columns.open");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Choose columns");
}

void DrawColumnChooser(ClientState& state, UiState& ui) {
  if (!ui.columns_open)
    return;
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 16, 0), ImGuiCond_Always);
  ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(display.x - ImGui::GetFontSize(), ImGui::GetFontSize() * 10),
                          ImGuiCond_Appearing, ImVec2(1, 0));
  if (ImGui::Begin("Columns", &ui.columns_open,
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
    for (IncidentColumn column : AllIncidentColumns()) {
      std::string name(DisplayName(column));
      ImGui::Checkbox(name.c_str(), &ui.column_choice[static_cast<size_t>(column)]);
      RecordWidget("columns." + name);
    }
    if (ImGui::Button("Apply")) {
      std::vector<IncidentColumn> chosen;
      for (IncidentColumn column : AllIncidentColumns())
        if (ui.column_choice[static_cast<size_t>(column)])
          chosen.push_back(column);
      if (!chosen.empty()) {
        state.SetVisibleColumns(std::move(chosen));
        ui.columns_open = false;
      }
    }
    RecordWidget("columns.apply");
    ImGui::SameLine();
    if (ImGui::Button("Cancel"))
      ui.columns_open = false;
    RecordWidget("columns.cancel");
  }
  ImGui::End();
}

void DrawHeaders(ClientState& state, const std::vector<IncidentColumn>& columns) {
  ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
  for (size_t i = 0; i < columns.size(); ++i) {
    ImGui::TableSetColumnIndex(static_cast<int>(i));
    IncidentColumn column = columns[i];
    std::string label(DisplayName(column));
    if (state.form().query.sort == column)
      label +=
          state.form().query.direction == SortDirection::kDescending ? u8" \u25BC" : u8" \u25B2";
    ImGui::PushID(static_cast<int>(i));
    ImGui::TableHeader(label.c_str());
    if (ImGui::IsItemClicked())
      state.ToggleSort(column);
    ImGui::PopID();
    RecordWidget("queue.header." + std::string(DisplayName(column)));
    RecordWidget("queue.header." + std::string(ApiName(column)));
    if (const char* short_name = ShortHeaderName(column))
      RecordWidget(std::string("queue.header.") + short_name);
  }
}

}  // namespace

void DrawQueuePanel(ClientState& state, UiState& ui, float height) {
  DrawToolbar(state, ui);
  DrawColumnChooser(state, ui);

  const std::vector<IncidentColumn>& columns = state.visible_columns();
  const QueryPage& page = state.Page();
  ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX |
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                          ImGuiTableFlags_BordersV | ImGuiTableFlags_Resizable;
  float table_height =
      std::max(height - ImGui::GetFrameHeightWithSpacing(), ImGui::GetFrameHeight() * 4);
  if (!ImGui::BeginTable("queue", static_cast<int>(columns.size()), flags, ImVec2(0, table_height)))
    return;
  ImGui::TableSetupScrollFreeze(1, 1);
  for (IncidentColumn column : columns) {
    float width = ImGui::GetFontSize() * (column == IncidentColumn::kIdentifier ? 18.0f
                                          : column == IncidentColumn::kReason   ? 14.0f
                                                                                : 8.5f);
    ImGui::TableSetupColumn(DisplayName(column).data(), ImGuiTableColumnFlags_WidthFixed, width);
  }
  DrawHeaders(state, columns);

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(page.rows.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      uint32_t row = page.rows[static_cast<size_t>(i)];
      ImGui::TableNextRow();
      ImGui::PushID(i);
      for (size_t c = 0; c < columns.size(); ++c) {
        ImGui::TableSetColumnIndex(static_cast<int>(c));
        std::string text = CellText(state, row, columns[c]);
        if (c == 0) {
          if (ImGui::Selectable(text.c_str(), false, ImGuiSelectableFlags_SpanAllColumns)) {
            state.OpenIncident(CellText(state, row, IncidentColumn::kCode));
            ui.restore_choice.clear();
          }
          RecordWidget("queue.row." + CellText(state, row, IncidentColumn::kCode));
        } else {
          ImGui::TextUnformatted(text.c_str());
        }
      }
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
  if (page.rows.empty())
    ImGui::TextDisabled("No incidents match the filters.");
}

}  // namespace reclaim::client
