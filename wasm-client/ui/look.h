// Fonts, theme colours and HiDPI scaling of the console.
#pragma once

#include "wasm-client/state/preferences.h"

namespace reclaim::client {

constexpr float kBaseFontPixels = 16.0f;  // in CSS pixels, before the device pixel ratio
constexpr const char* kFontPath = "/fonts/DejaVuSans.ttf";  // embedded by the build

// Rebuilds the font atlas and the style for `theme` at `pixel_ratio`. The
// renderer's font texture must be recreated afterwards.
void ApplyLook(Theme theme, float pixel_ratio);

}  // namespace reclaim::client
