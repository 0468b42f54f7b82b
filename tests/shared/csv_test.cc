#include "shared/csv.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/shared/test_inputs.h"

namespace reclaim {
namespace {

using Rows = std::vector<std::vector<std::string>>;

CsvOptions Options(bool byte_order_mark, bool neutralize_formulas) {
  CsvOptions options;
  options.byte_order_mark = byte_order_mark;
  options.neutralize_formulas = neutralize_formulas;
  return options;
}

std::string WriteText(std::string_view value, bool neutralize) {
  std::string out;
  CsvWriter writer(&out, Options(false, neutralize));
  writer.Text(value);
  return out;
}

TEST_CASE("csv text cell quoting and neutralising") {
  struct Case {
    std::string value;
    bool neutralize;
    std::string expected;
  };
  const Case kCases[] = {
      {"", true, "\"\""},
      {"plain", true, "\"plain\""},
      {"say \"hi\"", true, "\"say \"\"hi\"\"\""},
      {"\"", true, "\"\"\"\""},
      {"a,b", true, "\"a,b\""},
      {"line\r\nbreak", true, "\"line\r\nbreak\""},
      {"=1+1", true, "\"'=1+1\""},
      {"+1", true, "\"'+1\""},
      {"-1", true, "\"'-1\""},
      {"@SUM(A1)", true, "\"'@SUM(A1)\""},
      {"\t=1", true, "\"'\t=1\""},
      {"\r=1", true, "\"'\r=1\""},
      {"\nx", true, "\"'\nx\""},
      {"=\" quoted", true, "\"'=\"\" quoted\""},
      {"\xEF\xBC\x9D"
       "1",
       true,
       "\"'\xEF\xBC\x9D"
       "1\""},  // U+FF1D full-width =
      {"\xEF\xBC\x8B"
       "1",
       true,
       "\"'\xEF\xBC\x8B"
       "1\""},  // U+FF0B full-width +
      {"\xEF\xBC\x8D"
       "1",
       true,
       "\"'\xEF\xBC\x8D"
       "1\""},  // U+FF0D full-width -
      {"\xEF\xBC\xA0"
       "a",
       true,
       "\"'\xEF\xBC\xA0"
       "a\""},  // U+FF20 full-width @
      {"\xEF\xBC\x9E"
       "1",
       true,
       "\"\xEF\xBC\x9E"
       "1\""},                             // U+FF1E full-width > is harmless
      {"\xEF\xBC", true, "\"\xEF\xBC\""},  // truncated prefix passes through
      {"a=1", true, "\"a=1\""},
      {" =1", true, "\" =1\""},
      {"'=1", true, "\"'=1\""},
      {"Ваш аккаунт", true, "\"Ваш аккаунт\""},
      {"=1+1", false, "\"=1+1\""},
      {"-1", false, "\"-1\""},
      {"\t", false, "\"\t\""},
      {"\xEF\xBC\x9D", false, "\"\xEF\xBC\x9D\""},
      {"a\"b", false, "\"a\"\"b\""},
  };
  for (const Case& c : kCases) {
    INFO("value \"", c.value, "\", neutralize ", c.neutralize);
    CHECK(WriteText(c.value, c.neutralize) == c.expected);
  }
}

TEST_CASE("csv integer cells stay plain") {
  struct Case {
    int64_t value;
    std::string expected;
  };
  const Case kCases[] = {
      {0, "0"},
      {42, "42"},
      {-1, "-1"},
      {48211, "48211"},
      {std::numeric_limits<int64_t>::max(), "9223372036854775807"},
      {std::numeric_limits<int64_t>::min(), "-9223372036854775808"},
  };
  for (const Case& c : kCases) {
    INFO("value ", c.value);
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    writer.Integer(c.value);
    CHECK(out == c.expected);
  }
}

TEST_CASE("csv real cells use shortest round trip") {
  struct Case {
    double value;
    std::string expected;
  };
  const Case kCases[] = {
      {0.97, "0.97"},
      {-0.5, "-0.5"},
      {0.1, "0.1"},
      {0.0, "0"},
      {-0.0, "-0"},
      {1.0, "1"},
      {100.0, "100"},
      {123456.789, "123456.789"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.0 / 3.0, "0.3333333333333333"},
      {2.0 / 3.0, "0.6666666666666666"},
      {1e16, "1e+16"},
      {1e21, "1e+21"},
      {1e-7, "1e-07"},
      {9007199254740993.0, "9007199254740992"},  // 2^53 + 1 is not a double
      {5e-324, "5e-324"},                        // smallest subnormal
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {std::nan(""), ""},
      {std::numeric_limits<double>::infinity(), ""},
      {-std::numeric_limits<double>::infinity(), ""},
  };
  for (const Case& c : kCases) {
    INFO("expected \"", c.expected, "\"");
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    writer.Real(c.value);
    CHECK(out == c.expected);
  }
}

TEST_CASE("csv time cells") {
  struct Case {
    UnixSeconds value;
    std::string expected;
  };
  const Case kCases[] = {
      {0, "\"\""},
      {1, "\"1970-01-01T00:00:01Z\""},
      {-1, "\"1969-12-31T23:59:59Z\""},
      {951782400, "\"2000-02-29T00:00:00Z\""},
      {1234567890, "\"2009-02-13T23:31:30Z\""},
      {1700000000, "\"2023-11-14T22:13:20Z\""},
      {253402300799, "\"9999-12-31T23:59:59Z\""},
      // Past year 9999 the signed form starts with '+', which is neutralised.
      {253402300800, "\"'+010000-01-01T00:00:00Z\""},
  };
  for (const Case& c : kCases) {
    INFO("seconds ", c.value);
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    writer.Time(c.value);
    CHECK(out == c.expected);
  }
}

TEST_CASE("csv rows and byte order mark") {
  SUBCASE("with byte order mark") {
    std::string out;
    CsvWriter writer(&out, Options(true, true));
    writer.BeginFile();
    writer.Text("a");
    writer.Integer(-1);
    writer.Real(0.5);
    writer.EndRow();
    writer.Text("b");
    writer.EndRow();
    CHECK(out == "\xEF\xBB\xBF\"a\",-1,0.5\r\n\"b\"\r\n");
  }
  SUBCASE("without byte order mark") {
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    writer.BeginFile();
    writer.Text("a");
    writer.Time(0);
    writer.EndRow();
    CHECK(out == "\"a\",\"\"\r\n");
  }
  SUBCASE("empty row") {
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    writer.EndRow();
    writer.Integer(7);
    writer.EndRow();
    CHECK(out == "\r\n7\r\n");
  }
  SUBCASE("appends to existing text") {
    std::string out = "prefix\n";
    CsvWriter writer(&out, Options(false, true));
    writer.Integer(1);
    writer.Integer(2);
    writer.EndRow();
    CHECK(out == "prefix\n1,2\r\n");
  }
}

std::vector<MessageRow> SampleMessages() {
  MessageRow removed;
  removed.id = "m1";
  removed.recipient = "alice@example.com";
  removed.sender = "Billing <billing@invoices.example.net>";
  removed.subject = "Invoice \"March\", overdue";
  removed.delivered = 1700000000;
  removed.mailbox = "alice@example.com";
  removed.folder = "INBOX";
  removed.moved_to = "Quarantine";
  removed.status = MessageStatus::kRemoved;
  removed.last_action = 1700000060;

  MessageRow not_found;
  not_found.id = "m2";
  not_found.recipient = "bob@example.com";
  not_found.sender = "-promo- <news@example.net>";
  not_found.subject = "=HYPERLINK(\"x\")";
  not_found.delivered = 1234567890;
  not_found.mailbox = "bob@example.com";
  not_found.folder = "Archive/2024";
  not_found.status = MessageStatus::kFailed;
  not_found.failure = FailureReason::kNotFoundInMailbox;

  MessageRow timed_out;
  timed_out.id = "m3";
  timed_out.recipient = "carol@example.com";
  timed_out.sender = "ops@example.net";
  timed_out.delivered = 951782400;
  timed_out.mailbox = "shared@example.com";
  timed_out.folder = "INBOX";
  timed_out.status = MessageStatus::kFailed;
  timed_out.failure = FailureReason::kOther;
  timed_out.failure_detail = "IMAP timeout after 30 s";
  timed_out.last_action = 951782401;

  return {removed, not_found, timed_out};
}

TEST_CASE("csv export of messages") {
  const std::vector<MessageRow> rows = SampleMessages();

  SUBCASE("all columns for spreadsheets") {
    const std::string expected =
        "\xEF\xBB\xBF"
        "\"Recipient\",\"Sender\",\"Subject\",\"Delivered\",\"Mailbox\",\"Folder\",\"Moved To\","
        "\"Status\",\"Failure Reason\",\"Last Action\"\r\n"
        "\"alice@example.com\",\"Billing <billing@invoices.example.net>\","
        "\"Invoice \"\"March\"\", overdue\",\"2023-11-14T22:13:20Z\",\"alice@example.com\","
        "\"INBOX\",\"Quarantine\",\"Removed\",\"\",\"2023-11-14T22:14:20Z\"\r\n"
        "\"bob@example.com\",\"'-promo- <news@example.net>\",\"'=HYPERLINK(\"\"x\"\")\","
        "\"2009-02-13T23:31:30Z\",\"bob@example.com\",\"Archive/2024\",\"\",\"Failed\","
        "\"Message was not found in mailbox.\",\"\"\r\n"
        "\"carol@example.com\",\"ops@example.net\",\"\",\"2000-02-29T00:00:00Z\","
        "\"shared@example.com\",\"INBOX\",\"\",\"Failed\",\"IMAP timeout after 30 s\","
        "\"2000-02-29T00:00:01Z\"\r\n";
    CHECK(ExportMessagesCsv(rows, AllMessageColumns(), Options(true, true)) == expected);
  }

  SUBCASE("chosen columns in chosen order") {
    const std::vector<MessageColumn> columns = {MessageColumn::kStatus, MessageColumn::kRecipient,
                                                MessageColumn::kFailureReason};
    const std::string expected =
        "\"Status\",\"Recipient\",\"Failure Reason\"\r\n"
        "\"Removed\",\"alice@example.com\",\"\"\r\n"
        "\"Failed\",\"bob@example.com\",\"Message was not found in mailbox.\"\r\n"
        "\"Failed\",\"carol@example.com\",\"IMAP timeout after 30 s\"\r\n";
    CHECK(ExportMessagesCsv(rows, columns, Options(false, true)) == expected);
  }

  SUBCASE("raw export keeps formulas") {
    const std::vector<MessageColumn> columns = {MessageColumn::kSender, MessageColumn::kSubject};
    const std::string expected =
        "\"Sender\",\"Subject\"\r\n"
        "\"Billing <billing@invoices.example.net>\",\"Invoice \"\"March\"\", overdue\"\r\n"
        "\"-promo- <news@example.net>\",\"=HYPERLINK(\"\"x\"\")\"\r\n"
        "\"ops@example.net\",\"\"\r\n";
    CHECK(ExportMessagesCsv(rows, columns, Options(false, false)) == expected);
  }

  SUBCASE("no rows gives the header only") {
    const std::vector<MessageColumn> columns = {MessageColumn::kLastAction};
    CHECK(ExportMessagesCsv({}, columns, Options(false, true)) == "\"Last Action\"\r\n");
  }
}

TEST_CASE("csv parse valid documents") {
  struct Case {
    const char* name;
    std::string text;
    Rows expected;
  };
  const Case kCases[] = {
      {"empty document", "", {}},
      {"crlf rows", "a,b\r\nc,d\r\n", {{"a", "b"}, {"c", "d"}}},
      {"lf rows without final break", "a,b\nc,d", {{"a", "b"}, {"c", "d"}}},
      {"byte order mark", "\xEF\xBB\xBF\"x\"\r\n", {{"x"}}},
      {"doubled quotes", "\"a\"\"b\",\"\"\r\n", {{"a\"b", ""}}},
      {"line break inside quotes", "\"l1\r\nl2\",x\r\n", {{"l1\r\nl2", "x"}}},
      {"lf inside quotes", "\"l1\nl2\"\n", {{"l1\nl2"}}},
      {"trailing separator", "a,\r\n", {{"a", ""}}},
      {"trailing separator at end", "a,", {{"a", ""}}},
      {"only separator", ",\r\n", {{"", ""}}},
      {"blank line is one empty cell", "a\r\n\r\nb\r\n", {{"a"}, {""}, {"b"}}},
      {"numbers and apostrophe", "1,-0.5,\"'=1\"\r\n", {{"1", "-0.5", "'=1"}}},
      {"rows of different width", "a\r\nb,c,d\r\n", {{"a"}, {"b", "c", "d"}}},
      {"utf-8 kept", "\"お支払い\",📦\r\n", {{"お支払い", "📦"}}},
  };
  for (const Case& c : kCases) {
    INFO("case: ", c.name);
    const auto parsed = ParseCsv(c.text);
    REQUIRE(parsed.ok());
    CHECK(parsed.value() == c.expected);
  }
}

TEST_CASE("csv parse errors name the line") {
  struct Case {
    const char* name;
    std::string text;
    std::string field;
  };
  const Case kCases[] = {
      {"unclosed quote", "\"abc", "line 1"},
      {"unclosed quote on later line", "a\r\n\"b\r\nc", "line 2"},
      {"quote inside plain cell", "a,b\r\nc\"d\r\n", "line 2"},
      {"text after closing quote", "\"a\"b\r\n", "line 1"},
      {"bare carriage return", "a\rb", "line 1"},
      {"after multi-line cell", "x\r\n\"multi\nline\"z\r\n", "line 3"},
  };
  for (const Case& c : kCases) {
    INFO("case: ", c.name);
    const auto parsed = ParseCsv(c.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK(parsed.status().field() == c.field);
    INFO("message: ", parsed.status().message());
    CHECK(parsed.status().message().find(c.field) != std::string::npos);
  }
}

TEST_CASE("csv written cells parse back") {
  const std::vector<std::string> kCells = {"",
                                           "plain",
                                           "a,b",
                                           "say \"hi\"",
                                           "\"",
                                           "\"\"",
                                           "l1\r\nl2",
                                           "l1\nl2",
                                           "=1+1",
                                           "-x",
                                           "Ваш аккаунт",
                                           "\xEF\xBC\x9D"
                                           "1"};

  SUBCASE("raw export round-trips exactly") {
    std::string out;
    CsvWriter writer(&out, Options(true, false));
    writer.BeginFile();
    for (const std::string& cell : kCells)
      writer.Text(cell);
    writer.EndRow();
    writer.Integer(-3);
    writer.Real(0.25);
    writer.EndRow();

    const auto parsed = ParseCsv(out);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.value().size() == 2);
    CHECK(parsed.value()[0] == kCells);
    CHECK(parsed.value()[1] == std::vector<std::string>{"-3", "0.25"});
  }

  SUBCASE("neutralised cells come back with the apostrophe") {
    std::string out;
    CsvWriter writer(&out, Options(false, true));
    for (const std::string& cell : kCells)
      writer.Text(cell);
    writer.EndRow();

    const auto parsed = ParseCsv(out);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.value().size() == 1);
    const std::vector<std::string>& row = parsed.value()[0];
    REQUIRE(row.size() == kCells.size());
    CHECK(row[8] == "'=1+1");
    CHECK(row[9] == "'-x");
    CHECK(row[11] ==
          "'\xEF\xBC\x9D"
          "1");
    CHECK(row[6] == "l1\r\nl2");
  }
}

// Writes an external case's records with the given columns. Numeric columns
// become Integer or Real cells, all others Text cells.
std::string WriteExternalCase(const nlohmann::json& input, CsvOptions options) {
  std::vector<std::string> columns;
  for (const auto& column : input.at("columns"))
    columns.push_back(column.get<std::string>());
  std::vector<std::string> numeric;
  if (input.contains("numeric_columns")) {
    for (const auto& column : input.at("numeric_columns")) {
      numeric.push_back(column.get<std::string>());
    }
  }

  std::string out;
  CsvWriter writer(&out, options);
  writer.BeginFile();
  for (const std::string& column : columns)
    writer.Text(column);
  writer.EndRow();
  for (const auto& record : input.at("incidents")) {
    for (const std::string& column : columns) {
      const nlohmann::json& value = record.at(column);
      const bool is_numeric = std::find(numeric.begin(), numeric.end(), column) != numeric.end();
      if (is_numeric && value.is_number_integer()) {
        writer.Integer(value.get<int64_t>());
      } else if (is_numeric) {
        writer.Real(value.get<double>());
      } else {
        writer.Text(value.get<std::string>());
      }
    }
    writer.EndRow();
  }
  return out;
}

void CheckExternalCase(const std::string& input_name, const std::string& expected_name,
                       CsvOptions options) {
  const auto input = testing::ReadExternalCase(input_name);
  const auto expected = testing::ReadExternalCase(expected_name);
  if (!input || !expected) {
    MESSAGE("skipped: cases/" << input_name << " or cases/" << expected_name
                              << " not found; set RECLAIM_SHARED_INPUTS");
    return;
  }
  INFO("case ", input_name);
  const std::string written = WriteExternalCase(nlohmann::json::parse(*input), options);
  CHECK(written == *expected);

  // The expected file must also read back with one row per record plus the header.
  const auto parsed = ParseCsv(*expected);
  REQUIRE(parsed.ok());
  CHECK(parsed.value().size() == nlohmann::json::parse(*input).at("incidents").size() + 1);
}

TEST_CASE("csv external case formula injection") {
  CheckExternalCase("17-csv-formula-injection.json", "17-csv-formula-injection.expected.csv",
                    Options(false, true));
}

TEST_CASE("csv external case utf-8 with bom") {
  CheckExternalCase("18-csv-utf8-bom.json", "18-csv-utf8-bom.expected-excel.csv",
                    Options(true, true));
}

}  // namespace
}  // namespace reclaim
