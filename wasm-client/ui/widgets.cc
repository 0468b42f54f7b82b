#include "wasm-client/ui/widgets.h"

#include <misc/cpp/imgui_stdlib.h>

#include <cmath>

namespace reclaim::client {

bool InputString(const char* label, std::string* text, ImGuiInputTextFlags flags) {
  return ImGui::InputText(label, text, flags);
}

bool InputStringWithHint(const char* label, const char* hint, std::string* text,
                         ImGuiInputTextFlags flags) {
  return ImGui::InputTextWithHint(label, hint, text, flags);
}

bool MagnifierButton(const char* id, float size) {
  bool pressed = ImGui::Button(id, ImVec2(size, size));
  ImVec2 min = ImGui::GetItemRectMin();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  ImU32 color = ImGui::GetColorU32(ImGuiCol_Text);
  float radius = size * 0.22f;
  ImVec2 center(min.x + size * 0.43f, min.y + size * 0.43f);
  float thickness = std::max(1.5f, size * 0.07f);
  draw->AddCircle(center, radius, color, 20, thickness);
  float handle = radius * 0.7071f;
  draw->AddLine(ImVec2(center.x + handle, center.y + handle),
                ImVec2(min.x + size * 0.78f, min.y + size * 0.78f), color, thickness * 1.4f);
  return pressed;
}

bool CogwheelButton(const char* id, float size) {
  bool pressed = ImGui::Button(id, ImVec2(size, size));
  ImVec2 min = ImGui::GetItemRectMin();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  ImU32 color = ImGui::GetColorU32(ImGuiCol_Text);
  ImVec2 center(min.x + size * 0.5f, min.y + size * 0.5f);
  float inner = size * 0.2f;
  float outer = size * 0.33f;
  float thickness = std::max(1.5f, size * 0.08f);
  constexpr int kTeeth = 8;
  for (int i = 0; i < kTeeth; ++i) {
    float angle = static_cast<float>(i) * 6.2831853f / kTeeth;
    draw->AddLine(ImVec2(center.x + std::cos(angle) * inner, center.y + std::sin(angle) * inner),
                  ImVec2(center.x + std::cos(angle) * outer, center.y + std::sin(angle) * outer),
                  color, thickness * 1.3f);
  }
  draw->AddCircle(center, inner, color, 16, thickness);
  return pressed;
}

void ErrorText(const std::string& text) {
  ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(0xE0, 0x40, 0x40, 0xFF));
  ImGui::TextWrapped("%s", text.c_str());
  ImGui::PopStyleColor();
}

void NoticeText(const std::string& text) {
  ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(0x30, 0xA0, 0x50, 0xFF));
  ImGui::TextWrapped("%s", text.c_str());
  ImGui::PopStyleColor();
}

void FieldRow(const char* label, const std::string& value) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextDisabled("%s", label);
  ImGui::TableSetColumnIndex(1);
  ImGui::TextWrapped("%s", value.empty() ? "-" : value.c_str());
}

ImU32 TypeColor(int type_index) {
  static const ImU32 kColors[] = {
      IM_COL32(0x4C, 0x8B, 0xF5, 0xFF), IM_COL32(0xE8, 0x6A, 0x3A, 0xFF),
      IM_COL32(0x3F, 0xB9, 0x6B, 0xFF), IM_COL32(0xC9, 0xA2, 0x27, 0xFF),
      IM_COL32(0xA8, 0x5C, 0xD6, 0xFF)};
  return kColors[type_index % 5];
}

}  // namespace reclaim::client
