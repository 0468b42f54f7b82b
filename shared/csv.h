// CSV writing (RFC 4180) for exports that spreadsheet programs open safely.
//
// Every text cell is quoted with inner quotes doubled; rows end with CRLF.
// With formula neutralising on, a text cell whose first character could
// start a formula (`=`, `+`, `-`, `@`, tab, CR, LF, or the full-width forms
// U+FF1D, U+FF0B, U+FF0D, U+FF20) gets a leading apostrophe. Numeric cells
// are never quoted or prefixed, so `-1` stays a number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/columns.h"
#include "shared/incident.h"
#include "shared/time_util.h"

namespace reclaim {

struct CsvOptions {
  bool byte_order_mark = true;      // UTF-8 BOM first, so Excel reads UTF-8
  bool neutralize_formulas = true;  // off gives the raw export for scripts
};

// Appends cells to a caller-owned string. Not thread-safe; cheap to create.
class CsvWriter {
 public:
  CsvWriter(std::string* out, CsvOptions options);

  // Writes the BOM when the options ask for one. Call once, before any cell.
  void BeginFile();
  void Text(std::string_view value);
  void Integer(int64_t value);
  // Shortest text that reads back as the same double ("0.97", "-0.5").
  void Real(double value);
  // ISO 8601 UTC (`2026-12-04T15:55:54Z`) as a quoted cell; 0 is written as
  // an empty cell, meaning "never".
  void Time(UnixSeconds value);
  void EndRow();

 private:
  void Separate();
  std::string* out_;
  CsvOptions options_;
  bool row_started_ = false;
};

// True when a spreadsheet could read `value` as a formula: it starts with
// `=`, `+`, `-`, `@`, tab, CR, LF or a full-width `=`, `+`, `-`, `@`.
bool StartsFormula(std::string_view value);

// One incident's messages as a CSV file with a header row of the chosen
// columns' display names, in the order given.
std::string ExportMessagesCsv(const std::vector<MessageRow>& rows,
                              const std::vector<MessageColumn>& columns, CsvOptions options);

// Parses a CSV document (with or without a BOM, CRLF or LF rows) into rows of
// unquoted cells. Used to read exports back; errors name the line.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

}  // namespace reclaim
