// A calendar and time picker for local times typed as "YYYY-MM-DD HH:MM".
#pragma once

#include <string>

namespace reclaim::client {

// Draws a "Pick" button that opens a month calendar with hour and minute
// sliders, starting from the time in `text` (or `fallback` when `text` does
// not parse). Returns true when the user clicked OK; the picked time is
// then written into `text`. `name` prefixes the widget names for the test
// hook ("range.from" gives "range.from.pick", "range.from.picker.day.3").
bool DatePickerButton(const std::string& name, std::string* text, const std::string& fallback);

}  // namespace reclaim::client
