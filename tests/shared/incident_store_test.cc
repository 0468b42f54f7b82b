#include <doctest/doctest.h>

#include <algorithm>

#include "shared/incident_store.h"
#include "tests/shared/store_fixtures.h"

using namespace reclaim;
using reclaim::testing::MakeIncident;

namespace {

std::vector<std::string> CodesInStoreOrder(const IncidentStore& store) {
  std::vector<std::string> codes;
  for (uint32_t row = 0; row < store.size(); ++row) {
    codes.push_back(FormatIncidentCode(store.Get(row).code));
  }
  return codes;
}

}  // namespace

TEST_CASE("store keeps rows in created order") {
  IncidentStore store;
  REQUIRE(store
              .Upsert({MakeIncident("ACME", 3, IncidentType::kManual, 300, "c"),
                       MakeIncident("ACME", 1, IncidentType::kRestore, 100, "a"),
                       MakeIncident("ACME", 2, IncidentType::kAutomatic, 300, "b")})
              .ok());
  REQUIRE(store.Upsert(MakeIncident("ACME", 4, IncidentType::kNotifyOnly, 200, "d")).ok());
  std::vector<std::string> expected = {"TR-ACME-00001-R", "TR-ACME-00004-N", "TR-ACME-00002-A",
                                       "TR-ACME-00003-M"};
  CHECK(CodesInStoreOrder(store) == expected);
  CHECK(store.LowerBoundCreated(0) == 0);
  CHECK(store.LowerBoundCreated(200) == 1);
  CHECK(store.LowerBoundCreated(201) == 2);
  CHECK(store.LowerBoundCreated(301) == 4);
}

TEST_CASE("store round-trips every field") {
  Incident in = MakeIncident("ACME", 77, IncidentType::kRestore, 1700000000, "Restoring a message",
                             "<abc@Example.COM>");
  in.id = "d2f1c0";
  in.modified = 1700000500;
  in.counts = {5, 1, 2, 3};
  in.criteria.from = "sender@example.net";
  in.criteria.to = "user@example.com";
  in.criteria.start = 1690000000;
  in.criteria.end = 1700000000;
  in.restores = "TR-ACME-00070-M";
  IncidentStore store;
  REQUIRE(store.Upsert(in).ok());
  Incident out = store.Get(0);
  CHECK(out.id == in.id);
  CHECK(FormatIncidentCode(out.code) == "TR-ACME-00077-R");
  CHECK(out.created == in.created);
  CHECK(out.modified == in.modified);
  CHECK(out.reason == in.reason);
  CHECK(out.counts.identified == 5);
  CHECK(out.counts.removed == 1);
  CHECK(out.counts.failed == 2);
  CHECK(out.counts.restored == 3);
  CHECK(out.criteria.identifier == in.criteria.identifier);
  CHECK(out.criteria.from == in.criteria.from);
  CHECK(out.criteria.to == in.criteria.to);
  CHECK(out.criteria.start == in.criteria.start);
  CHECK(out.criteria.end == in.criteria.end);
  CHECK(out.restores == in.restores);
}

TEST_CASE("store upsert replaces by code") {
  IncidentStore store;
  REQUIRE(store.Upsert(MakeIncident("ACME", 1, IncidentType::kManual, 100, "first")).ok());
  REQUIRE(store.Upsert(MakeIncident("ACME", 2, IncidentType::kManual, 200, "second")).ok());
  Incident changed =
      MakeIncident("ACME", 1, IncidentType::kManual, 100, "first, updated", std::string(64, 'b'));
  changed.counts = {3, 3, 0, 0};
  REQUIRE(store.Upsert(changed).ok());
  CHECK(store.size() == 2);
  std::optional<uint32_t> row = store.FindByCode("TR-ACME-00001-M");
  REQUIRE(row.has_value());
  CHECK(store.reason(*row) == "first, updated");
  CHECK(store.identifier(*row) == std::string(64, 'b'));
  CHECK(store.counts(*row).removed == 3);

  // A changed creation time moves the row to its new place.
  REQUIRE(store.Upsert(MakeIncident("ACME", 1, IncidentType::kManual, 300, "moved")).ok());
  std::vector<std::string> expected = {"TR-ACME-00002-M", "TR-ACME-00001-M"};
  CHECK(CodesInStoreOrder(store) == expected);
}

TEST_CASE("store find by code and id") {
  IncidentStore store;
  REQUIRE(store
              .Upsert({MakeIncident("ACME", 5, IncidentType::kManual, 100, "a"),
                       MakeIncident("BETA", 5, IncidentType::kAutomatic, 100, "b"),
                       MakeIncident("ACME", 900000000, IncidentType::kManual, 50, "sparse")})
              .ok());
  struct Row {
    const char* code;
    bool found;
  };
  const Row rows[] = {
      {"TR-ACME-00005-M", true},  {"TR-BETA-00005-A", true},   {"TR-ACME-900000000-M", true},
      {"TR-ACME-00005-A", false}, {"TR-GAMMA-00005-M", false}, {"TR-ACME-00006-M", false},
      {"not a code", false},
  };
  for (const Row& row : rows) {
    INFO("code " << row.code);
    std::optional<uint32_t> found = store.FindByCode(row.code);
    CHECK(found.has_value() == row.found);
    if (found)
      CHECK(FormatIncidentCode(store.Get(*found).code) == row.code);
  }
  std::optional<uint32_t> by_id = store.FindById("id-BETA-5");
  REQUIRE(by_id.has_value());
  CHECK(store.org(*by_id) == "BETA");
  CHECK_FALSE(store.FindById("").has_value());
  CHECK_FALSE(store.FindById("id-nope").has_value());
}

TEST_CASE("store rejects a bad batch whole") {
  IncidentStore store;
  Incident bad = MakeIncident("acme", 2, IncidentType::kManual, 100, "lower-case org");
  Status s = store.Upsert({MakeIncident("ACME", 1, IncidentType::kManual, 100, "fine"), bad});
  CHECK_FALSE(s.ok());
  CHECK(s.field() == "incidents[1].code");
  CHECK(store.size() == 0);
}

TEST_CASE("store erase by code and by age") {
  IncidentStore store;
  std::vector<Incident> batch;
  for (uint32_t i = 1; i <= 6; ++i) {
    batch.push_back(
        MakeIncident("ACME", i, IncidentType::kManual, i * 100, "r" + std::to_string(i)));
  }
  REQUIRE(store.Upsert(batch).ok());
  CHECK(store.Erase({"TR-ACME-00002-M", "TR-ACME-00004-M", "TR-ACME-00099-M", "junk"}) == 2);
  std::vector<std::string> expected = {"TR-ACME-00001-M", "TR-ACME-00003-M", "TR-ACME-00005-M",
                                       "TR-ACME-00006-M"};
  CHECK(CodesInStoreOrder(store) == expected);
  // Lookups still work after the rows moved.
  REQUIRE(store.FindByCode("TR-ACME-00006-M").has_value());
  CHECK(store.reason(*store.FindByCode("TR-ACME-00006-M")) == "r6");

  std::vector<std::string> purged = store.EraseCreatedBefore(500);
  std::vector<std::string> expected_purged = {"TR-ACME-00001-M", "TR-ACME-00003-M"};
  CHECK(purged == expected_purged);
  CHECK(store.size() == 2);
  CHECK_FALSE(store.FindByCode("TR-ACME-00003-M").has_value());
  CHECK(store.FindByCode("TR-ACME-00005-M").has_value());
}

TEST_CASE("store formats codes like FormatIncidentCode") {
  IncidentStore store;
  std::vector<Incident> batch = reclaim::testing::RandomIncidents(200, 7);
  batch.push_back(MakeIncident("LONGORGANISATION", 123456789, IncidentType::kMepClawback, 1, "x"));
  REQUIRE(store.Upsert(batch).ok());
  for (uint32_t row = 0; row < store.size(); ++row) {
    char buffer[48];
    std::string fast(buffer, store.FormatCode(row, buffer));
    INFO("row " << row);
    CHECK(fast == FormatIncidentCode(store.Get(row).code));
  }
}

TEST_CASE("store memory per row") {
  IncidentStore store;
  REQUIRE(store.Upsert(reclaim::testing::RandomIncidents(20000, 3)).ok());
  IncidentStore::Memory memory = store.MemoryBytes();
  INFO("columns bytes " << memory.columns);
  // The layout is meant to stay under 100 bytes a row beyond the strings.
  CHECK(memory.columns / store.size() < 100);
  CHECK(memory.identifier_strings > 0);
}

TEST_CASE("store counts types per span") {
  // Several blocks of rows with types and times from a fixed generator, so
  // spans start and end inside blocks and on their edges.
  IncidentStore store;
  std::vector<Incident> batch;
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  const uint32_t rows = 3 * IncidentStore::kTypeCountBlock + 77;
  for (uint32_t i = 1; i <= rows; ++i) {
    batch.push_back(MakeIncident("ACME", i, kAllIncidentTypes[next() % kIncidentTypeCount],
                                 static_cast<UnixSeconds>(next() % 100000), "r"));
  }
  REQUIRE(store.Upsert(batch).ok());

  // Later changes: one incident appended at the end, one moved by a new
  // time, and some erased.
  REQUIRE(store.Upsert(MakeIncident("ACME", rows + 1, IncidentType::kRestore, 200000, "r")).ok());
  Incident moved = batch[10];
  moved.created = 50;
  REQUIRE(store.Upsert(moved).ok());
  REQUIRE(store.Erase({FormatIncidentCode(batch[3].code), FormatIncidentCode(batch[900].code)}) ==
          2);

  const uint32_t size = static_cast<uint32_t>(store.size());
  const uint32_t edges[] = {0, 1, 500, IncidentStore::kTypeCountBlock - 1,
                            IncidentStore::kTypeCountBlock, IncidentStore::kTypeCountBlock + 1,
                            2 * IncidentStore::kTypeCountBlock + 3, size - 1, size};
  for (TypeMask mask : {TypeMask{0}, TypeBit(IncidentType::kManual),
                        TypeMask(TypeBit(IncidentType::kAutomatic) | TypeBit(IncidentType::kRestore)),
                        kAllTypesMask}) {
    for (uint32_t begin : edges) {
      for (uint32_t end : edges) {
        if (end < begin)
          continue;
        size_t expected = 0;
        for (uint32_t row = begin; row < end; ++row)
          expected += (mask >> static_cast<int>(store.type(row))) & 1u;
        INFO("mask " << mask << " rows [" << begin << ", " << end << ")");
        CHECK(store.CountTypes(mask, begin, end) == expected);
      }
    }
  }
}
