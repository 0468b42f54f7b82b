#include "shared/incident_store.h"

#include <algorithm>
#include <numeric>

namespace reclaim {
namespace {

constexpr size_t kMaxOrgs = 256;  // org_ is one byte per row

// Checks what the columns cannot store rather than what the domain allows:
// the JSON decoder and the server validate the domain rules.
Status CheckStorable(const Incident& incident) {
  if (Status s = ValidateOrgCode(incident.code.org, "code"); !s.ok())
    return s;
  if (incident.code.sequence > kMaxSequence) {
    return Status::Invalid("code", "sequence number " + std::to_string(incident.code.sequence) +
                                       " is above the maximum " + std::to_string(kMaxSequence));
  }
  return Status::Ok();
}

template <typename T>
void Permute(std::vector<T>* column, const std::vector<uint32_t>& order) {
  std::vector<T> out;
  out.reserve(order.size());
  for (uint32_t old_row : order)
    out.push_back((*column)[old_row]);
  column->swap(out);
}

}  // namespace

std::optional<uint32_t> IncidentStore::FindOrg(std::string_view org) const {
  for (size_t i = 0; i < orgs_.size(); ++i) {
    if (orgs_[i] == org)
      return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

uint32_t IncidentStore::InternOrg(std::string_view org) {
  if (std::optional<uint32_t> found = FindOrg(org))
    return *found;
  orgs_.emplace_back(org);
  row_by_sequence_.emplace_back();
  // Ranks give the alphabetical order of organisations for code sorting.
  std::vector<uint32_t> by_name(orgs_.size());
  std::iota(by_name.begin(), by_name.end(), 0);
  std::sort(by_name.begin(), by_name.end(),
            [&](uint32_t a, uint32_t b) { return orgs_[a] < orgs_[b]; });
  org_rank_.assign(orgs_.size(), 0);
  for (uint32_t rank = 0; rank < by_name.size(); ++rank)
    org_rank_[by_name[rank]] = rank;
  return static_cast<uint32_t>(orgs_.size() - 1);
}

std::optional<uint32_t> IncidentStore::FindRow(uint32_t org, uint32_t sequence) const {
  const std::vector<uint32_t>& dense = row_by_sequence_[org];
  if (sequence < dense.size() && dense[sequence] != 0)
    return dense[sequence] - 1;
  auto found = sparse_rows_.find(SparseKey(org, sequence));
  if (found != sparse_rows_.end())
    return found->second;
  return std::nullopt;
}

void IncidentStore::IndexRow(uint32_t org, uint32_t sequence, uint32_t row) {
  std::vector<uint32_t>& dense = row_by_sequence_[org];
  size_t dense_limit = 4 * (created_.size() + 1024);
  if (sequence < dense.size() || sequence < dense_limit) {
    if (sequence >= dense.size())
      dense.resize(std::max<size_t>(sequence + 1, dense.size() * 3 / 2));
    dense[sequence] = row + 1;
  } else {
    sparse_rows_[SparseKey(org, sequence)] = row;
  }
}

void IncidentStore::RebuildCodeIndex() {
  for (std::vector<uint32_t>& dense : row_by_sequence_)
    std::fill(dense.begin(), dense.end(), 0);
  sparse_rows_.clear();
  for (uint32_t row = 0; row < created_.size(); ++row)
    IndexRow(org_[row], sequence_[row], row);
}

void IncidentStore::Append(const Incident& incident, uint32_t org) {
  created_.push_back(incident.created);
  modified_.push_back(incident.modified);
  window_start_.push_back(incident.criteria.start);
  window_end_.push_back(incident.criteria.end);
  counts_.push_back(incident.counts);
  sequence_.push_back(incident.code.sequence);
  reason_.push_back(pool_.Intern(incident.reason));
  from_.push_back(pool_.Intern(incident.criteria.from));
  to_.push_back(pool_.Intern(incident.criteria.to));
  restores_.push_back(pool_.Intern(incident.restores));
  org_.push_back(static_cast<uint8_t>(org));
  type_.push_back(static_cast<uint8_t>(incident.code.type));
  CountType(static_cast<uint32_t>(type_.size() - 1), 1);
  identifier_.Append(incident.criteria.identifier);
  id_.Append(incident.id);
}

void IncidentStore::Assign(uint32_t row, const Incident& incident) {
  created_[row] = incident.created;
  modified_[row] = incident.modified;
  window_start_[row] = incident.criteria.start;
  window_end_[row] = incident.criteria.end;
  counts_[row] = incident.counts;
  reason_[row] = pool_.Intern(incident.reason);
  from_[row] = pool_.Intern(incident.criteria.from);
  to_[row] = pool_.Intern(incident.criteria.to);
  restores_[row] = pool_.Intern(incident.restores);
  CountType(row, -1);
  type_[row] = static_cast<uint8_t>(incident.code.type);
  CountType(row, 1);
  identifier_.Set(row, incident.criteria.identifier);
  id_.Set(row, incident.id);
}

bool IncidentStore::RowLess(uint32_t a, uint32_t b) const {
  if (created_[a] != created_[b])
    return created_[a] < created_[b];
  if (org_[a] != org_[b])
    return org_rank_[org_[a]] < org_rank_[org_[b]];
  return sequence_[a] < sequence_[b];
}

void IncidentStore::KeepRows(const std::vector<uint32_t>& order) {
  Permute(&created_, order);
  Permute(&modified_, order);
  Permute(&window_start_, order);
  Permute(&window_end_, order);
  Permute(&counts_, order);
  Permute(&sequence_, order);
  Permute(&reason_, order);
  Permute(&from_, order);
  Permute(&to_, order);
  Permute(&restores_, order);
  Permute(&org_, order);
  Permute(&type_, order);
  identifier_.Reorder(order);
  id_.Reorder(order);
  RebuildCodeIndex();
  RebuildTypeCounts();
}

void IncidentStore::CountType(uint32_t row, int delta) {
  const size_t block = row / kTypeCountBlock;
  if (block >= type_counts_.size())
    type_counts_.resize(block + 1);
  type_counts_[block][type_[row]] += static_cast<uint32_t>(delta);
}

void IncidentStore::RebuildTypeCounts() {
  type_counts_.assign((type_.size() + kTypeCountBlock - 1) / kTypeCountBlock, {});
  for (uint32_t row = 0; row < type_.size(); ++row)
    ++type_counts_[row / kTypeCountBlock][type_[row]];
}

size_t IncidentStore::CountTypes(TypeMask types, uint32_t begin, uint32_t end) const {
  end = std::min<uint32_t>(end, static_cast<uint32_t>(type_.size()));
  size_t total = 0;
  uint32_t row = begin;
  auto count_rows = [&](uint32_t stop) {
    for (; row < stop; ++row)
      total += (types >> type_[row]) & 1u;
  };
  // The rows before the first whole block, the whole blocks, then the rest.
  const uint32_t first_whole = (begin + kTypeCountBlock - 1) / kTypeCountBlock * kTypeCountBlock;
  count_rows(std::min(end, first_whole));
  for (; row + kTypeCountBlock <= end; row += kTypeCountBlock) {
    const std::array<uint32_t, kIncidentTypeCount>& counts = type_counts_[row / kTypeCountBlock];
    for (int type = 0; type < kIncidentTypeCount; ++type) {
      if ((types >> type) & 1u)
        total += counts[static_cast<size_t>(type)];
    }
  }
  count_rows(end);
  return total;
}

void IncidentStore::Reserve(size_t rows) {
  if (rows <= created_.capacity())
    return;
  created_.reserve(rows);
  modified_.reserve(rows);
  window_start_.reserve(rows);
  window_end_.reserve(rows);
  counts_.reserve(rows);
  sequence_.reserve(rows);
  reason_.reserve(rows);
  from_.reserve(rows);
  to_.reserve(rows);
  restores_.reserve(rows);
  org_.reserve(rows);
  type_.reserve(rows);
}

void IncidentStore::SortRows() {
  std::vector<uint32_t> order(created_.size());
  std::iota(order.begin(), order.end(), 0);
  if (std::is_sorted(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return RowLess(a, b); })) {
    return;
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return RowLess(a, b); });
  KeepRows(order);
}

Status IncidentStore::Upsert(const std::vector<Incident>& incidents) {
  // Validate the whole batch first so that a bad record stores nothing.
  for (size_t i = 0; i < incidents.size(); ++i) {
    if (Status s = CheckStorable(incidents[i]); !s.ok()) {
      return s.WithFieldPrefix("incidents[" + std::to_string(i) + "]");
    }
  }
  std::vector<std::string_view> new_orgs;
  for (const Incident& incident : incidents) {
    std::string_view org = incident.code.org;
    if (FindOrg(org) || std::find(new_orgs.begin(), new_orgs.end(), org) != new_orgs.end())
      continue;
    new_orgs.push_back(org);
  }
  if (orgs_.size() + new_orgs.size() > kMaxOrgs) {
    return Status::Invalid("code", "more than 256 organisation codes in one store");
  }

  Reserve(created_.size() + incidents.size());

  // Replace in place where the code exists and the row keeps its position;
  // append otherwise, then restore the created order once for the batch.
  bool moved = false;
  for (const Incident& incident : incidents) {
    uint32_t org = InternOrg(incident.code.org);
    if (std::optional<uint32_t> row = FindRow(org, incident.code.sequence)) {
      moved = moved || created_[*row] != incident.created;
      Assign(*row, incident);
      continue;
    }
    uint32_t row = static_cast<uint32_t>(created_.size());
    Append(incident, org);
    moved = moved || (row > 0 && RowLess(row, row - 1));
    IndexRow(org, incident.code.sequence, row);
  }
  if (moved)
    SortRows();
  return Status::Ok();
}

Status IncidentStore::Upsert(const Incident& incident) {
  return Upsert(std::vector<Incident>{incident});
}

size_t IncidentStore::Erase(const std::vector<std::string>& codes) {
  std::vector<bool> drop(created_.size(), false);
  size_t dropped = 0;
  for (const std::string& text : codes) {
    Result<IncidentCode> code = ParseIncidentCode(text);
    if (!code.ok())
      continue;
    std::optional<uint32_t> org = FindOrg(code->org);
    if (!org)
      continue;
    std::optional<uint32_t> row = FindRow(*org, code->sequence);
    if (row && !drop[*row]) {
      drop[*row] = true;
      ++dropped;
    }
  }
  if (dropped == 0)
    return 0;
  std::vector<uint32_t> keep;
  keep.reserve(created_.size() - dropped);
  for (uint32_t row = 0; row < created_.size(); ++row) {
    if (!drop[row])
      keep.push_back(row);
  }
  KeepRows(keep);
  return dropped;
}

std::vector<std::string> IncidentStore::EraseCreatedBefore(UnixSeconds cutoff) {
  uint32_t end = LowerBoundCreated(cutoff);
  std::vector<std::string> codes;
  codes.reserve(end);
  char buffer[48];
  for (uint32_t row = 0; row < end; ++row)
    codes.emplace_back(buffer, FormatCode(row, buffer));
  if (end == 0)
    return codes;
  std::vector<uint32_t> keep(created_.size() - end);
  std::iota(keep.begin(), keep.end(), end);
  KeepRows(keep);
  return codes;
}

void IncidentStore::Clear() {
  *this = IncidentStore();
}

std::optional<uint32_t> IncidentStore::FindByCode(std::string_view text) const {
  Result<IncidentCode> code = ParseIncidentCode(text);
  if (!code.ok())
    return std::nullopt;
  std::optional<uint32_t> org = FindOrg(code->org);
  if (!org)
    return std::nullopt;
  std::optional<uint32_t> row = FindRow(*org, code->sequence);
  if (!row || type(*row) != code->type)
    return std::nullopt;
  return row;
}

std::optional<uint32_t> IncidentStore::FindById(std::string_view id) const {
  if (id.empty())
    return std::nullopt;
  for (uint32_t row = 0; row < created_.size(); ++row) {
    if (id_.Get(row) == id)
      return row;
  }
  return std::nullopt;
}

Incident IncidentStore::Get(uint32_t row) const {
  Incident incident;
  incident.id = std::string(id_.Get(row));
  incident.code.org = orgs_[org_[row]];
  incident.code.sequence = sequence_[row];
  incident.code.type = type(row);
  incident.created = created_[row];
  incident.modified = modified_[row];
  incident.reason = std::string(pool_.Get(reason_[row]));
  incident.counts = counts_[row];
  incident.criteria.identifier = std::string(identifier_.Get(row));
  incident.criteria.from = std::string(pool_.Get(from_[row]));
  incident.criteria.to = std::string(pool_.Get(to_[row]));
  incident.criteria.start = window_start_[row];
  incident.criteria.end = window_end_[row];
  incident.restores = std::string(pool_.Get(restores_[row]));
  return incident;
}

size_t IncidentStore::FormatCode(uint32_t row, char* out) const {
  // Same text as FormatIncidentCode, written without allocating because the
  // search loop formats codes for every candidate row.
  const std::string& org = orgs_[org_[row]];
  size_t n = 0;
  out[n++] = 'T';
  out[n++] = 'R';
  out[n++] = '-';
  for (char c : org)
    out[n++] = c;
  out[n++] = '-';
  char digits[10];
  int count = 0;
  uint32_t sequence = sequence_[row];
  do {
    digits[count++] = static_cast<char>('0' + sequence % 10);
    sequence /= 10;
  } while (sequence != 0);
  for (int pad = count; pad < 5; ++pad)
    out[n++] = '0';
  while (count > 0)
    out[n++] = digits[--count];
  out[n++] = '-';
  out[n++] = CodeLetter(type(row));
  return n;
}

uint32_t IncidentStore::LowerBoundCreated(UnixSeconds t) const {
  return static_cast<uint32_t>(std::lower_bound(created_.begin(), created_.end(), t) -
                               created_.begin());
}

IncidentStore::Memory IncidentStore::MemoryBytes() const {
  Memory memory;
  auto add = [&](const auto& column) { memory.columns += column.capacity() * sizeof(column[0]); };
  add(created_);
  add(modified_);
  add(window_start_);
  add(window_end_);
  add(counts_);
  add(sequence_);
  add(reason_);
  add(from_);
  add(to_);
  add(restores_);
  add(org_);
  add(type_);
  add(type_counts_);
  for (const std::vector<uint32_t>& dense : row_by_sequence_)
    add(dense);
  memory.columns += sparse_rows_.size() * 32 + pool_.MemoryBytes();
  memory.identifier_strings = identifier_.MemoryBytes() + id_.MemoryBytes();
  return memory;
}

}  // namespace reclaim
