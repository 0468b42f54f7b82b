#include "shared/query_params.h"

#include <charconv>

namespace reclaim {
namespace {

Result<int> ParseInt(const std::string& name, const std::string& text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::Invalid(name, "invalid " + name + " '" + text + "': use a whole number");
  }
  return value;
}

Result<TypeMask> ParseTypes(const std::string& text) {
  TypeMask mask = 0;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string name =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::optional<IncidentType> type = IncidentTypeFromApiName(name);
    if (!type) {
      return Status::Invalid("types", "unknown incident type '" + name +
                                          "': use manual, automatic, restore, notify_only or"
                                          " mep_clawback, separated by commas");
    }
    mask |= TypeBit(*type);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return mask;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size() || HexValue(text[i + 1]) < 0 || HexValue(text[i + 2]) < 0) {
        return Status::Invalid("query", "invalid percent escape in '" + std::string(text) + "'");
      }
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<QueryForm> QueryFormFromParams(const QueryParams& params, UnixSeconds now) {
  QueryForm form;
  Query& query = form.query;
  std::string start_text;
  std::string end_text;
  for (const auto& [name, value] : params) {
    if (name == "field") {
      std::optional<SearchField> field = SearchFieldFromApiName(value);
      if (!field) {
        return Status::Invalid(name,
                               "unknown search field '" + value + "': use all, code or reason");
      }
      query.field = *field;
    } else if (name == "text") {
      query.text = value;
    } else if (name == "types") {
      Result<TypeMask> types = ParseTypes(value);
      if (!types.ok())
        return types.status();
      query.types = *types;
    } else if (name == "range") {
      std::optional<DatePreset> preset = DatePresetFromApiName(value);
      if (!preset) {
        return Status::Invalid(name, "unknown range '" + value +
                                         "': use last_24_hours, last_7_days, last_30_days,"
                                         " last_90_days, last_year or custom");
      }
      form.preset = *preset;
    } else if (name == "start") {
      start_text = value;
    } else if (name == "end") {
      end_text = value;
    } else if (name == "sort") {
      std::optional<IncidentColumn> column = IncidentColumnFromApiName(value);
      if (!column)
        return Status::Invalid(name, "unknown sort column '" + value + "'");
      query.sort = *column;
    } else if (name == "direction") {
      std::optional<SortDirection> direction = SortDirectionFromApiName(value);
      if (!direction) {
        return Status::Invalid(name, "unknown direction '" + value + "': use asc or desc");
      }
      query.direction = *direction;
    } else if (name == "pageSize" || name == "page") {
      Result<int> number = ParseInt(name, value);
      if (!number.ok())
        return number.status();
      (name == "page" ? query.page : query.page_size) = *number;
    } else {
      return Status::Invalid(name, "unknown query parameter '" + name + "'");
    }
  }

  // Start and end make a custom range; with a preset they are an error.
  if (!start_text.empty() || !end_text.empty()) {
    if (form.preset && *form.preset != DatePreset::kCustom) {
      return Status::Invalid("range", "start and end go with range=custom, not with a preset");
    }
    form.preset = DatePreset::kCustom;
  }
  if (form.preset == DatePreset::kCustom) {
    if (start_text.empty())
      return Status::Invalid("start", "missing start for the custom range");
    if (end_text.empty())
      return Status::Invalid("end", "missing end for the custom range");
    Result<UnixSeconds> start = ParseIso8601(start_text, "start");
    if (!start.ok())
      return start.status();
    Result<UnixSeconds> end = ParseIso8601(end_text, "end");
    if (!end.ok())
      return end.status();
    Result<TimeRange> range = RangeForInstants(*start, *end);
    if (!range.ok())
      return range.status();
    form.custom_start = *start;
    form.custom_end = *end;
    query.created = *range;
  } else if (form.preset) {
    Result<TimeRange> range = RangeForPreset(*form.preset, now);
    if (!range.ok())
      return range.status();
    query.created = *range;
  }
  if (Status s = ValidateQuery(query); !s.ok())
    return s;
  return form;
}

QueryParams ParamsFromQueryForm(const QueryForm& form) {
  const Query& query = form.query;
  const Query defaults;
  QueryParams params;
  if (query.field != defaults.field)
    params.emplace_back("field", ApiName(query.field));
  if (!query.text.empty())
    params.emplace_back("text", query.text);
  if (query.types != defaults.types) {
    std::string types;
    for (IncidentType type : kAllIncidentTypes) {
      if ((query.types & TypeBit(type)) == 0)
        continue;
      if (!types.empty())
        types += ',';
      types += ApiName(type);
    }
    params.emplace_back("types", types);
  }
  if (form.preset) {
    params.emplace_back("range", ApiName(*form.preset));
    if (*form.preset == DatePreset::kCustom) {
      params.emplace_back("start", FormatIso8601(form.custom_start));
      params.emplace_back("end", FormatIso8601(form.custom_end));
    }
  }
  if (query.sort != defaults.sort)
    params.emplace_back("sort", ApiName(query.sort));
  if (query.direction != defaults.direction) {
    params.emplace_back("direction", ApiName(query.direction));
  }
  if (query.page_size != defaults.page_size) {
    params.emplace_back("pageSize", std::to_string(query.page_size));
  }
  if (query.page != defaults.page)
    params.emplace_back("page", std::to_string(query.page));
  return params;
}

std::string EncodeQueryParams(const QueryParams& params) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty())
      out += '&';
    for (const std::string* part : {&name, &value}) {
      for (unsigned char c : *part) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      if (part == &name)
        out += '=';
    }
  }
  return out;
}

Result<QueryParams> DecodeQueryParams(std::string_view text) {
  QueryParams params;
  if (!text.empty() && text.front() == '?')
    text.remove_prefix(1);
  size_t start = 0;
  while (start < text.size()) {
    size_t amp = text.find('&', start);
    std::string_view pair =
        text.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      Result<std::string> name = PercentDecode(pair.substr(0, eq));
      if (!name.ok())
        return name.status();
      Result<std::string> value =
          PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value.ok())
        return value.status();
      params.emplace_back(*name, *value);
    }
    if (amp == std::string_view::npos)
      break;
    start = amp + 1;
  }
  return params;
}

}  // namespace reclaim
