// Small drawing helpers shared by the panels.
#pragma once

#include <imgui.h>

#include <string>

namespace reclaim::client {

// ImGui::InputText on a std::string (it grows as the user types).
bool InputString(const char* label, std::string* text, ImGuiInputTextFlags flags = 0);
bool InputStringWithHint(const char* label, const char* hint, std::string* text,
                         ImGuiInputTextFlags flags = 0);
// A square button with a magnifier drawn in it.
bool MagnifierButton(const char* id, float size);
// A square button with a cogwheel drawn in it.
bool CogwheelButton(const char* id, float size);
// Text in the theme's colour for errors or for success.
void ErrorText(const std::string& text);
void NoticeText(const std::string& text);
// A label and its value on one line of a two-column table.
void FieldRow(const char* label, const std::string& value);
// The colour of an incident type in the chart and its legend.
ImU32 TypeColor(int type_index);

}  // namespace reclaim::client
