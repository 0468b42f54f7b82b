#include "shared/retention.h"

namespace reclaim {

Status ValidateRetentionDays(int days, const std::string& field) {
  if (days >= kMinRetentionDays && days <= kMaxRetentionDays)
    return Status::Ok();
  return Status::Invalid(
      field, "retention of " + std::to_string(days) + " days is out of range: use 1 to 3650 days");
}

UnixSeconds RetentionCutoff(UnixSeconds now, int retention_days) {
  return now - static_cast<UnixSeconds>(retention_days) * kSecondsPerDay;
}

bool IsPastRetention(const Incident& incident, UnixSeconds now, int retention_days) {
  return incident.created < RetentionCutoff(now, retention_days);
}

std::vector<std::string> ExpiredCodes(const IncidentStore& store, UnixSeconds now,
                                      int retention_days) {
  uint32_t end = store.LowerBoundCreated(RetentionCutoff(now, retention_days));
  std::vector<std::string> codes;
  codes.reserve(end);
  char code[48];
  for (uint32_t row = 0; row < end; ++row)
    codes.emplace_back(code, store.FormatCode(row, code));
  return codes;
}

}  // namespace reclaim
