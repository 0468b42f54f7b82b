#include "wasm-client/ui/test_hook.h"

#include <imgui.h>

#include <map>
#include <nlohmann/json.hpp>

namespace reclaim::client {
namespace {

struct Rect {
  float x, y, w, h;
};

struct WidgetMap {
  float pixel_ratio = 1.0f;
  std::map<std::string, Rect> building;
  std::string published = "{}";
};

WidgetMap& Widgets() {
  static WidgetMap widgets;
  return widgets;
}

}  // namespace

void BeginWidgetFrame(float pixel_ratio) {
  Widgets().pixel_ratio = pixel_ratio > 0 ? pixel_ratio : 1.0f;
  Widgets().building.clear();
}

void EndWidgetFrame() {
  nlohmann::json map = nlohmann::json::object();
  for (const auto& [name, rect] : Widgets().building)
    map[name] = {{"x", rect.x}, {"y", rect.y}, {"w", rect.w}, {"h", rect.h}};
  Widgets().published = map.dump();
}

void RecordWidget(const std::string& name) {
  // A widget scrolled out of its window's clip area cannot be clicked.
  if (!ImGui::IsItemVisible())
    return;
  ImVec2 min = ImGui::GetItemRectMin();
  ImVec2 max = ImGui::GetItemRectMax();
  float scale = Widgets().pixel_ratio;
  Widgets().building[name] = {min.x / scale, min.y / scale, (max.x - min.x) / scale,
                              (max.y - min.y) / scale};
}

const std::string& WidgetsJson() {
  return Widgets().published;
}

}  // namespace reclaim::client
