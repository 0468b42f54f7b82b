// The console's preferences, kept in browser storage between visits.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/columns.h"
#include "shared/query.h"
#include "shared/status.h"

namespace reclaim::client {

enum class Theme : uint8_t { kDark, kLight };
constexpr int kThemeCount = 2;
std::string_view ApiName(Theme theme);  // "dark", "light"

struct Preferences {
  std::string token;  // API token, empty when logged out
  std::vector<IncidentColumn> queue_columns = AllIncidentColumns();  // shown, in order
  int page_size = kDefaultPageSize;
  Theme theme = Theme::kDark;
};

// JSON text: {"columns": [...], "pageSize": 50, "theme": "dark", "token": "..."}.
std::string EncodePreferences(const Preferences& preferences);
// Rejects unknown themes and columns and out-of-range page sizes, naming the
// member, so a damaged file is reported instead of silently reset.
Result<Preferences> DecodePreferences(std::string_view text);

}  // namespace reclaim::client
