#include "wasm-client/ui/look.h"

#include <imgui.h>

#include <cstdio>

namespace reclaim::client {
namespace {

// Latin, arrows and geometric shapes (the sort arrows).
const ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x0100, 0x024F, 0x2000, 0x206F,
                                0x2190, 0x21FF, 0x25A0, 0x25FF, 0};

bool FontFileExists() {
  std::FILE* file = std::fopen(kFontPath, "rb");
  if (file == nullptr)
    return false;
  std::fclose(file);
  return true;
}

}  // namespace

void ApplyLook(Theme theme, float pixel_ratio) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig config;
  config.OversampleH = 2;
  if (FontFileExists()) {
    io.Fonts->AddFontFromFileTTF(kFontPath, kBaseFontPixels * pixel_ratio, &config, kGlyphRanges);
  } else {
    // The built-in bitmap font is 13 pixels high; scale it to the base size.
    config.SizePixels = kBaseFontPixels * pixel_ratio;
    io.Fonts->AddFontDefault(&config);
  }

  ImGuiStyle style;
  if (theme == Theme::kDark) {
    ImGui::StyleColorsDark(&style);
  } else {
    ImGui::StyleColorsLight(&style);
  }
  style.FrameRounding = 3.0f;
  style.WindowRounding = 4.0f;
  style.FramePadding = ImVec2(6.0f, 4.0f);
  style.ItemSpacing = ImVec2(8.0f, 6.0f);
  style.ScaleAllSizes(pixel_ratio);
  ImGui::GetStyle() = style;
}

}  // namespace reclaim::client
