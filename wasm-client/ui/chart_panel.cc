// Incidents per day by type, as stacked bars above the queue.
#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

constexpr size_t kMaxDaysShown = 90;
// Fewer days still get narrow bars, drawn at the right end.
constexpr size_t kMinSlots = 30;

std::string DayLabel(int64_t day) {
  CivilDate date = CivilFromDays(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", date.year, date.month, date.day);
  return text;
}

void DrawLegend() {
  for (IncidentType type : kAllIncidentTypes) {
    ImVec2 pos = ImGui::GetCursorScreenPos();
    float size = ImGui::GetTextLineHeight() * 0.7f;
    float offset = (ImGui::GetTextLineHeight() - size) * 0.5f;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(pos.x, pos.y + offset),
                                              ImVec2(pos.x + size, pos.y + offset + size),
                                              TypeColor(static_cast<int>(type)));
    ImGui::Dummy(ImVec2(size, ImGui::GetTextLineHeight()));
    ImGui::SameLine();
    ImGui::TextUnformatted(DisplayName(type).data());
    ImGui::SameLine();
  }
  ImGui::NewLine();
}

}  // namespace

void DrawChartPanel(ClientState& state, UiState&) {
  const DailyTypeCounts& chart = state.Chart();
  const float height = ImGui::GetFontSize() * 5;
  size_t shown = std::min(chart.days.size(), kMaxDaysShown);
  size_t first = chart.days.size() - shown;

  ImGui::TextDisabled("Incidents per day%s", shown == 0 ? ": none match the filters" : "");
  ImGui::SameLine();
  DrawLegend();
  ImVec2 origin = ImGui::GetCursorScreenPos();
  float width = ImGui::GetContentRegionAvail().x;
  ImGui::InvisibleButton("##chart", ImVec2(width, height));
  RecordWidget("chart");
  if (shown == 0)
    return;

  uint32_t max_total = 1;
  for (size_t d = first; d < chart.days.size(); ++d) {
    uint32_t total = 0;
    for (uint32_t count : chart.days[d])
      total += count;
    max_total = std::max(max_total, total);
  }
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRect(origin, ImVec2(origin.x + width, origin.y + height),
                ImGui::GetColorU32(ImGuiCol_Border));
  size_t slots = std::max(shown, kMinSlots);
  float slot = width / static_cast<float>(slots);
  float bar = std::max(1.0f, slot * 0.8f);
  float left = origin.x + static_cast<float>(slots - shown) * slot;
  int hovered = -1;
  if (ImGui::IsItemHovered() && ImGui::GetIO().MousePos.x >= left)
    hovered = static_cast<int>((ImGui::GetIO().MousePos.x - left) / slot);

  for (size_t i = 0; i < shown; ++i) {
    const auto& counts = chart.days[first + i];
    float x = left + static_cast<float>(i) * slot + (slot - bar) * 0.5f;
    float y = origin.y + height;
    for (size_t type = 0; type < counts.size(); ++type) {
      float h = (height - 4) * static_cast<float>(counts[type]) / static_cast<float>(max_total);
      if (h <= 0)
        continue;
      draw->AddRectFilled(ImVec2(x, y - h), ImVec2(x + bar, y), TypeColor(static_cast<int>(type)));
      y -= h;
    }
  }
  if (hovered >= 0 && static_cast<size_t>(hovered) < shown) {
    const auto& counts = chart.days[first + static_cast<size_t>(hovered)];
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(
        DayLabel(chart.first_day + static_cast<int64_t>(first) + hovered).c_str());
    for (IncidentType type : kAllIncidentTypes)
      ImGui::Text("%s: %u", DisplayName(type).data(), counts[static_cast<size_t>(type)]);
    ImGui::EndTooltip();
  }
  ImGui::TextDisabled("%s", DayLabel(chart.first_day + static_cast<int64_t>(first)).c_str());
  ImGui::SameLine(std::max(0.0f, width - ImGui::CalcTextSize("0000-00-00").x));
  ImGui::TextDisabled(
      "%s", DayLabel(chart.first_day + static_cast<int64_t>(chart.days.size()) - 1).c_str());
}

}  // namespace reclaim::client
