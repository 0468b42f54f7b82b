// Search, date range and type filters above the queue.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

void DrawSearch(ClientState& state, UiState& ui) {
  const float em = ImGui::GetFontSize();
  ImGui::SetNextItemWidth(em * 8);
  const char* current = DisplayName(static_cast<SearchField>(ui.search_field)).data();
  if (ImGui::BeginCombo("##search-field", current)) {
    for (int i = 0; i < kSearchFieldCount; ++i) {
      std::string name(DisplayName(static_cast<SearchField>(i)));
      if (ImGui::Selectable(name.c_str(), ui.search_field == i))
        ui.search_field = i;
      RecordWidget("search.field." + name);
    }
    ImGui::EndCombo();
  }
  RecordWidget("search.field");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(em * 20);
  bool run = InputStringWithHint("##search-text", "Search incidents", &ui.search_text,
                                 ImGuiInputTextFlags_EnterReturnsTrue);
  RecordWidget("search.text");
  ImGui::SameLine();
  run |= MagnifierButton("##search-run", ImGui::GetFrameHeight());
  RecordWidget("search.run");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Search");
  if (run)
    state.RunSearch(static_cast<SearchField>(ui.search_field), ui.search_text);
}

void DrawRange(ClientState& state, UiState& ui) {
  const float em = ImGui::GetFontSize();
  const std::optional<DatePreset>& preset = state.form().preset;
  std::string current = preset ? std::string(DisplayName(*preset)) : "All time";
  ImGui::SetNextItemWidth(em * 10);
  if (ImGui::BeginCombo("##range", current.c_str())) {
    if (ImGui::Selectable("All time", !preset))
      state.SetPreset(std::nullopt);
    RecordWidget("range.All time");
    for (int i = 0; i < kDatePresetCount; ++i) {
      auto option = static_cast<DatePreset>(i);
      std::string name(DisplayName(option));
      if (ImGui::Selectable(name.c_str(), preset == option)) {
        state.SetPreset(option);
        if (option == DatePreset::kCustom) {
          ui.range_from = FormatLocalTime(state.zone(), state.form().custom_start);
          ui.range_to = FormatLocalTime(state.zone(), state.form().custom_end);
        }
      }
      RecordWidget("range." + name);
    }
    ImGui::EndCombo();
  }
  RecordWidget("range.combo");

  if (preset == DatePreset::kCustom) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(em * 9);
    bool apply = InputStringWithHint("##range-from", "YYYY-MM-DD HH:MM", &ui.range_from,
                                     ImGuiInputTextFlags_EnterReturnsTrue);
    RecordWidget("range.from");
    ImGui::SameLine();
    ImGui::TextUnformatted("to");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(em * 9);
    apply |= InputStringWithHint("##range-to", "YYYY-MM-DD HH:MM", &ui.range_to,
                                 ImGuiInputTextFlags_EnterReturnsTrue);
    RecordWidget("range.to");
    ImGui::SameLine();
    apply |= ImGui::Button("Apply range");
    RecordWidget("range.apply");
    if (apply) {
      Status status = state.SetCustomRange(ui.range_from, ui.range_to);
      ui.range_error = status.ok() ? "" : status.message();
    }
  }
  ImGui::SameLine();
  ImGui::TextDisabled("Times in %s", state.zone().Name().c_str());
  RecordWidget("range.zone");
  if (preset == DatePreset::kCustom && !ui.range_error.empty())
    ErrorText(ui.range_error);
}

void DrawTypes(ClientState& state) {
  ImGui::TextUnformatted("Filters:");
  for (IncidentType type : kAllIncidentTypes) {
    ImGui::SameLine();
    bool enabled = (state.form().query.types & TypeBit(type)) != 0;
    std::string name(DisplayName(type));
    ImGui::PushStyleColor(ImGuiCol_CheckMark, TypeColor(static_cast<int>(type)));
    if (ImGui::Checkbox(name.c_str(), &enabled))
      state.SetTypeEnabled(type, enabled);
    ImGui::PopStyleColor();
    RecordWidget("type." + name);
  }
}

}  // namespace

void DrawFiltersBar(ClientState& state, UiState& ui) {
  DrawSearch(state, ui);
  ImGui::SameLine(0, ImGui::GetFontSize() * 1.5f);
  DrawRange(state, ui);
  DrawTypes(state);
}

}  // namespace reclaim::client
