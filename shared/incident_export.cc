#include "shared/incident_export.h"

#include <cstring>

namespace reclaim {
namespace {

// Builds one CSV row in a fixed buffer and appends it to the output in one
// call. A queue export writes millions of cells, and per-cell string
// appends (and per-cell date arithmetic) were most of its cost. The cells
// are byte-identical to CsvWriter's.
class RowBuilder {
 public:
  RowBuilder(std::string* out, CsvOptions options) : out_(out), options_(options) {}
  ~RowBuilder() { Flush(); }
  RowBuilder(const RowBuilder&) = delete;
  RowBuilder& operator=(const RowBuilder&) = delete;

  void Text(std::string_view value) {
    Separate();
    // Worst case: every byte a quote, plus the apostrophe and two quotes.
    Reserve(value.size() * 2 + 3);
    buffer_[size_++] = '"';
    if (options_.neutralize_formulas && StartsFormula(value))
      buffer_[size_++] = '\'';
    // Copy the runs between quotes whole; most cells have no quote at all.
    const char* next = value.data();
    const char* end = next + value.size();
    while (next < end) {
      const void* quote = std::memchr(next, '"', static_cast<size_t>(end - next));
      const char* run_end = quote ? static_cast<const char*>(quote) + 1 : end;
      std::memcpy(buffer_ + size_, next, static_cast<size_t>(run_end - next));
      size_ += static_cast<size_t>(run_end - next);
      if (quote)
        buffer_[size_++] = '"';
      next = run_end;
    }
    buffer_[size_++] = '"';
  }

  void Integer(uint32_t value) {
    Separate();
    Reserve(10);
    char digits[10];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0)
      buffer_[size_++] = digits[--count];
  }

  // Same text as CsvWriter::Time; the date part is cached because rows in
  // created order share their day with their neighbours.
  void Time(UnixSeconds value) {
    if (value == 0) {
      Text({});
      return;
    }
    int64_t day =
        value >= 0 ? value / kSecondsPerDay : (value - kSecondsPerDay + 1) / kSecondsPerDay;
    int64_t second_of_day = value - day * kSecondsPerDay;
    if (day != cached_day_) {
      char full[32];
      size_t length = FormatIso8601(day * kSecondsPerDay, full);
      if (length != 20) {  // outside years 0000-9999: no fast form
        Text(std::string_view(full, FormatIso8601(value, full)));
        return;
      }
      std::memcpy(cached_date_, full, 11);  // "YYYY-MM-DDT"
      cached_day_ = day;
    }
    Separate();
    Reserve(22);
    buffer_[size_++] = '"';
    std::memcpy(buffer_ + size_, cached_date_, 11);
    size_ += 11;
    int hour = static_cast<int>(second_of_day / 3600);
    int minute = static_cast<int>(second_of_day / 60 % 60);
    int second = static_cast<int>(second_of_day % 60);
    buffer_[size_++] = static_cast<char>('0' + hour / 10);
    buffer_[size_++] = static_cast<char>('0' + hour % 10);
    buffer_[size_++] = ':';
    buffer_[size_++] = static_cast<char>('0' + minute / 10);
    buffer_[size_++] = static_cast<char>('0' + minute % 10);
    buffer_[size_++] = ':';
    buffer_[size_++] = static_cast<char>('0' + second / 10);
    buffer_[size_++] = static_cast<char>('0' + second % 10);
    buffer_[size_++] = 'Z';
    buffer_[size_++] = '"';
  }

  void EndRow() {
    Reserve(2);
    buffer_[size_++] = '\r';
    buffer_[size_++] = '\n';
    if (size_ > capacity_ / 2)
      Flush();
    row_started_ = false;
  }

 private:
  static constexpr size_t kCapacity = 16384;

  void Separate() {
    if (row_started_) {
      Reserve(1);
      buffer_[size_++] = ',';
    }
    row_started_ = true;
  }

  // Makes room for `bytes`; a cell larger than the buffer goes through a
  // heap buffer of its own size.
  void Reserve(size_t bytes) {
    if (size_ + bytes <= capacity_)
      return;
    Flush();
    if (bytes > capacity_) {
      overflow_.resize(bytes);
      buffer_ = overflow_.data();
      capacity_ = bytes;
    }
  }

  void Flush() {
    out_->append(buffer_, size_);
    size_ = 0;
  }

  std::string* out_;
  CsvOptions options_;
  char inline_[kCapacity];
  char* buffer_ = inline_;
  size_t capacity_ = kCapacity;
  size_t size_ = 0;
  std::string overflow_;
  bool row_started_ = false;
  int64_t cached_day_ = INT64_MIN;
  char cached_date_[11] = {};
};

}  // namespace

void AppendIncidentCsvHeader(const std::vector<IncidentColumn>& columns, CsvOptions options,
                             std::string* out) {
  CsvWriter writer(out, options);
  writer.BeginFile();
  for (IncidentColumn column : columns)
    writer.Text(DisplayName(column));
  writer.EndRow();
}

void AppendIncidentCsvRows(const IncidentStore& store, const uint32_t* rows, size_t count,
                           const std::vector<IncidentColumn>& columns, CsvOptions options,
                           std::string* out) {
  RowBuilder builder(out, options);
  char code[48];
  for (size_t i = 0; i < count; ++i) {
    uint32_t row = rows[i];
    const MessageCounts& counts = store.counts(row);
    for (IncidentColumn column : columns) {
      switch (column) {
        case IncidentColumn::kCode:
          builder.Text(std::string_view(code, store.FormatCode(row, code)));
          break;
        case IncidentColumn::kType:
          builder.Text(DisplayName(store.type(row)));
          break;
        case IncidentColumn::kCreated:
          builder.Time(store.created(row));
          break;
        case IncidentColumn::kModified:
          builder.Time(store.modified(row));
          break;
        case IncidentColumn::kIdentifier:
          builder.Text(store.identifier(row));
          break;
        case IncidentColumn::kReason:
          builder.Text(store.reason(row));
          break;
        case IncidentColumn::kIdentified:
          builder.Integer(counts.identified);
          break;
        case IncidentColumn::kRemoved:
          builder.Integer(counts.removed);
          break;
        case IncidentColumn::kFailed:
          builder.Integer(counts.failed);
          break;
        case IncidentColumn::kRestored:
          builder.Integer(counts.restored);
          break;
      }
    }
    builder.EndRow();
  }
}

std::string ExportIncidentsCsv(const IncidentStore& store, const std::vector<uint32_t>& rows,
                               const std::vector<IncidentColumn>& columns, CsvOptions options) {
  std::string out;
  // About 24 bytes a cell is typical; reserving avoids most regrowth.
  out.reserve(64 + rows.size() * columns.size() * 24);
  AppendIncidentCsvHeader(columns, options, &out);
  AppendIncidentCsvRows(store, rows.data(), rows.size(), columns, options, &out);
  return out;
}

}  // namespace reclaim
