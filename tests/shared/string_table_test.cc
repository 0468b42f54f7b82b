#include <doctest/doctest.h>

#include "shared/status.h"
#include "shared/string_table.h"

using namespace reclaim;

TEST_CASE("string pool interns values") {
  StringPool pool;
  CHECK(pool.size() == 1);
  CHECK(pool.Get(0).empty());
  CHECK(pool.Intern("") == 0);
  uint32_t a = pool.Intern("Restoring a message");
  uint32_t b = pool.Intern("Removing messages by ID");
  CHECK(a != b);
  CHECK(pool.Intern("Restoring a message") == a);
  CHECK(pool.Get(a) == "Restoring a message");
  CHECK(pool.Get(b) == "Removing messages by ID");
  // Many inserts must not invalidate earlier values (the index stores views).
  for (int i = 0; i < 5000; ++i)
    pool.Intern("reason " + std::to_string(i));
  CHECK(pool.Get(a) == "Restoring a message");
  CHECK(pool.Intern("reason 4321") == pool.Intern(std::string("reason 4321")));
  CHECK(pool.size() == 5003);
  CHECK(pool.MemoryBytes() > 5000 * 10);
}

TEST_CASE("string column set and reorder") {
  StringColumn column;
  column.Append("alpha");
  column.Append("");
  column.Append("gamma");
  CHECK(column.size() == 3);
  CHECK(column.Get(0) == "alpha");
  CHECK(column.Get(1).empty());
  column.Set(0, "al");  // shorter: rewritten in place
  column.Set(1, "a much longer value");
  CHECK(column.Get(0) == "al");
  CHECK(column.Get(1) == "a much longer value");
  CHECK(column.Get(2) == "gamma");
  column.Reorder({2, 0});
  CHECK(column.size() == 2);
  CHECK(column.Get(0) == "gamma");
  CHECK(column.Get(1) == "al");
  CHECK(column.CharBytes() >= 7);
}

TEST_CASE("status values") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.code() == StatusCode::kOk);
  Status invalid = Status::Invalid("start", "invalid time 'x'");
  CHECK_FALSE(invalid.ok());
  CHECK(invalid.code() == StatusCode::kInvalidArgument);
  CHECK(invalid.field() == "start");
  CHECK(invalid.WithFieldPrefix("searchCriteria").field() == "searchCriteria.start");
  CHECK(Status::Internal("boom").WithFieldPrefix("incidents[2]").field() == "incidents[2]");
  CHECK(Status::NotFound("id", "m").code() == StatusCode::kNotFound);
  CHECK(Status::Conflict("id", "m").code() == StatusCode::kConflict);
  CHECK(Status::Unavailable("down").code() == StatusCode::kUnavailable);

  Result<int> value = 7;
  CHECK(value.ok());
  CHECK(*value == 7);
  Result<int> error = Status::Invalid("pageSize", "bad");
  CHECK_FALSE(error.ok());
  CHECK(error.status().field() == "pageSize");
}
