#include "shared/incident_export.h"

namespace reclaim {

void AppendIncidentCsvHeader(const std::vector<IncidentColumn>& columns, CsvOptions options,
                             std::string* out) {
  CsvWriter writer(out, options);
  writer.BeginFile();
  for (IncidentColumn column : columns) writer.Text(DisplayName(column));
  writer.EndRow();
}

void AppendIncidentCsvRows(const IncidentStore& store, const uint32_t* rows, size_t count,
                           const std::vector<IncidentColumn>& columns, CsvOptions options,
                           std::string* out) {
  CsvWriter writer(out, options);
  char code[48];
  for (size_t i = 0; i < count; ++i) {
    uint32_t row = rows[i];
    const MessageCounts& counts = store.counts(row);
    for (IncidentColumn column : columns) {
      switch (column) {
        case IncidentColumn::kCode:
          writer.Text(std::string_view(code, store.FormatCode(row, code)));
          break;
        case IncidentColumn::kType:
          writer.Text(DisplayName(store.type(row)));
          break;
        case IncidentColumn::kCreated:
          writer.Time(store.created(row));
          break;
        case IncidentColumn::kModified:
          writer.Time(store.modified(row));
          break;
        case IncidentColumn::kIdentifier:
          writer.Text(store.identifier(row));
          break;
        case IncidentColumn::kReason:
          writer.Text(store.reason(row));
          break;
        case IncidentColumn::kIdentified:
          writer.Integer(counts.identified);
          break;
        case IncidentColumn::kRemoved:
          writer.Integer(counts.removed);
          break;
        case IncidentColumn::kFailed:
          writer.Integer(counts.failed);
          break;
        case IncidentColumn::kRestored:
          writer.Integer(counts.restored);
          break;
      }
    }
    writer.EndRow();
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
