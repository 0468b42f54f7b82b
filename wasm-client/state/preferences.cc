#include "wasm-client/state/preferences.h"

#include <nlohmann/json.hpp>

#include "shared/json_values.h"

namespace reclaim::client {
namespace {

constexpr std::array<std::string_view, kThemeCount> kThemeNames = {"dark", "light"};
static_assert(kThemeNames.size() == kThemeCount);

}  // namespace

std::string_view ApiName(Theme theme) {
  return kThemeNames[static_cast<size_t>(theme)];
}

std::string EncodePreferences(const Preferences& preferences) {
  nlohmann::json columns = nlohmann::json::array();
  for (IncidentColumn column : preferences.queue_columns)
    columns.push_back(std::string(ApiName(column)));
  nlohmann::json value = {{"token", preferences.token},
                          {"columns", columns},
                          {"pageSize", preferences.page_size},
                          {"theme", std::string(ApiName(preferences.theme))}};
  return DumpJson(value);
}

Result<Preferences> DecodePreferences(std::string_view text) {
  Result<nlohmann::json> value = ParseJson(text);
  if (!value.ok())
    return value.status();
  if (!value->is_object())
    return Status::Invalid("preferences", "preferences are not an object");
  Preferences preferences;
  const nlohmann::json& object = *value;

  if (auto it = object.find("token"); it != object.end()) {
    if (!it->is_string())
      return Status::Invalid("token", "token is not a string");
    preferences.token = it->get<std::string>();
  }
  if (auto it = object.find("columns"); it != object.end()) {
    if (!it->is_array())
      return Status::Invalid("columns", "columns is not an array");
    preferences.queue_columns.clear();
    for (const nlohmann::json& name : *it) {
      std::optional<IncidentColumn> column =
          name.is_string() ? IncidentColumnFromApiName(name.get<std::string>()) : std::nullopt;
      if (!column)
        return Status::Invalid("columns", "unknown column " + name.dump());
      preferences.queue_columns.push_back(*column);
    }
  }
  if (auto it = object.find("pageSize"); it != object.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < kMinPageSize ||
        it->get<int64_t>() > kMaxPageSize) {
      return Status::Invalid("pageSize", "page size " + it->dump() + " is not 50 to 300");
    }
    preferences.page_size = it->get<int>();
  }
  if (auto it = object.find("theme"); it != object.end()) {
    std::string name = it->is_string() ? it->get<std::string>() : it->dump();
    if (name == ApiName(Theme::kDark)) {
      preferences.theme = Theme::kDark;
    } else if (name == ApiName(Theme::kLight)) {
      preferences.theme = Theme::kLight;
    } else {
      return Status::Invalid("theme", "unknown theme " + name + ": use dark or light");
    }
  }
  return preferences;
}

}  // namespace reclaim::client
