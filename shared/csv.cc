#include "shared/csv.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace reclaim {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

// This runs once per text cell, so the full-width forms U+FF1D (=), U+FF0B
// (+), U+FF0D (-) and U+FF20 (@) are matched by their UTF-8 bytes EF BC 9D,
// EF BC 8B, EF BC 8D and EF BC A0.
bool StartsFormula(std::string_view value) {
  if (value.empty())
    return false;
  switch (value[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
    case '\n':
      return true;
    case '\xEF':
      break;
    default:
      return false;
  }
  if (value.size() < 3 || value[1] != '\xBC')
    return false;
  switch (value[2]) {
    case '\x9D':
    case '\x8B':
    case '\x8D':
    case '\xA0':
      return true;
    default:
      return false;
  }
}

namespace {

// Appends `value` with every quote doubled, copying the runs between quotes
// in one call each instead of byte by byte.
void AppendEscaped(std::string_view value, std::string* out) {
  size_t begin = 0;
  for (size_t quote = value.find('"'); quote != std::string_view::npos;
       quote = value.find('"', begin)) {
    out->append(value.data() + begin, quote + 1 - begin);
    out->push_back('"');
    begin = quote + 1;
  }
  out->append(value.data() + begin, value.size() - begin);
}

// Writes the shortest %.<p>g text that strtod reads back as `value`. For
// normal doubles any decimal of at most DBL_DIG (15) significant digits
// survives a round trip through a double, so %.15g is already the shortest
// form whenever it round-trips, and %.17g always round-trips. Subnormals
// (and zero) carry fewer digits, so for them the search starts at one.
// std::to_chars would be faster, but Emscripten 3.1.6's libc++ has no
// floating-point overload, and one code path keeps native and browser
// exports byte-identical.
// NOTE: %.16g is the closest 16-digit decimal, and next to a power of two a
// farther 16-digit decimal can round-trip when the closest does not. There
// the output has 17 digits where std::to_chars would print 16.
// NOTE: snprintf and strtod follow LC_NUMERIC, so a process that sets a
// locale with a decimal comma would get commas here.
size_t FormatShortestDouble(double value, char* buffer, size_t size) {
  const int first_precision = std::fabs(value) < DBL_MIN ? 1 : DBL_DIG;
  int length = 0;
  for (int precision = first_precision; precision <= 17; ++precision) {
    length = std::snprintf(buffer, size, "%.*g", precision, value);
    if (precision == 17 || std::strtod(buffer, nullptr) == value)
      break;
  }
  return static_cast<size_t>(length);
}

}  // namespace

CsvWriter::CsvWriter(std::string* out, CsvOptions options) : out_(out), options_(options) {}

void CsvWriter::BeginFile() {
  if (options_.byte_order_mark)
    out_->append(kByteOrderMark);
}

void CsvWriter::Separate() {
  if (row_started_)
    out_->push_back(',');
  row_started_ = true;
}

void CsvWriter::Text(std::string_view value) {
  Separate();
  out_->push_back('"');
  if (options_.neutralize_formulas && StartsFormula(value))
    out_->push_back('\'');
  AppendEscaped(value, out_);
  out_->push_back('"');
}

void CsvWriter::Integer(int64_t value) {
  Separate();
  char buffer[24];  // 20 characters cover INT64_MIN
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_->append(buffer, result.ptr);
}

void CsvWriter::Real(double value) {
  Separate();
  // NaN and the infinities have no number form that spreadsheets read, so
  // they are left empty.
  if (!std::isfinite(value))
    return;
  char buffer[32];  // %.17g needs at most 24 characters: -d.dddddddddddddddde-ddd
  out_->append(buffer, FormatShortestDouble(value, buffer, sizeof(buffer)));
}

void CsvWriter::Time(UnixSeconds value) {
  if (value == 0) {
    Text({});
    return;
  }
  // FormatIso8601 writes 20 bytes for years 0000 to 9999 and the longer
  // signed form (`+010000-...`) outside them, so 32 bytes cover both.
  char buffer[32];
  const size_t length = FormatIso8601(value, buffer);
  // Text() still neutralises, because the signed form starts with + or -.
  Text(std::string_view(buffer, length));
}

void CsvWriter::EndRow() {
  out_->append("\r\n");
  row_started_ = false;
}

namespace {

void WriteMessageCell(const MessageRow& row, MessageColumn column, CsvWriter* writer) {
  switch (column) {
    case MessageColumn::kRecipient:
      return writer->Text(row.recipient);
    case MessageColumn::kSender:
      return writer->Text(row.sender);
    case MessageColumn::kSubject:
      return writer->Text(row.subject);
    case MessageColumn::kDelivered:
      return writer->Time(row.delivered);
    case MessageColumn::kMailbox:
      return writer->Text(row.mailbox);
    case MessageColumn::kFolder:
      return writer->Text(row.folder);
    case MessageColumn::kMovedTo:
      return writer->Text(row.moved_to);
    case MessageColumn::kStatus:
      return writer->Text(DisplayName(row.status));
    case MessageColumn::kFailureReason:
      // FailureDisplay copies the text, so rows without a failure skip it.
      if (row.failure == FailureReason::kNone)
        return writer->Text({});
      return writer->Text(FailureDisplay(row));
    case MessageColumn::kLastAction:
      return writer->Time(row.last_action);
  }
  // A value outside the enum still gets a cell, so the columns stay aligned.
  writer->Text({});
}

}  // namespace

std::string ExportMessagesCsv(const std::vector<MessageRow>& rows,
                              const std::vector<MessageColumn>& columns, CsvOptions options) {
  std::string out;
  // An estimate of 32 bytes a cell saves most of the regrowth on large exports.
  out.reserve((rows.size() + 1) * columns.size() * 32 + 8);
  CsvWriter writer(&out, options);
  writer.BeginFile();

  for (MessageColumn column : columns)
    writer.Text(DisplayName(column));
  writer.EndRow();

  for (const MessageRow& row : rows) {
    for (MessageColumn column : columns)
      WriteMessageCell(row, column, &writer);
    writer.EndRow();
  }
  return out;
}

namespace {

Status CsvError(size_t line, const std::string& problem) {
  return Status::Invalid("line " + std::to_string(line),
                         "invalid CSV on line " + std::to_string(line) + ": " + problem);
}

// Reads one quoted cell starting after its opening quote. On return `*pos`
// is just past the closing quote and `*line` counts the line breaks inside.
Status ReadQuotedCell(std::string_view text, size_t* pos, size_t* line, std::string* cell) {
  const size_t opening_line = *line;
  while (*pos < text.size()) {
    const size_t quote = text.find('"', *pos);
    if (quote == std::string_view::npos)
      break;
    const std::string_view run = text.substr(*pos, quote - *pos);
    for (char c : run)
      *line += c == '\n' ? 1 : 0;
    cell->append(run);

    // A doubled quote is one literal quote, and a single one closes the cell.
    if (quote + 1 < text.size() && text[quote + 1] == '"') {
      cell->push_back('"');
      *pos = quote + 2;
      continue;
    }
    *pos = quote + 1;
    return Status::Ok();
  }
  return CsvError(opening_line, "a quoted cell is never closed; add the closing '\"'");
}

}  // namespace

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    text.remove_prefix(kByteOrderMark.size());
  }

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  size_t line = 1;
  size_t pos = 0;

  // Each pass reads one cell and the separator or line break after it.
  while (pos < text.size()) {
    // Step 1: the cell itself, quoted or plain.
    cell.clear();
    if (text[pos] == '"') {
      ++pos;
      Status status = ReadQuotedCell(text, &pos, &line, &cell);
      if (!status.ok())
        return status;
    } else {
      const size_t end = text.find_first_of(",\r\n\"", pos);
      const size_t stop = end == std::string_view::npos ? text.size() : end;
      cell.assign(text.substr(pos, stop - pos));
      pos = stop;
      if (pos < text.size() && text[pos] == '"') {
        return CsvError(line,
                        "a '\"' inside an unquoted cell; quote the whole cell and double "
                        "the inner quotes");
      }
    }
    row.push_back(cell);

    // Step 2: what follows the cell decides whether the row goes on.
    if (pos == text.size())
      break;
    const char next = text[pos];
    if (next == ',') {
      ++pos;
      // A separator at the very end still opens one last, empty cell.
      if (pos == text.size())
        row.emplace_back();
      continue;
    }
    if (next == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') {
      pos += 2;
    } else if (next == '\n') {
      pos += 1;
    } else if (next == '\r') {
      return CsvError(line, "a carriage return not followed by a line feed outside quotes");
    } else {
      return CsvError(line, std::string("unexpected '") + next +
                                "' after a quoted cell; expected ',' or a line break");
    }
    rows.push_back(std::move(row));
    row.clear();
    ++line;
  }

  if (!row.empty())
    rows.push_back(std::move(row));
  return rows;
}

}  // namespace reclaim
