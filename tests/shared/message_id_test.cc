#include "shared/message_id.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "tests/shared/test_inputs.h"

namespace reclaim {
namespace {

// Escapes line breaks and tabs so that INFO output shows them.
std::string Visible(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

// Returns the raw value of the first header field called `name`, compared
// without case, in the header block of `message`. The value includes its
// continuation lines and their line breaks, so that the code under test does
// the unfolding. Returns nothing when there is no such field.
std::optional<std::string> RawHeaderValue(std::string_view message, std::string_view name) {
  size_t line_start = 0;
  while (line_start < message.size()) {
    size_t line_end = message.find('\n', line_start);
    if (line_end == std::string_view::npos)
      line_end = message.size();
    std::string_view line = message.substr(line_start, line_end - line_start);
    if (line.empty() || line == "\r")
      return std::nullopt;  // end of the header block

    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && EqualsIgnoringAsciiCase(line.substr(0, colon), name)) {
      // The value runs on over every following line that starts with a space or tab.
      size_t value_end = line_end;
      while (value_end + 1 < message.size() &&
             (message[value_end + 1] == ' ' || message[value_end + 1] == '\t')) {
        value_end = message.find('\n', value_end + 1);
        if (value_end == std::string_view::npos)
          value_end = message.size();
      }
      const size_t value_start = line_start + colon + 1;
      std::string_view value = message.substr(value_start, value_end - value_start);
      if (!value.empty() && value.back() == '\r')
        value.remove_suffix(1);
      return std::string(value);
    }
    line_start = line_end + 1;
  }
  return std::nullopt;
}

TEST_CASE("NormalizeMessageId valid forms") {
  struct ValidCase {
    const char* raw;
    const char* value;
  };
  const ValidCase cases[] = {
      {"<abc.123@example.com>", "<abc.123@example.com>"},
      {"abc.123@example.com", "<abc.123@example.com>"},
      {"  <abc.123@example.com>  ", "<abc.123@example.com>"},
      {"  <abc.123@example.com>\r\n", "<abc.123@example.com>"},
      {"\r\n <abc.123@example.com>", "<abc.123@example.com>"},
      {"\n\t<abc.123@example.com>", "<abc.123@example.com>"},
      {"\tabc.123@example.com\r\n", "<abc.123@example.com>"},
      {"<abc.123@example.com> (added by relay)", "<abc.123@example.com>"},
      {"(relay) <abc.123@example.com>", "<abc.123@example.com>"},
      {"(outer (nested) \\) still outer) <abc.123@example.com>", "<abc.123@example.com>"},
      {"(a \\( b) abc.123@example.com (c)", "<abc.123@example.com>"},
      {"(folded\r\n comment) <abc.123@example.com>", "<abc.123@example.com>"},
      {"< abc.123@example.com >", "<abc.123@example.com>"},
      {"<abc.123@example.com", "<abc.123@example.com>"},
      {"abc.123@example.com>", "<abc.123@example.com>"},
      {"<first.1@a.example> <second.2@b.example>", "<first.1@a.example>"},
      {"<first.1@a.example>, <second.2@b.example>", "<first.1@a.example>"},
      // Case is kept in the stored value, and only the key folds the right part.
      {"<Xk7Q.20240306.0001@Mail.Example.ORG>", "<Xk7Q.20240306.0001@Mail.Example.ORG>"},
      {"<\"quoted\"@[192.0.2.1]>", "<\"quoted\"@[192.0.2.1]>"},
  };
  for (const ValidCase& c : cases) {
    INFO("raw: \"" << Visible(c.raw) << "\"");
    Result<MessageId> id = NormalizeMessageId(c.raw);
    REQUIRE(id.ok());
    CHECK(id->value == c.value);
    CHECK_FALSE(id->malformed);
  }
}

TEST_CASE("NormalizeMessageId malformed ids are kept") {
  struct MalformedCase {
    const char* raw;
    const char* value;
  };
  const MalformedCase cases[] = {
      {"<ACME 20240308.77@@relay.example.net>", "<ACME 20240308.77@@relay.example.net>"},
      {"  <ACME 20240308.77@@relay.example.net>  (relay)\r\n",
       "<ACME 20240308.77@@relay.example.net>"},
      {"<no-at-sign.example.com>", "<no-at-sign.example.com>"},
      {"<two@at@example.com>", "<two@at@example.com>"},
      {"<@example.com>", "<@example.com>"},
      {"<left-only@>", "<left-only@>"},
      {"<has space@example.com>", "<has space@example.com>"},
      {"<has\ttab@example.com>", "<has\ttab@example.com>"},
      {"<folded@\r\n example.com>", "<folded@ example.com>"},
      {"bare with space@example.com", "<bare with space@example.com>"},
      {"<<doubled@example.com>>", "<<doubled@example.com>"},
      {"Xk7Q.20240306.0001", "<Xk7Q.20240306.0001>"},
  };
  for (const MalformedCase& c : cases) {
    INFO("raw: \"" << Visible(c.raw) << "\"");
    Result<MessageId> id = NormalizeMessageId(c.raw);
    REQUIRE(id.ok());
    CHECK(id->value == c.value);
    CHECK(id->malformed);
  }
}

TEST_CASE("NormalizeMessageId rejects empty ids") {
  struct EmptyCase {
    const char* raw;
    const char* quoted;  // how the message quotes the raw value
  };
  const EmptyCase cases[] = {
      {"", "\"\""},
      {"   ", "\"   \""},
      {"\r\n", "\"\\r\\n\""},
      {"\r\n \t", "\"\\r\\n \\t\""},
      {"<>", "\"<>\""},
      {"< >", "\"< >\""},
      {"(only a comment)", "\"(only a comment)\""},
      {"(comment) <> (comment)", "\"(comment) <> (comment)\""},
      {"(unclosed <abc@example.com>", "\"(unclosed <abc@example.com>\""},
      {">", "\">\""},
  };
  for (const EmptyCase& c : cases) {
    INFO("raw: \"" << Visible(c.raw) << "\"");
    Result<MessageId> id = NormalizeMessageId(c.raw);
    REQUIRE_FALSE(id.ok());
    INFO("message: " << id.status().message());
    CHECK(id.status().code() == StatusCode::kInvalidArgument);
    CHECK(id.status().field() == "messageId");
    CHECK(id.status().message().find(std::string("Message-ID ") + c.quoted + " is empty") == 0);
  }

  Result<MessageId> named = NormalizeMessageId("<>", "searchCriteria.messageId");
  REQUIRE_FALSE(named.ok());
  CHECK(named.status().field() == "searchCriteria.messageId");
}

TEST_CASE("MessageIdKey folds only the right part") {
  struct KeyCase {
    MessageId id;
    const char* key;
  };
  const KeyCase cases[] = {
      {{"<Xk7Q.20240306.0001@Mail.Example.ORG>", false}, "<Xk7Q.20240306.0001@mail.example.org>"},
      {{"<abc@example.com>", false}, "<abc@example.com>"},
      {{"<ABC@EXAMPLE.COM>", false}, "<ABC@example.com>"},
      // A malformed id is compared exactly, as written.
      {{"<ACME 20240308.77@@Relay.Example.NET>", true}, "<ACME 20240308.77@@Relay.Example.NET>"},
      {{"<NoAt.Example>", true}, "<NoAt.Example>"},
  };
  for (const KeyCase& c : cases) {
    INFO("value: " << c.id.value);
    CHECK(MessageIdKey(c.id) == c.key);
  }
}

TEST_CASE("MessageIdsEqual is exact on keys") {
  struct EqualCase {
    const char* a;
    const char* b;
    bool equal;
  };
  const EqualCase cases[] = {
      {"<abc@example.com>", "abc@example.com", true},
      {"<abc@example.com>", "<abc@EXAMPLE.com>", true},
      {"<abc@example.com> (comment)", "\r\n <abc@Example.Com>", true},
      {"<abc@example.com>", "<ABC@example.com>", false},
      {"<abc@example.com>", "<abc@example.co>", false},
      {"<abc@example.com>", "<ab@example.com>", false},
      {"<abc@example.com>", "<abc@example.com.evil>", false},
      {"<abc@example.com>", "abc", false},
      {"<ACME 20240308.77@@relay.example.net>", "<ACME 20240308.77@@relay.example.net>", true},
      {"<ACME 20240308.77@@relay.example.net>", "<ACME 20240308.77@@RELAY.example.net>", false},
  };
  for (const EqualCase& c : cases) {
    INFO("a: \"" << Visible(c.a) << "\", b: \"" << Visible(c.b) << "\"");
    Result<MessageId> a = NormalizeMessageId(c.a);
    Result<MessageId> b = NormalizeMessageId(c.b);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(MessageIdsEqual(*a, *b) == c.equal);
    CHECK(MessageIdsEqual(*b, *a) == c.equal);
    CHECK((MessageIdKey(*a) == MessageIdKey(*b)) == c.equal);
  }
}

TEST_CASE("RawHeaderValue reads folded fields") {
  const std::string message =
      "From: a@example.com\r\n"
      "Message-ID:\r\n"
      " <folded@example.com>\r\n"
      "message-id: <second@example.com>\r\n"
      "Subject: x\r\n"
      "\r\n"
      "Message-ID: <in-body@example.com>\r\n";
  const std::optional<std::string> message_id = RawHeaderValue(message, "Message-ID");
  REQUIRE(message_id.has_value());
  CHECK(*message_id == "\r\n <folded@example.com>");
  const std::optional<std::string> subject = RawHeaderValue(message, "subject");
  REQUIRE(subject.has_value());
  CHECK(*subject == " x");
  CHECK_FALSE(RawHeaderValue(message, "In-Reply-To").has_value());
}

TEST_CASE("folded Message-ID from a mail file") {
  const std::optional<std::string> eml = testing::ReadExternalCase("01-msgid-folded.eml");
  if (!eml) {
    MESSAGE("skipped: cases/01-msgid-folded.eml not found; set RECLAIM_SHARED_INPUTS");
    return;
  }
  const std::optional<std::string> raw = RawHeaderValue(*eml, "Message-ID");
  REQUIRE(raw.has_value());
  INFO("raw: \"" << Visible(*raw) << "\"");
  Result<MessageId> id = NormalizeMessageId(*raw);
  REQUIRE(id.ok());
  CHECK_FALSE(id->malformed);
  // The stored value has no line break, space or tab left from the fold.
  CHECK(id->value ==
        "<AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A42@AM9PR07MB7251.eurprd07.prod.outlook.com>");
  CHECK(MessageIdKey(*id) ==
        "<AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A42@am9pr07mb7251.eurprd07.prod.outlook.com>");

  Result<MessageId> bare = NormalizeMessageId(
      "AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A42@AM9PR07MB7251.eurprd07.prod.outlook.com");
  REQUIRE(bare.ok());
  CHECK(MessageIdsEqual(*id, *bare));

  // In-Reply-To is folded with a tab and names the previous message.
  const std::optional<std::string> reply_raw = RawHeaderValue(*eml, "In-Reply-To");
  REQUIRE(reply_raw.has_value());
  Result<MessageId> reply = NormalizeMessageId(*reply_raw, "inReplyTo");
  REQUIRE(reply.ok());
  CHECK(reply->value ==
        "<AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A41@AM9PR07MB7251.eurprd07.prod.outlook.com>");
  CHECK_FALSE(MessageIdsEqual(*id, *reply));
}

TEST_CASE("Message-ID lookup forms from a mail file") {
  const std::optional<std::string> eml = testing::ReadExternalCase("02-msgid-lookup.eml");
  const std::optional<std::string> json = testing::ReadExternalCase("02-msgid-lookup.json");
  if (!eml || !json) {
    MESSAGE("skipped: cases/02-msgid-lookup.eml or .json not found; set RECLAIM_SHARED_INPUTS");
    return;
  }
  const std::optional<std::string> raw = RawHeaderValue(*eml, "Message-ID");
  REQUIRE(raw.has_value());
  Result<MessageId> stored = NormalizeMessageId(*raw);
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->malformed);

  const nlohmann::json lookup = nlohmann::json::parse(*json);
  CHECK(stored->value == lookup.at("stored_message_id").get<std::string>());

  const nlohmann::json& queries = lookup.at("queries");
  REQUIRE(queries.size() > 0);
  for (const nlohmann::json& query : queries) {
    const std::string text = query.at("query").get<std::string>();
    const bool expect_match = query.at("expect_match").get<bool>();
    INFO("query: \"" << Visible(text) << "\" (" << query.at("why").get<std::string>() << ")");
    // A query that does not normalise matches nothing.
    Result<MessageId> id = NormalizeMessageId(text, "query");
    const bool match = id.ok() && MessageIdsEqual(*stored, *id);
    CHECK(match == expect_match);
  }
}

TEST_CASE("malformed Message-ID from a mail file") {
  const std::optional<std::string> eml = testing::ReadExternalCase("04-msgid-malformed.eml");
  if (!eml) {
    MESSAGE("skipped: cases/04-msgid-malformed.eml not found; set RECLAIM_SHARED_INPUTS");
    return;
  }
  const std::optional<std::string> raw = RawHeaderValue(*eml, "Message-ID");
  REQUIRE(raw.has_value());
  Result<MessageId> id = NormalizeMessageId(*raw);
  REQUIRE(id.ok());
  CHECK(id->malformed);
  CHECK(id->value == "<ACME 20240308.77@@relay.example.net>");
  CHECK(MessageIdKey(*id) == "<ACME 20240308.77@@relay.example.net>");

  Result<MessageId> lookup = NormalizeMessageId("<ACME 20240308.77@@relay.example.net>");
  REQUIRE(lookup.ok());
  CHECK(MessageIdsEqual(*id, *lookup));
  Result<MessageId> prefix = NormalizeMessageId("<ACME 20240308.77@>");
  REQUIRE(prefix.ok());
  CHECK_FALSE(MessageIdsEqual(*id, *prefix));
}

}  // namespace
}  // namespace reclaim
