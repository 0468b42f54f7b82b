// The query as URL parameters, used by the sync API and by the browser
// client's page address (so a filtered view can be bookmarked).
//
//   field=all|code|reason  text=...  types=manual,automatic,...
//   range=last_24_hours|last_7_days|last_30_days|last_90_days|last_year|custom
//   start=ISO 8601, end=ISO 8601 (with range=custom, both inclusive)
//   sort=<column API name>  direction=asc|desc  pageSize=50..300  page=1..
//
// Absent parameters take the defaults of Query; an absent range means all
// time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shared/date_range.h"
#include "shared/query.h"

namespace reclaim {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The query and the range parameters it came from: a preset range is kept
// as its name, so it moves with the clock when the view is reloaded.
struct QueryForm {
  Query query;
  std::optional<DatePreset> preset;  // none: all time
  UnixSeconds custom_start = 0;      // with DatePreset::kCustom, inclusive
  UnixSeconds custom_end = 0;        // with DatePreset::kCustom, inclusive
};

// Parses parameters; unknown names and bad values are errors naming the
// parameter. `now` resolves preset ranges.
Result<QueryForm> QueryFormFromParams(const QueryParams& params, UnixSeconds now);

// The parameters for a form, omitting defaults.
QueryParams ParamsFromQueryForm(const QueryForm& form);

// Percent-encodes for a URL query string and back (`+` reads as a space).
std::string EncodeQueryParams(const QueryParams& params);
Result<QueryParams> DecodeQueryParams(std::string_view text);

}  // namespace reclaim
