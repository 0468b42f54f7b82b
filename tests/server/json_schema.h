// A JSON Schema validator for the subset that docs/openapi.json uses
// (OpenAPI 3.0 schema objects): type with nullable, properties, required,
// additionalProperties, items, minItems, maxItems, enum, oneOf, pattern,
// minimum, maximum, format date-time and local $ref into the document.
//
// A schema keyword outside that subset is reported as an error instead of
// being ignored, so the document cannot state a rule that no test checks.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace reclaim::testing {

// Whether `text` is an RFC 3339 date-time (the JSON Schema "date-time"
// format), with a valid calendar date and time of day.
inline bool IsRfc3339DateTime(const std::string& text) {
  static const std::regex kShape(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$)");
  std::smatch parts;
  if (!std::regex_match(text, parts, kShape))
    return false;
  const int year = std::stoi(parts[1]);
  const int month = std::stoi(parts[2]);
  const int day = std::stoi(parts[3]);
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days_in_month[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1])
    return false;
  // RFC 3339 allows second 60 for a leap second.
  if (std::stoi(parts[4]) > 23 || std::stoi(parts[5]) > 59 || std::stoi(parts[6]) > 60) {
    return false;
  }
  if (parts[9].matched && (std::stoi(parts[9]) > 23 || std::stoi(parts[10]) > 59))
    return false;
  return true;
}

class SchemaValidator {
 public:
  // `document` resolves "#/..." references and must outlive the validator.
  explicit SchemaValidator(const nlohmann::json& document) : document_(document) {}

  // Returns the problems of `value` against `schema`, each as
  // "<JSON pointer>: <problem>"; empty when the value is valid.
  std::vector<std::string> Validate(const nlohmann::json& value,
                                    const nlohmann::json& schema) const {
    std::vector<std::string> errors;
    Check(value, schema, "", &errors);
    return errors;
  }

 private:
  using json = nlohmann::json;

  static void Fail(const std::string& path, const std::string& problem,
                   std::vector<std::string>* errors) {
    errors->push_back((path.empty() ? "/" : path) + ": " + problem);
  }

  // Follows a "#/a/b" reference through the document.
  const json* Resolve(const std::string& reference) const {
    if (reference.rfind("#/", 0) != 0)
      return nullptr;
    const json* node = &document_;
    size_t start = 2;
    while (start <= reference.size()) {
      size_t slash = reference.find('/', start);
      std::string key = reference.substr(start, slash == std::string::npos ? slash : slash - start);
      if (!node->is_object() || !node->contains(key))
        return nullptr;
      node = &node->at(key);
      if (slash == std::string::npos)
        break;
      start = slash + 1;
    }
    return node;
  }

  static bool HasType(const json& value, const std::string& type) {
    if (type == "object")
      return value.is_object();
    if (type == "array")
      return value.is_array();
    if (type == "string")
      return value.is_string();
    if (type == "integer")
      return value.is_number_integer();
    if (type == "number")
      return value.is_number();
    if (type == "boolean")
      return value.is_boolean();
    return false;
  }

  void Check(const json& value, const json& schema, const std::string& path,
             std::vector<std::string>* errors) const {
    static const std::set<std::string> kKnown = {
        "$ref",    "type",     "nullable", "properties", "required", "additionalProperties",
        "items",   "minItems", "maxItems", "enum",       "oneOf",    "pattern",
        "minimum", "maximum",  "format",   "description"};
    if (!schema.is_object())
      return Fail(path, "schema is not an object: " + schema.dump(), errors);
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      if (kKnown.count(it.key()) == 0) {
        Fail(path, "schema keyword '" + it.key() + "' is not supported by the validator", errors);
      }
    }

    if (schema.contains("$ref")) {
      const json* target = Resolve(schema.at("$ref").get<std::string>());
      if (target == nullptr)
        return Fail(path, "unresolved " + schema.at("$ref").dump(), errors);
      return Check(value, *target, path, errors);
    }
    if (value.is_null() && schema.value("nullable", false))
      return;
    if (schema.contains("type")) {
      const std::string type = schema.at("type").get<std::string>();
      if (!HasType(value, type)) {
        return Fail(path, "expected " + type + ", got " + value.dump(), errors);
      }
    }
    if (schema.contains("enum")) {
      bool listed = false;
      for (const json& allowed : schema.at("enum"))
        listed = listed || allowed == value;
      if (!listed)
        Fail(path, value.dump() + " is not one of " + schema.at("enum").dump(), errors);
    }
    if (schema.contains("oneOf"))
      CheckOneOf(value, schema.at("oneOf"), path, errors);
    if (value.is_string())
      CheckString(value.get<std::string>(), schema, path, errors);
    if (value.is_number())
      CheckNumber(value, schema, path, errors);
    if (value.is_array())
      CheckArray(value, schema, path, errors);
    if (value.is_object())
      CheckObject(value, schema, path, errors);
  }

  void CheckOneOf(const json& value, const json& choices, const std::string& path,
                  std::vector<std::string>* errors) const {
    int passed = 0;
    std::string reasons;
    for (const json& choice : choices) {
      std::vector<std::string> choice_errors;
      Check(value, choice, path, &choice_errors);
      if (choice_errors.empty()) {
        ++passed;
      } else {
        reasons += " [" + choice_errors.front() + "]";
      }
    }
    if (passed != 1) {
      Fail(path,
           "matches " + std::to_string(passed) + " of the oneOf choices, expected 1;" + reasons,
           errors);
    }
  }

  static void CheckString(const std::string& text, const json& schema, const std::string& path,
                          std::vector<std::string>* errors) {
    if (schema.contains("pattern")) {
      const std::string pattern = schema.at("pattern").get<std::string>();
      if (!std::regex_search(text, std::regex(pattern))) {
        Fail(path, "'" + text + "' does not match " + pattern, errors);
      }
    }
    if (schema.contains("format")) {
      const std::string format = schema.at("format").get<std::string>();
      if (format != "date-time") {
        Fail(path, "format '" + format + "' is not supported by the validator", errors);
      } else if (!IsRfc3339DateTime(text)) {
        Fail(path, "'" + text + "' is not an RFC 3339 date-time", errors);
      }
    }
  }

  static void CheckNumber(const json& value, const json& schema, const std::string& path,
                          std::vector<std::string>* errors) {
    const double number = value.get<double>();
    if (schema.contains("minimum") && number < schema.at("minimum").get<double>()) {
      Fail(path, value.dump() + " is below the minimum " + schema.at("minimum").dump(), errors);
    }
    if (schema.contains("maximum") && number > schema.at("maximum").get<double>()) {
      Fail(path, value.dump() + " is above the maximum " + schema.at("maximum").dump(), errors);
    }
  }

  void CheckArray(const json& value, const json& schema, const std::string& path,
                  std::vector<std::string>* errors) const {
    if (schema.contains("minItems") && value.size() < schema.at("minItems").get<size_t>()) {
      Fail(path, std::to_string(value.size()) + " items, fewer than minItems", errors);
    }
    if (schema.contains("maxItems") && value.size() > schema.at("maxItems").get<size_t>()) {
      Fail(path, std::to_string(value.size()) + " items, more than maxItems", errors);
    }
    if (!schema.contains("items"))
      return;
    for (size_t i = 0; i < value.size(); ++i) {
      Check(value[i], schema.at("items"), path + "/" + std::to_string(i), errors);
    }
  }

  void CheckObject(const json& value, const json& schema, const std::string& path,
                   std::vector<std::string>* errors) const {
    const json properties = schema.value("properties", json::object());
    for (const json& name : schema.value("required", json::array())) {
      if (!value.contains(name.get<std::string>())) {
        Fail(path, "missing required member " + name.dump(), errors);
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string member_path = path + "/" + it.key();
      if (properties.contains(it.key())) {
        Check(it.value(), properties.at(it.key()), member_path, errors);
        continue;
      }
      if (!schema.contains("additionalProperties"))
        continue;
      const json& additional = schema.at("additionalProperties");
      if (additional.is_boolean()) {
        if (!additional.get<bool>())
          Fail(path, "member '" + it.key() + "' is not declared", errors);
      } else {
        Check(it.value(), additional, member_path, errors);
      }
    }
  }

  const nlohmann::json& document_;
};

}  // namespace reclaim::testing
