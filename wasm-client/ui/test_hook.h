// Widget rectangles for the browser tests' hook (window.reclaimTest.widgets).
//
// Panels call RecordWidget(name) right after a widget the tests use; the
// rectangle comes from ImGui::GetItemRectMin/Max and is stored in CSS pixels
// (ImGui works in device pixels here). The map is rebuilt every frame, so a
// widget that is not drawn is absent.
#pragma once

#include <string>

namespace reclaim::client {

// Starts a frame's map; `pixel_ratio` converts ImGui coordinates to CSS pixels.
void BeginWidgetFrame(float pixel_ratio);
// Publishes the frame's map for WidgetsJson().
void EndWidgetFrame();
void RecordWidget(const std::string& name);
// {"name": {"x":..,"y":..,"w":..,"h":..}, ...} of the last finished frame.
const std::string& WidgetsJson();

}  // namespace reclaim::client
