#include <doctest/doctest.h>

#include "shared/retention.h"
#include "tests/shared/store_fixtures.h"

using namespace reclaim;
using reclaim::testing::MakeIncident;

TEST_CASE("retention cutoff and validation") {
  const UnixSeconds now = 1796399754;  // 2026-12-04T15:55:54Z
  CHECK(RetentionCutoff(now, 365) == now - 365 * 86400);
  CHECK(RetentionCutoff(now, 1) == now - 86400);
  CHECK(ValidateRetentionDays(1).ok());
  CHECK(ValidateRetentionDays(365).ok());
  CHECK(ValidateRetentionDays(3650).ok());
  for (int days : {0, -5, 3651}) {
    INFO("days " << days);
    Status s = ValidateRetentionDays(days);
    CHECK_FALSE(s.ok());
    CHECK(s.field() == "retentionDays");
  }
}

TEST_CASE("retention finds incidents past the keep period") {
  const UnixSeconds now = 1796399754;
  const UnixSeconds day = 86400;
  IncidentStore store;
  REQUIRE(store
              .Upsert({MakeIncident("ACME", 1, IncidentType::kManual, now - 400 * day, "old"),
                       MakeIncident("ACME", 2, IncidentType::kManual, now - 365 * day - 1, "just"),
                       MakeIncident("ACME", 3, IncidentType::kManual, now - 365 * day, "edge"),
                       MakeIncident("ACME", 4, IncidentType::kManual, now - day, "new")})
              .ok());
  std::vector<std::string> expected = {"TR-ACME-00001-M", "TR-ACME-00002-M"};
  CHECK(ExpiredCodes(store, now, 365) == expected);
  CHECK(IsPastRetention(store.Get(1), now, 365));
  CHECK_FALSE(IsPastRetention(store.Get(2), now, 365));
  CHECK(ExpiredCodes(store, now, 3650).empty());
  CHECK(ExpiredCodes(store, now, 1).size() == 3);
}
