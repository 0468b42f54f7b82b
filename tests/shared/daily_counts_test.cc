#include "shared/daily_counts.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>

#include "tests/shared/store_fixtures.h"

using namespace reclaim;
using reclaim::testing::MakeIncident;
using reclaim::testing::RandomIncidents;

namespace {

std::vector<uint32_t> AllRows(const IncidentStore& store) {
  std::vector<uint32_t> rows;
  for (uint32_t row = 0; row < store.size(); ++row)
    rows.push_back(row);
  return rows;
}

// Reference: the local calendar date of each row through CivilFromSeconds.
std::map<int64_t, std::array<uint32_t, kIncidentTypeCount>> ReferenceCounts(
    const IncidentStore& store, const TimeZone& zone) {
  std::map<int64_t, std::array<uint32_t, kIncidentTypeCount>> counts;
  for (uint32_t row = 0; row < store.size(); ++row) {
    UnixSeconds created = store.created(row);
    CivilTime local = CivilFromSeconds(created + zone.OffsetAt(created));
    ++counts[DaysFromCivil(local.date)][static_cast<size_t>(store.type(row))];
  }
  return counts;
}

}  // namespace

TEST_CASE("daily counts of no rows are empty") {
  IncidentStore store;
  FixedTimeZone utc(0);
  DailyTypeCounts counts = CountByLocalDay(store, {}, utc);
  CHECK(counts.days.empty());
}

TEST_CASE("daily counts split at local midnight") {
  // 2024-03-11T23:30:00Z is already 2024-03-12 in UTC+01:00.
  const UnixSeconds late = SecondsFromCivil({{2024, 3, 11}, 23, 30, 0});
  IncidentStore store;
  REQUIRE(store.Upsert(MakeIncident("ACME", 1, IncidentType::kManual, late, "r")).ok());
  REQUIRE(store.Upsert(MakeIncident("ACME", 2, IncidentType::kNotifyOnly, late + 3600, "r")).ok());

  FixedTimeZone utc(0);
  DailyTypeCounts in_utc = CountByLocalDay(store, AllRows(store), utc);
  REQUIRE(in_utc.days.size() == 2);
  CHECK(in_utc.first_day == DaysFromCivil({2024, 3, 11}));
  CHECK(in_utc.days[0][static_cast<size_t>(IncidentType::kManual)] == 1);
  CHECK(in_utc.days[1][static_cast<size_t>(IncidentType::kNotifyOnly)] == 1);

  FixedTimeZone plus_one(3600);
  DailyTypeCounts in_plus_one = CountByLocalDay(store, AllRows(store), plus_one);
  REQUIRE(in_plus_one.days.size() == 1);
  CHECK(in_plus_one.first_day == DaysFromCivil({2024, 3, 12}));
  CHECK(in_plus_one.days[0][static_cast<size_t>(IncidentType::kManual)] == 1);
  CHECK(in_plus_one.days[0][static_cast<size_t>(IncidentType::kNotifyOnly)] == 1);
}

TEST_CASE("daily counts keep empty days as zeros") {
  IncidentStore store;
  REQUIRE(store.Upsert(MakeIncident("ACME", 1, IncidentType::kRestore, 0, "r")).ok());
  REQUIRE(
      store.Upsert(MakeIncident("ACME", 2, IncidentType::kRestore, 3 * kSecondsPerDay, "r")).ok());
  FixedTimeZone utc(0);
  DailyTypeCounts counts = CountByLocalDay(store, AllRows(store), utc);
  REQUIRE(counts.days.size() == 4);
  for (size_t day = 1; day < 3; ++day) {
    INFO("day " << day);
    for (uint32_t count : counts.days[day])
      CHECK(count == 0);
  }
}

TEST_CASE("daily counts match reference across daylight saving") {
  auto zone = PosixTimeZone::Parse("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(zone.ok());
  IncidentStore store;
  std::vector<Incident> incidents = RandomIncidents(2000, 7);
  // Spread the incidents over several months, across both changes of 2023.
  for (size_t i = 0; i < incidents.size(); ++i)
    incidents[i].created =
        SecondsFromCivil({{2023, 3, 1}, 0, 0, 0}) + static_cast<UnixSeconds>(i) * 9973;
  REQUIRE(store.Upsert(incidents).ok());

  DailyTypeCounts counts = CountByLocalDay(store, AllRows(store), **zone);
  auto reference = ReferenceCounts(store, **zone);
  REQUIRE(!counts.days.empty());
  CHECK(counts.first_day == reference.begin()->first);
  CHECK(counts.first_day + static_cast<int64_t>(counts.days.size()) - 1 ==
        reference.rbegin()->first);
  for (size_t day = 0; day < counts.days.size(); ++day) {
    auto found = reference.find(counts.first_day + static_cast<int64_t>(day));
    std::array<uint32_t, kIncidentTypeCount> expected{};
    if (found != reference.end())
      expected = found->second;
    for (size_t type = 0; type < expected.size(); ++type) {
      INFO("day " << counts.first_day + static_cast<int64_t>(day) << " type " << type);
      CHECK(counts.days[day][type] == expected[type]);
    }
  }
}
