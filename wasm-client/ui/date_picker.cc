#include "wasm-client/ui/date_picker.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "shared/time_util.h"
#include "wasm-client/state/client_state.h"
#include "wasm-client/ui/test_hook.h"

namespace reclaim::client {
namespace {

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

// The time being picked. Only one picker is open at a time.
CivilTime& Picking() {
  static CivilTime time;
  return time;
}

int DaysInMonth(int year, int month) {
  CivilDate next = month == 12 ? CivilDate{year + 1, 1, 1} : CivilDate{year, month + 1, 1};
  return static_cast<int>(DaysFromCivil(next) - DaysFromCivil({year, month, 1}));
}

void StepMonth(CivilTime* time, int step) {
  time->date.month += step;
  if (time->date.month < 1) {
    time->date.month = 12;
    --time->date.year;
  } else if (time->date.month > 12) {
    time->date.month = 1;
    ++time->date.year;
  }
  time->date.day = std::min(time->date.day, DaysInMonth(time->date.year, time->date.month));
}

void DrawCalendar(const std::string& name, CivilTime* time) {
  if (ImGui::ArrowButton("##previous", ImGuiDir_Left))
    StepMonth(time, -1);
  RecordWidget(name + ".picker.previous");
  ImGui::SameLine();
  ImGui::Text("%s %d", kMonthNames[time->date.month - 1], time->date.year);
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next", ImGuiDir_Right))
    StepMonth(time, 1);
  RecordWidget(name + ".picker.next");

  // Fixed cell sizes: a table in an auto-sizing popup needs an explicit width.
  const float cell = ImGui::GetFrameHeight() * 1.3f;
  const float width = (cell + ImGui::GetStyle().CellPadding.x * 2) * 7;
  if (!ImGui::BeginTable("days", 7, ImGuiTableFlags_SizingFixedSame, ImVec2(width, 0)))
    return;
  for (const char* weekday : {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"}) {
    ImGui::TableNextColumn();
    ImGui::TextDisabled("%s", weekday);
  }
  // 1970-01-01 was a Thursday, weekday 3 counting from Monday as 0.
  int64_t first = DaysFromCivil({time->date.year, time->date.month, 1});
  int leading = static_cast<int>(((first % 7) + 7 + 3) % 7);
  for (int i = 0; i < leading; ++i)
    ImGui::TableNextColumn();
  int days = DaysInMonth(time->date.year, time->date.month);
  for (int day = 1; day <= days; ++day) {
    ImGui::TableNextColumn();
    char label[8];
    std::snprintf(label, sizeof label, "%d", day);
    if (ImGui::Selectable(label, day == time->date.day, ImGuiSelectableFlags_DontClosePopups,
                          ImVec2(cell, 0)))
      time->date.day = day;
    RecordWidget(name + ".picker.day." + label);
  }
  ImGui::EndTable();
}

}  // namespace

bool DatePickerButton(const std::string& name, std::string* text, const std::string& fallback) {
  ImGui::PushID(name.c_str());
  bool picked = false;
  if (ImGui::Button("Pick")) {
    Result<CivilTime> start = ParseLocalTime(*text, "time");
    if (!start.ok())
      start = ParseLocalTime(fallback, "time");
    Picking() = start.ok() ? *start : CivilTime{};
    ImGui::OpenPopup("picker");
  }
  RecordWidget(name + ".pick");
  if (ImGui::BeginPopup("picker")) {
    CivilTime& time = Picking();
    DrawCalendar(name, &time);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    ImGui::SliderInt("Hour", &time.hour, 0, 23);
    RecordWidget(name + ".picker.hour");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    ImGui::SliderInt("Minute", &time.minute, 0, 59);
    RecordWidget(name + ".picker.minute");
    if (ImGui::Button("OK")) {
      char formatted[40];
      std::snprintf(formatted, sizeof formatted, "%04d-%02d-%02d %02d:%02d", time.date.year,
                    time.date.month, time.date.day, time.hour, time.minute);
      *text = formatted;
      picked = true;
      ImGui::CloseCurrentPopup();
    }
    RecordWidget(name + ".picker.ok");
    ImGui::EndPopup();
  }
  ImGui::PopID();
  return picked;
}

}  // namespace reclaim::client
