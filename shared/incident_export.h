// CSV export of the incident queue: the chosen columns of the given rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/columns.h"
#include "shared/csv.h"
#include "shared/incident_store.h"

namespace reclaim {

// Appends the header row (display names of `columns`, in that order), with
// the BOM first when the options ask for one.
void AppendIncidentCsvHeader(const std::vector<IncidentColumn>& columns, CsvOptions options,
                             std::string* out);

// Appends one CSV row per store row in `rows`, without a header. Servers
// call this in chunks to stream a large export.
void AppendIncidentCsvRows(const IncidentStore& store, const uint32_t* rows, size_t count,
                           const std::vector<IncidentColumn>& columns, CsvOptions options,
                           std::string* out);

// The whole file: header and every row.
std::string ExportIncidentsCsv(const IncidentStore& store, const std::vector<uint32_t>& rows,
                               const std::vector<IncidentColumn>& columns, CsvOptions options);

}  // namespace reclaim
