// Tests of the IMAP connector: the wire-format functions on tables of
// inputs, and the connector against a real Dovecot on 127.0.0.1 started by
// DovecotHarness. The Dovecot tests skip when Dovecot cannot run here.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sync-server/mailbox/imap_client.h"
#include "sync-server/mailbox/imap_connector.h"
#include "sync-server/mailbox/imap_protocol.h"
#include "tests/server/dovecot_harness.h"
#include "tests/server/imap_test_support.h"

namespace reclaim {
namespace {

constexpr char kUser[] = "alice@example.test";
constexpr char kHold[] = "Reclaim-Hold";

std::string MakeMessage(const std::string& message_id_field, const std::string& subject,
                        const std::string& body) {
  return "From: sender@outside.test\r\nTo: alice@example.test\r\nSubject: " + subject +
         "\r\nMessage-ID:" + message_id_field + "\r\n\r\n" + body;
}

// Returns a started Dovecot with user alice, or nullptr after a MESSAGE
// when Dovecot cannot run on this machine.
std::unique_ptr<DovecotHarness> StartDovecot() {
  return testing::StartDovecotWithUser(kUser, "alice-password");
}

ImapSettings SettingsFor(const DovecotHarness& dovecot) {
  return testing::ImapSettingsFor(dovecot, {kUser}, 10);
}

std::unique_ptr<MailboxSession> OpenAlice(const ImapSettings& settings) {
  Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
  INFO(connector.status().message());
  REQUIRE(connector.ok());
  Result<std::unique_ptr<MailboxSession>> session = (*connector)->Open(kUser);
  INFO(session.status().message());
  REQUIRE(session.ok());
  return std::move(session).value();
}

uint32_t Append(DovecotHarness& dovecot, const std::string& folder, const std::string& message,
                const std::string& flags = "") {
  Result<uint32_t> uid = dovecot.Append(kUser, folder, message, flags);
  INFO(uid.status().message());
  REQUIRE(uid.ok());
  return *uid;
}

// Returns the folder's UIDVALIDITY as doveadm reports it, a source
// independent of the connector.
uint32_t DoveadmUidValidity(const DovecotHarness& dovecot, const std::string& folder) {
  Result<std::string> status =
      dovecot.Doveadm({"mailbox", "status", "-u", kUser, "uidvalidity", folder});
  INFO(status.status().message());
  REQUIRE(status.ok());
  const size_t equals = status->find("uidvalidity=");
  REQUIRE(equals != std::string::npos);
  return static_cast<uint32_t>(std::stoul(status->substr(equals + 12)));
}

std::vector<uint32_t> Uids(const std::vector<StoredLocation>& locations) {
  std::vector<uint32_t> uids;
  for (const StoredLocation& location : locations) {
    uids.push_back(location.uid);
  }
  return uids;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    text += "[" + name + "] ";
  }
  return text;
}

std::vector<std::string> SortedFlags(const std::string& flags) {
  std::vector<std::string> sorted;
  std::istringstream words(flags);
  for (std::string flag; words >> flag;) {
    sorted.push_back(flag);
  }
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

bool HasFlag(const std::string& flags, const std::string& flag) {
  return (" " + flags + " ").find(" " + flag + " ") != std::string::npos;
}

TEST_CASE("IMAP COPYUID parser pairs UIDs") {
  struct Case {
    std::string code;
    uint32_t uid_validity;
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
  };
  const std::vector<Case> cases = {
      {"[COPYUID 1234 186:187 22:23]", 1234, {{186, 22}, {187, 23}}},
      {"COPYUID 1234 186,188 40,41", 1234, {{186, 40}, {188, 41}}},
      {"COPYUID 7 5 9", 7, {{5, 9}}},
      {"copyuid 7 4 9", 7, {{4, 9}}},
      {"COPYUID 7 3:1 10:12", 7, {{1, 10}, {2, 11}, {3, 12}}},
      {"COPYUID 99 1,5:6,9 30:33", 99, {{1, 30}, {5, 31}, {6, 32}, {9, 33}}},
      {"COPYUID 4294967295 4294967295 1", 4294967295u, {{4294967295u, 1}}},
  };
  for (const Case& c : cases) {
    INFO("code: " << c.code);
    Result<CopyUid> parsed = ParseCopyUid(c.code);
    INFO(parsed.status().message());
    REQUIRE(parsed.ok());
    CHECK(parsed->uid_validity == c.uid_validity);
    CHECK(parsed->pairs == c.pairs);
  }
}

TEST_CASE("IMAP COPYUID parser rejects malformed codes") {
  const std::vector<std::string> codes = {
      "COPYUID 1234 186:187 22",  // two sources, one destination
      "COPYUID 0 1 2",            // UIDVALIDITY 0
      "COPYUID 1234 1:* 2:3",     // '*' is not allowed in COPYUID
      "COPYUID 1 0 1",            // UID 0
      "COPYUID 1 a 1",
      "COPYUID 1 1, 2",
      "COPYUID 1234 186:187",
      "APPENDUID 1 2",
      "[COPYUID 1 2 3",
      "COPYUID 1 4294967296 1",
      "COPYUID 1 1:200000 1:200000",  // above the expansion limit
      "",
  };
  for (const std::string& code : codes) {
    INFO("code: " << code);
    CHECK_FALSE(ParseCopyUid(code).ok());
  }
}

TEST_CASE("IMAP COPYUID destination of one UID") {
  Result<CopyUid> parsed = ParseCopyUid("COPYUID 1234 186,188 40,41");
  REQUIRE(parsed.ok());
  CHECK(parsed->DestinationOf(188) == 41);
  CHECK(parsed->DestinationOf(187) == 0);
}

TEST_CASE("IMAP mailbox names in modified UTF-7") {
  // Expected encodings from RFC 3501 section 5.1.3 and Python's UTF-7 codec
  // with the modified alphabet.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INBOX", "INBOX"},
      {"Entwürfe", "Entw&APw-rfe"},
      {"A&B", "A&-B"},
      {"日本語", "&ZeVnLIqe-"},
      {"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
      {"😀", "&2D3eAA-"},
      {"Gelöschte Elemente", "Gel&APY-schte Elemente"},
      {"ü&ü", "&APw-&-&APw-"},
  };
  for (const auto& [utf8, encoded] : cases) {
    INFO("name: " << utf8);
    Result<std::string> encoded_name = EncodeMailboxName(utf8, "folder");
    REQUIRE(encoded_name.ok());
    CHECK(*encoded_name == encoded);
    Result<std::string> decoded_name = DecodeMailboxName(encoded);
    REQUIRE(decoded_name.ok());
    CHECK(*decoded_name == utf8);
  }
}

TEST_CASE("IMAP mailbox name coding rejects invalid input") {
  for (const std::string& utf8 : {std::string("bad\xff"), std::string("tab\there"),
                                  std::string("\xc3"), std::string("\xed\xa0\x80")}) {
    INFO("utf8: " << utf8);
    CHECK(EncodeMailboxName(utf8, "folder").status().code() == StatusCode::kInvalidArgument);
  }
  for (const char* encoded : {"&ZeVnLIqe", "&AGE-", "&2D0-", "&Zé-", "&APx-"}) {
    INFO("encoded: " << encoded);
    CHECK_FALSE(DecodeMailboxName(encoded).ok());
  }
}

TEST_CASE("IMAP quoted strings escape and reject") {
  const std::vector<std::pair<std::string, std::string>> quoted = {
      {"Reclaim-Hold", "\"Reclaim-Hold\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {"", "\"\""},
      {"<id with space@x>", "\"<id with space@x>\""},
  };
  for (const auto& [text, expected] : quoted) {
    INFO("text: " << text);
    Result<std::string> result = QuoteImapString(text, "field");
    REQUIRE(result.ok());
    CHECK(*result == expected);
  }
  for (const std::string& text : {std::string("a\r\nb"), std::string("a\nb"),
                                  std::string("j\xc3\xb6rg"), std::string("nul\0byte", 8)}) {
    INFO("text: " << text);
    CHECK(QuoteImapString(text, "field").status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("IMAP response reader counts literal bytes") {
  // The literal contains lines that look like a tagged reply and an untagged
  // EXPUNGE, so only its byte count can decide where it ends.
  const std::string body = "line\r\nR2 OK fake\r\n* 3 EXPUNGE\r\n";
  const std::string fetch =
      "* 1 FETCH (UID 9 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n";
  const std::string status = "* OK [ALERT] text that ends like a literal {5}\r\n";
  const std::string tagged = "R2 OK Fetch completed\r\n";
  const std::string stream = fetch + status + tagged;
  for (size_t chunk : {size_t{1}, size_t{7}, stream.size()}) {
    INFO("chunk size: " << chunk);
    ImapResponseReader reader(1 << 20);
    std::vector<std::string> responses;
    for (size_t offset = 0; offset < stream.size(); offset += chunk) {
      reader.Append(std::string_view(stream).substr(offset, chunk));
      std::string raw;
      while (true) {
        Result<bool> next = reader.Next(raw);
        REQUIRE(next.ok());
        if (!*next) {
          break;
        }
        responses.push_back(raw);
      }
    }
    REQUIRE(responses.size() == 3);
    CHECK(responses[0] == fetch);
    CHECK(responses[1] == status);
    CHECK(responses[2] == tagged);
    Result<ImapResponse> parsed = ParseImapResponse(responses[0]);
    REQUIRE(parsed.ok());
    REQUIRE(parsed->values.size() == 1);
    REQUIRE(parsed->values[0].items.size() == 4);
    CHECK(parsed->values[0].items[3].text == body);
  }
}

TEST_CASE("IMAP response reader rejects oversized responses") {
  ImapResponseReader literal_reader(100);
  literal_reader.Append("* 1 FETCH (BODY[] {101}\r\n");
  std::string raw;
  CHECK_FALSE(literal_reader.Next(raw).ok());
  ImapResponseReader line_reader(100);
  line_reader.Append("* SEARCH " + std::string(200, '1'));
  CHECK_FALSE(line_reader.Next(raw).ok());
}

TEST_CASE("IMAP response parser reads each kind") {
  SUBCASE("FETCH with a bracketed item name and a literal") {
    Result<ImapResponse> r = ParseImapResponse(
        "* 12 FETCH (UID 7 FLAGS (\\Seen $X) BODY[HEADER.FIELDS (MESSAGE-ID)] {5}\r\nab\r\nc)\r\n");
    REQUIRE(r.ok());
    CHECK(r->tag == "*");
    CHECK(r->has_number);
    CHECK(r->number == 12);
    CHECK(r->name == "FETCH");
    REQUIRE(r->values.size() == 1);
    const std::vector<ImapValue>& items = r->values[0].items;
    REQUIRE(items.size() == 6);
    CHECK(items[1].text == "7");
    CHECK(JoinImapFlags(items[3]) == "\\Seen $X");
    CHECK(items[4].text == "BODY[HEADER.FIELDS (MESSAGE-ID)]");
    CHECK(items[5].kind == ImapValue::Kind::kString);
    CHECK(items[5].text == "ab\r\nc");
  }
  SUBCASE("tagged OK with a response code") {
    Result<ImapResponse> r = ParseImapResponse("R3 OK [COPYUID 9 1 2] Copy completed.\r\n");
    REQUIRE(r.ok());
    CHECK(r->tag == "R3");
    CHECK(r->name == "OK");
    CHECK(r->code == "COPYUID 9 1 2");
    CHECK(r->text == "Copy completed.");
  }
  SUBCASE("untagged NO without a code") {
    Result<ImapResponse> r = ParseImapResponse("* no Mailbox doesn't exist: \"x\r\n");
    REQUIRE(r.ok());
    CHECK(r->name == "NO");
    CHECK(r->code.empty());
    CHECK(r->text == "Mailbox doesn't exist: \"x");
  }
  SUBCASE("LIST with NIL delimiter and escaped quoted name") {
    Result<ImapResponse> r = ParseImapResponse("* LIST () NIL \"a \\\"b\\\"\"\r\n");
    REQUIRE(r.ok());
    REQUIRE(r->values.size() == 3);
    CHECK(r->values[0].kind == ImapValue::Kind::kList);
    CHECK(r->values[1].kind == ImapValue::Kind::kNil);
    CHECK(r->values[2].text == "a \"b\"");
  }
  SUBCASE("FLAGS drops \\Recent") {
    Result<ImapResponse> r = ParseImapResponse("* 1 FETCH (FLAGS (\\Recent \\Seen))\r\n");
    REQUIRE(r.ok());
    CHECK(JoinImapFlags(r->values[0].items[1]) == "\\Seen");
  }
  SUBCASE("continuation") {
    Result<ImapResponse> r = ParseImapResponse("+ go ahead\r\n");
    REQUIRE(r.ok());
    CHECK(r->tag == "+");
    CHECK(r->text == "go ahead");
  }
  SUBCASE("malformed responses") {
    for (const std::string& raw :
         {std::string("* 1 FETCH (UID 7\r\n"), std::string("* 1 FETCH (BODY[] {9}\r\nabc)\r\n"),
          std::string("* 1 FETCH (BODY[ 1)\r\n"), std::string("*\r\n"),
          std::string("* 99999999999 EXISTS\r\n"), std::string("* SEARCH 1 \"2\r\n")}) {
      INFO("raw: " << raw);
      CHECK_FALSE(ParseImapResponse(raw).ok());
    }
  }
}

TEST_CASE("IMAP connector settings validation") {
  ImapSettings valid;
  valid.url = "imap://127.0.0.1:1143";
  valid.master_user = "admin";
  valid.password = "secret";
  struct Case {
    std::string label;
    ImapSettings settings;
    std::string field;  // empty: valid
  };

  std::vector<Case> cases;
  cases.push_back({"valid", valid, ""});
  ImapSettings s = valid;
  s.url = "imaps://mail.example.test/";
  cases.push_back({"imaps with slash", s, ""});
  s = valid;
  s.url = "http://127.0.0.1:1143";
  cases.push_back({"http", s, "url"});
  s = valid;
  s.url = "imap://127.0.0.1:1143/INBOX";
  cases.push_back({"folder in url", s, "url"});
  s = valid;
  s.url = "imap://user@127.0.0.1:1143";
  cases.push_back({"user in url", s, "url"});
  s = valid;
  s.master_user = "ad*min";
  cases.push_back({"separator in master user", s, "master_user"});
  s = valid;
  s.password = "";
  cases.push_back({"empty password", s, "password"});
  s = valid;
  s.timeout_seconds = 0;
  cases.push_back({"zero timeout", s, "timeout_seconds"});
  s = valid;
  s.idle_seconds = -1;
  cases.push_back({"negative idle time", s, "idle_seconds"});
  s = valid;
  s.idle_seconds = 0;
  cases.push_back({"no kept connections", s, ""});

  for (const Case& c : cases) {
    INFO("case: " << c.label);
    Result<std::unique_ptr<ImapConnector>> created = ImapConnector::Create(c.settings);
    INFO(created.status().message());
    if (c.field.empty()) {
      CHECK(created.ok());
    } else {
      CHECK(created.status().code() == StatusCode::kInvalidArgument);
      CHECK(created.status().field() == c.field);
    }
  }
}

TEST_CASE("IMAP client capabilities after login") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  ImapLogin login;
  login.url = dovecot->url() + "/";
  login.username = std::string(kUser) + "*" + dovecot->master_user();
  login.password = dovecot->master_password();
  login.timeout_seconds = 10;
  ImapClient client(login);
  REQUIRE(client.Connect().ok());
  // The list taken from the login reply must equal what CAPABILITY returns
  // in the authenticated state.
  Result<ImapReply> reply = client.Execute(ImapCommand("CAPABILITY"));
  REQUIRE(reply.ok());
  REQUIRE(reply->ok());
  size_t listed = 0;
  for (const ImapResponse& response : reply->untagged) {
    if (response.name != "CAPABILITY") {
      continue;
    }
    for (const ImapValue& value : response.values) {
      INFO("capability " << value.text);
      CHECK(client.HasCapability(ImapUpperCase(value.text)));
      ++listed;
    }
  }
  CHECK(listed > 0);
  CHECK(client.HasCapability("MOVE"));
  CHECK(client.HasCapability("UIDPLUS"));
  CHECK_FALSE(client.HasCapability("X-NOT-OFFERED"));
}

TEST_CASE("IMAP connector lists and fetches") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  // A body with lines that look like IMAP replies and a line longer than
  // libcurl's 16 KiB buffer.
  const std::string plain = MakeMessage(" <plain@outside.test>", "plain", "hello\r\n");
  const std::string tricky =
      MakeMessage(" <tricky@outside.test>", "tricky",
                  "R1 OK fake\r\nR5 OK [COPYUID 1 1 1] fake\r\n* 9 EXPUNGE\r\n" +
                      std::string(40000, 'x') + "\r\nend\r\n");
  const uint32_t plain_uid = Append(*dovecot, "INBOX", plain);
  const uint32_t tricky_uid = Append(*dovecot, "INBOX", tricky, "\\Flagged");
  Append(*dovecot, "Archive", MakeMessage(" <old@outside.test>", "old", "x\r\n"), "\\Seen");
  const ImapSettings settings = SettingsFor(*dovecot);
  std::unique_ptr<MailboxSession> session = OpenAlice(settings);

  Result<std::vector<std::string>> folders = session->ListFolders();
  INFO(folders.status().message());
  REQUIRE(folders.ok());
  CHECK(*folders == std::vector<std::string>{"INBOX", "Archive"});

  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  INFO(inbox.status().message());
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 2);
  const uint32_t uid_validity = DoveadmUidValidity(*dovecot, "INBOX");
  CHECK(Uids(*inbox) == std::vector<uint32_t>{plain_uid, tricky_uid});
  CHECK((*inbox)[0].folder == "INBOX");
  CHECK((*inbox)[0].uid_validity == uid_validity);
  CHECK((*inbox)[0].flags == "");
  CHECK((*inbox)[1].flags == "\\Flagged");

  for (const auto& [location, expected] :
       {std::make_pair((*inbox)[0], plain), std::make_pair((*inbox)[1], tricky)}) {
    INFO("uid " << location.uid);
    Result<std::string> fetched = session->Fetch(location);
    INFO(fetched.status().message());
    REQUIRE(fetched.ok());
    CHECK(*fetched == expected);
  }
  // The session must still be in step after the tricky body.
  Result<std::vector<StoredLocation>> again = session->ListMessages("INBOX");
  REQUIRE(again.ok());
  REQUIRE(again->size() == 2);
  CHECK((*again)[0].flags == "");  // BODY.PEEK leaves \Seen unset

  Result<std::vector<StoredLocation>> archive = session->ListMessages("Archive");
  REQUIRE(archive.ok());
  REQUIRE(archive->size() == 1);
  CHECK((*archive)[0].flags == "\\Seen");

  Result<std::vector<StoredLocation>> missing = session->ListMessages("Nope");
  CHECK(missing.status().code() == StatusCode::kNotFound);

  Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
  REQUIRE(connector.ok());
  CHECK((*connector)->name() == "test-imap");
  Result<std::vector<std::string>> mailboxes = (*connector)->ListMailboxes();
  REQUIRE(mailboxes.ok());
  CHECK(*mailboxes == std::vector<std::string>{kUser});
}

// Moves a flagged message to the hold folder and back; another message
// marked \Deleted in INBOX must survive both moves.
void CheckMoveRoundTrip(bool use_move_command) {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <move@outside.test>", "move", "payload\r\n");
  const uint32_t uid = Append(*dovecot, "INBOX", message, "\\Seen \\Flagged $Label1");
  const uint32_t deleted_uid =
      Append(*dovecot, "INBOX", MakeMessage(" <keep@outside.test>", "keep", "k\r\n"), "\\Deleted");
  ImapSettings settings = SettingsFor(*dovecot);
  settings.use_move_command = use_move_command;
  std::unique_ptr<MailboxSession> session = OpenAlice(settings);
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 2);
  const StoredLocation original = (*inbox)[0];
  REQUIRE(original.uid == uid);

  Result<StoredLocation> in_hold = session->Move(original, kHold, "hold1");
  INFO(in_hold.status().message());
  REQUIRE(in_hold.ok());
  CHECK(in_hold->folder == kHold);
  CHECK(in_hold->uid_validity == DoveadmUidValidity(*dovecot, kHold));
  for (const char* flag : {"\\Seen", "\\Flagged", "$Label1", "$Reclaimhold1"}) {
    INFO("flag " << flag << " in '" << in_hold->flags << "'");
    CHECK(HasFlag(in_hold->flags, flag));
  }
  CHECK_FALSE(HasFlag(in_hold->flags, "\\Deleted"));

  Result<std::vector<StoredLocation>> left = session->ListMessages("INBOX");
  REQUIRE(left.ok());
  CHECK(Uids(*left) == std::vector<uint32_t>{deleted_uid});
  CHECK(session->Fetch(original).status().code() == StatusCode::kNotFound);
  Result<std::string> fetched = session->Fetch(*in_hold);
  REQUIRE(fetched.ok());
  CHECK(*fetched == message);

  Result<std::vector<StoredLocation>> tagged = session->FindTagged(kHold, "hold1");
  REQUIRE(tagged.ok());
  CHECK(Uids(*tagged) == std::vector<uint32_t>{in_hold->uid});

  // A second Move() with the same tag confirms the first instead of failing.
  Result<StoredLocation> repeated = session->Move(original, kHold, "hold1");
  INFO(repeated.status().message());
  REQUIRE(repeated.ok());
  CHECK(repeated->uid == in_hold->uid);

  REQUIRE(session->ClearTag(*in_hold, "hold1").ok());
  tagged = session->FindTagged(kHold, "hold1");
  REQUIRE(tagged.ok());
  CHECK(tagged->empty());

  Result<StoredLocation> back = session->Move(*in_hold, "INBOX", "back1");
  INFO(back.status().message());
  REQUIRE(back.ok());
  CHECK(back->folder == "INBOX");
  CHECK(back->uid_validity == original.uid_validity);
  for (const char* flag : {"\\Seen", "\\Flagged", "$Label1", "$Reclaimback1"}) {
    INFO("flag " << flag << " in '" << back->flags << "'");
    CHECK(HasFlag(back->flags, flag));
  }
  CHECK_FALSE(HasFlag(back->flags, "$Reclaimhold1"));
  REQUIRE(session->ClearTag(*back, "back1").ok());
  Result<std::vector<StoredLocation>> hold = session->ListMessages(kHold);
  REQUIRE(hold.ok());
  CHECK(hold->empty());
  Result<std::vector<StoredLocation>> final_inbox = session->ListMessages("INBOX");
  REQUIRE(final_inbox.ok());
  CHECK(Uids(*final_inbox) == std::vector<uint32_t>{deleted_uid, back->uid});
  CHECK(SortedFlags((*final_inbox)[1].flags) == SortedFlags("$Label1 \\Flagged \\Seen"));
}

TEST_CASE("IMAP connector round trip with UID MOVE") {
  CheckMoveRoundTrip(/*use_move_command=*/true);
}

TEST_CASE("IMAP connector round trip with COPY") {
  CheckMoveRoundTrip(/*use_move_command=*/false);
}

// Simulates a process killed between UID COPY and UID EXPUNGE: the source
// still carries the tag and a tagged copy sits in the hold folder. The next
// Move() with the same tag must finish the move without a second copy.
TEST_CASE("IMAP connector resumes interrupted COPY") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <resume@outside.test>", "resume", "r\r\n");
  const uint32_t uid = Append(*dovecot, "INBOX", message, "\\Seen $Reclaimresume1");
  Result<std::string> copied = dovecot->Doveadm({"mailbox", "create", "-u", kUser, kHold});
  REQUIRE(copied.ok());
  copied = dovecot->Doveadm(
      {"copy", "-u", kUser, kHold, "mailbox", "INBOX", "uid", std::to_string(uid)});
  INFO(copied.status().message());
  REQUIRE(copied.ok());
  ImapSettings settings = SettingsFor(*dovecot);
  settings.use_move_command = false;
  std::unique_ptr<MailboxSession> session = OpenAlice(settings);
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 1);

  Result<StoredLocation> moved = session->Move((*inbox)[0], kHold, "resume1");
  INFO(moved.status().message());
  REQUIRE(moved.ok());
  Result<std::vector<StoredLocation>> hold = session->ListMessages(kHold);
  REQUIRE(hold.ok());
  CHECK(Uids(*hold) == std::vector<uint32_t>{moved->uid});
  inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  CHECK(inbox->empty());
  Result<std::string> fetched = session->Fetch(*moved);
  REQUIRE(fetched.ok());
  CHECK(*fetched == message);
}

TEST_CASE("IMAP connector logs in again after a kick") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  Append(*dovecot, "INBOX", MakeMessage(" <kick@outside.test>", "kick", "k\r\n"));
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));
  Result<std::vector<StoredLocation>> before = session->ListMessages("INBOX");
  REQUIRE(before.ok());
  REQUIRE(before->size() == 1);

  struct Step {
    std::string label;
    std::function<Status()> run;
  };
  const std::vector<Step> steps = {
      {"ListMessages", [&] { return session->ListMessages("INBOX").status(); }},
      {"Fetch", [&] { return session->Fetch((*before)[0]).status(); }},
      {"Move", [&] { return session->Move((*before)[0], kHold, "kick1").status(); }},
  };

  for (const Step& step : steps) {
    INFO("step: " << step.label);
    Result<std::string> kicked = dovecot->Doveadm({"kick", kUser});
    INFO(kicked.status().message());
    REQUIRE(kicked.ok());
    const Status status = step.run();
    INFO(status.message());
    CHECK(status.ok());
  }

  Result<std::vector<StoredLocation>> hold = session->FindTagged(kHold, "kick1");
  REQUIRE(hold.ok());
  CHECK(hold->size() == 1);
}

TEST_CASE("IMAP connector reuses kept connections") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  constexpr char kBob[] = "bob@example.test";
  REQUIRE(dovecot->AddUser(kBob, "bob-password").ok());
  Append(*dovecot, "INBOX", MakeMessage(" <kept@outside.test>", "kept", "k\r\n"));
  ImapSettings settings = SettingsFor(*dovecot);
  settings.idle_seconds = 60;
  Result<std::unique_ptr<ImapConnector>> created = ImapConnector::Create(settings);
  REQUIRE(created.ok());
  ImapConnector& connector = **created;

  // The first session logs in; when it ends, its connection stays open.
  Result<std::unique_ptr<MailboxSession>> first = connector.Open(kUser);
  REQUIRE(first.ok());
  REQUIRE((*first)->ListMessages("INBOX").ok());
  const std::vector<pid_t> first_pids = testing::WaitForImapConnections(*dovecot, kUser, 1);
  REQUIRE(first_pids.size() == 1);
  first->reset();
  CHECK(connector.idle_connections() == 1);
  CHECK(testing::WaitForImapConnections(*dovecot, kUser, 1) == first_pids);

  // The next session of the same mailbox works on that connection.
  Result<std::unique_ptr<MailboxSession>> second = connector.Open(kUser);
  REQUIRE(second.ok());
  CHECK(connector.reused_connections() == 1);
  CHECK(connector.idle_connections() == 0);
  Result<std::vector<StoredLocation>> listed = (*second)->ListMessages("INBOX");
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
  CHECK(testing::ImapConnectionPids(*dovecot, kUser) == first_pids);

  // Another mailbox never gets it.
  Result<std::unique_ptr<MailboxSession>> bob = connector.Open(kBob);
  REQUIRE(bob.ok());
  CHECK(connector.reused_connections() == 1);
  REQUIRE((*bob)->ListFolders().ok());
  bob->reset();
  second->reset();
  CHECK(connector.idle_connections() == 2);

  // A kept connection that Dovecot closes is replaced by a new login.
  Result<std::string> kicked = dovecot->Doveadm({"kick", kUser});
  INFO(kicked.status().message());
  REQUIRE(kicked.ok());
  REQUIRE(testing::WaitForImapConnections(*dovecot, kUser, 0).empty());
  Result<std::unique_ptr<MailboxSession>> third = connector.Open(kUser);
  REQUIRE(third.ok());
  CHECK(connector.reused_connections() == 1);
  listed = (*third)->ListMessages("INBOX");
  INFO(listed.status().message());
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
  const std::vector<pid_t> third_pids = testing::ImapConnectionPids(*dovecot, kUser);
  REQUIRE(third_pids.size() == 1);
  CHECK(third_pids != first_pids);
}

TEST_CASE("IMAP connector closes kept connections") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  constexpr char kBob[] = "bob@example.test";
  REQUIRE(dovecot->AddUser(kBob, "bob-password").ok());
  // A connector with `settings` on which one session of alice has ended.
  const auto after_one_session = [&](const ImapSettings& settings) {
    Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
    REQUIRE(connector.ok());
    Result<std::unique_ptr<MailboxSession>> session = (*connector)->Open(kUser);
    REQUIRE(session.ok());
    REQUIRE((*session)->ListFolders().ok());
    session->reset();
    return std::move(connector).value();
  };

  SUBCASE("after the idle time") {
    ImapSettings settings = SettingsFor(*dovecot);
    settings.idle_seconds = 1;
    std::unique_ptr<ImapConnector> connector = after_one_session(settings);
    CHECK(connector->idle_connections() == 1);
    // Closed by the pool's own thread, with no further call to the connector.
    CHECK(testing::WaitForImapConnections(*dovecot, kUser, 0).empty());
    CHECK(connector->idle_connections() == 0);
  }
  SUBCASE("at once when the idle time is 0") {
    ImapSettings settings = SettingsFor(*dovecot);
    settings.idle_seconds = 0;
    std::unique_ptr<ImapConnector> connector = after_one_session(settings);
    CHECK(connector->idle_connections() == 0);
    CHECK(testing::WaitForImapConnections(*dovecot, kUser, 0).empty());
  }
  SUBCASE("the oldest first when full") {
    ImapSettings settings = SettingsFor(*dovecot);
    settings.max_idle_connections = 1;
    Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
    REQUIRE(connector.ok());
    Result<std::unique_ptr<MailboxSession>> alice = (*connector)->Open(kUser);
    Result<std::unique_ptr<MailboxSession>> bob = (*connector)->Open(kBob);
    REQUIRE(alice.ok());
    REQUIRE(bob.ok());
    alice->reset();
    bob->reset();
    CHECK((*connector)->idle_connections() == 1);
    CHECK(testing::WaitForImapConnections(*dovecot, kUser, 0).empty());
    CHECK(testing::WaitForImapConnections(*dovecot, kBob, 1).size() == 1);
    Result<std::unique_ptr<MailboxSession>> again = (*connector)->Open(kBob);
    REQUIRE(again.ok());
    CHECK((*connector)->reused_connections() == 1);
  }
  SUBCASE("when the connector goes") {
    std::unique_ptr<ImapConnector> connector = after_one_session(SettingsFor(*dovecot));
    REQUIRE(testing::WaitForImapConnections(*dovecot, kUser, 1).size() == 1);
    connector.reset();
    CHECK(testing::WaitForImapConnections(*dovecot, kUser, 0).empty());
  }
}

TEST_CASE("IMAP connector nested non-ASCII folders") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  Append(*dovecot, "INBOX", MakeMessage(" <nested@outside.test>", "nested", "n\r\n"));
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 1);
  const std::string folder = "Entwürfe/Ärger & Co";
  Result<StoredLocation> moved = session->Move((*inbox)[0], folder, "nested1");
  INFO(moved.status().message());
  REQUIRE(moved.ok());
  CHECK(moved->folder == folder);
  Result<std::vector<std::string>> folders = session->ListFolders();
  REQUIRE(folders.ok());
  INFO("folders: " << Joined(*folders));
  // Maildir++ does not create the parent; Dovecot lists it as \NonExistent.
  CHECK(*folders == std::vector<std::string>{"INBOX", folder});
  // doveadm prints names in UTF-8 with Dovecot's '.' delimiter.
  Result<std::string> listed = dovecot->Doveadm({"mailbox", "list", "-u", kUser});
  REQUIRE(listed.ok());
  CHECK(listed->find("Entwürfe.Ärger & Co") != std::string::npos);

  for (const std::string& bad : {std::string("a.b"), std::string("a//b"), std::string("")}) {
    INFO("folder: " << bad);
    CHECK(session->ListMessages(bad).status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(session->Move(*moved, "INBOX", "bad tag").status().code() == StatusCode::kInvalidArgument);
  CHECK(session->Move(*moved, "INBOX", std::string(33, 'a')).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(session->Move(*moved, folder, "same").status().code() == StatusCode::kInvalidArgument);
  CHECK(session->FindTagged("Nope", "nested1").status().code() == StatusCode::kNotFound);
}

TEST_CASE("IMAP connector login failures") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  // A port that accepts connections but never sends the greeting.
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(silent >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(silent, 4) == 0);
  REQUIRE(getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string silent_url = "imap://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  // A port with nothing listening: bound to reserve it, never listened on.
  const int closed = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in closed_address{};
  closed_address.sin_family = AF_INET;
  closed_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  length = sizeof closed_address;
  REQUIRE(bind(closed, reinterpret_cast<sockaddr*>(&closed_address), sizeof closed_address) == 0);
  REQUIRE(getsockname(closed, reinterpret_cast<sockaddr*>(&closed_address), &length) == 0);
  const std::string closed_url =
      "imap://127.0.0.1:" + std::to_string(ntohs(closed_address.sin_port));

  struct Case {
    std::string label;
    std::string address;
    std::string password;  // of the master user
    std::string url;
    StatusCode expected;
  };
  const std::string good = dovecot->master_password();
  const std::vector<Case> cases = {
      {"unknown user", "nobody@example.test", good, dovecot->url(), StatusCode::kNotFound},
      {"wrong master password", kUser, "wrong-password", dovecot->url(), StatusCode::kUnavailable},
      {"domain not served", "alice@other.test", good, dovecot->url(), StatusCode::kNotFound},
      {"separator in address", "a*b@example.test", good, dovecot->url(),
       StatusCode::kInvalidArgument},
      {"connection refused", kUser, good, closed_url, StatusCode::kUnavailable},
      {"server silent", kUser, good, silent_url, StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    INFO("case: " << c.label);
    ImapSettings settings = SettingsFor(*dovecot);
    settings.password = c.password;
    settings.url = c.url;
    settings.timeout_seconds = 2;
    Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
    REQUIRE(connector.ok());
    const auto started = std::chrono::steady_clock::now();
    Result<std::unique_ptr<MailboxSession>> session = (*connector)->Open(c.address);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    INFO(session.status().message());
    CHECK(session.status().code() == c.expected);
    CHECK(session.status().message().find(c.password) == std::string::npos);
    CHECK(elapsed < std::chrono::seconds(6));
  }
  close(silent);
  close(closed);
}

TEST_CASE("IMAP connector message deleted elsewhere") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const uint32_t uid = Append(*dovecot, "INBOX", MakeMessage(" <gone@outside.test>", "g", "g\r\n"));
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 1);
  Result<std::string> expunged =
      dovecot->Doveadm({"expunge", "-u", kUser, "mailbox", "INBOX", "uid", std::to_string(uid)});
  INFO(expunged.status().message());
  REQUIRE(expunged.ok());

  const StoredLocation location = (*inbox)[0];
  CHECK(session->Fetch(location).status().code() == StatusCode::kNotFound);
  CHECK(session->Move(location, kHold, "gone1").status().code() == StatusCode::kNotFound);
  CHECK(session->ClearTag(location, "gone1").code() == StatusCode::kNotFound);
  Result<std::vector<StoredLocation>> hold = session->ListMessages(kHold);
  REQUIRE(hold.ok());
  CHECK(hold->empty());
}

TEST_CASE("IMAP connector UIDVALIDITY change") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <stale@outside.test>", "stale", "s\r\n");
  Append(*dovecot, "INBOX", message);
  Append(*dovecot, "Archive", message);
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));

  struct Case {
    std::string label;
    std::string folder;
    std::vector<std::vector<std::string>> doveadm;  // commands that change UIDVALIDITY
  };
  const std::vector<Case> cases = {
      {"doveadm mailbox update",
       "INBOX",
       {{"mailbox", "update", "-u", kUser, "--uid-validity", "1000", "INBOX"}}},
      {"folder deleted and created again",
       "Archive",
       {{"mailbox", "delete", "-u", kUser, "Archive"}}},
  };
  for (const Case& c : cases) {
    INFO("case: " << c.label);
    Result<std::vector<StoredLocation>> listed = session->ListMessages(c.folder);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    const StoredLocation stale = (*listed)[0];
    for (const std::vector<std::string>& command : c.doveadm) {
      Result<std::string> changed = dovecot->Doveadm(command);
      INFO(changed.status().message());
      REQUIRE(changed.ok());
    }
    if (c.folder != "INBOX") {
      Append(*dovecot, c.folder, message);
    }
    const uint32_t new_validity = DoveadmUidValidity(*dovecot, c.folder);
    REQUIRE(new_validity != stale.uid_validity);

    Result<std::string> fetched = session->Fetch(stale);
    INFO(fetched.status().message());
    CHECK(fetched.status().code() == StatusCode::kConflict);
    CHECK(session->Move(stale, kHold, "stale1").status().code() == StatusCode::kConflict);
    CHECK(session->ClearTag(stale, "stale1").code() == StatusCode::kConflict);

    Result<std::vector<StoredLocation>> found =
        session->FindByMessageId(c.folder, "<stale@outside.test>");
    INFO(found.status().message());
    REQUIRE(found.ok());
    REQUIRE(found->size() == 1);
    CHECK((*found)[0].uid_validity == new_validity);
    Result<std::string> refetched = session->Fetch((*found)[0]);
    REQUIRE(refetched.ok());
    CHECK(*refetched == message);
  }
}

TEST_CASE("IMAP connector FindByMessageId matching") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  struct Stored {
    std::string field;  // the Message-ID field value as written in the message
    bool matches;       // whether it equals <one@b.test>
  };
  const std::vector<Stored> stored = {
      {" <one@b.test>", true},
      {" <one@B.TEST>", true},    // the right part compares case-insensitively
      {" <ONE@b.test>", false},   // the left part does not
      {" <xone@b.test>", false},  // IMAP substring search must not widen the match
      {"\r\n <one@b.test> (folded)", true},
      {" <one@b.test.evil>", false},
  };
  std::vector<uint32_t> expected;
  for (const Stored& s : stored) {
    const uint32_t uid = Append(*dovecot, "INBOX", MakeMessage(s.field, "id", "b\r\n"));
    if (s.matches) {
      expected.push_back(uid);
    }
  }
  const uint32_t utf8_uid =
      Append(*dovecot, "INBOX", MakeMessage(" <j\xc3\xb6rg@b.test>", "utf8", "u\r\n"));
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));

  for (const std::string& query :
       {std::string("<one@b.test>"), std::string("one@b.test"), std::string(" <one@B.test> ")}) {
    INFO("query: " << query);
    Result<std::vector<StoredLocation>> found = session->FindByMessageId("INBOX", query);
    INFO(found.status().message());
    REQUIRE(found.ok());
    CHECK(Uids(*found) == expected);
  }
  Result<std::vector<StoredLocation>> utf8 =
      session->FindByMessageId("INBOX", "<j\xc3\xb6rg@b.test>");
  INFO(utf8.status().message());
  REQUIRE(utf8.ok());
  CHECK(Uids(*utf8) == std::vector<uint32_t>{utf8_uid});
  Result<std::vector<StoredLocation>> none = session->FindByMessageId("INBOX", "<none@b.test>");
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(session->FindByMessageId("INBOX", "<>").status().code() == StatusCode::kInvalidArgument);
}

// Calls FetchEach() and returns each location's result, checking that every
// index is visited exactly once.
std::vector<Result<std::string>> FetchAll(MailboxSession& session,
                                          const std::vector<StoredLocation>& locations) {
  std::vector<Result<std::string>> results(locations.size(), Status::Internal("not visited"));
  std::vector<int> visits(locations.size(), 0);
  session.FetchEach(locations, [&](size_t i, Result<std::string> message) {
    REQUIRE(i < locations.size());
    ++visits[i];
    results[i] = std::move(message);
  });
  for (size_t i = 0; i < locations.size(); ++i) {
    INFO("location " << i);
    CHECK(visits[i] == 1);
  }
  return results;
}

TEST_CASE("IMAP connector batch fetch, move and clear") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <batch@outside.test>", "batch", "payload\r\n");
  const std::string other = MakeMessage(" <other@outside.test>", "other", "o\r\n");
  Append(*dovecot, "INBOX", message, "\\Seen");
  Append(*dovecot, "INBOX", message, "\\Flagged $Label1");
  Append(*dovecot, "INBOX", other, "\\Deleted");
  Append(*dovecot, "INBOX", message);
  const uint32_t expunged_uid = Append(*dovecot, "INBOX", message);
  Append(*dovecot, "Archive", message, "\\Seen");
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  Result<std::vector<StoredLocation>> archive = session->ListMessages("Archive");
  REQUIRE(inbox.ok());
  REQUIRE(archive.ok());
  REQUIRE(inbox->size() == 5);
  REQUIRE(archive->size() == 1);
  const StoredLocation deleted = (*inbox)[2];
  const StoredLocation expunged = (*inbox)[4];
  REQUIRE(expunged.uid == expunged_uid);
  REQUIRE(dovecot
              ->Doveadm(
                  {"expunge", "-u", kUser, "mailbox", "INBOX", "uid", std::to_string(expunged_uid)})
              .ok());
  StoredLocation stale = (*inbox)[0];
  stale.uid_validity += 1;
  StoredLocation no_uid = (*inbox)[0];
  no_uid.uid = 0;
  // Archive first, so the batch must switch folders and come back.
  const std::vector<StoredLocation> copies = {(*archive)[0], (*inbox)[0], (*inbox)[1], (*inbox)[3]};

  std::vector<StoredLocation> to_fetch = copies;
  to_fetch.insert(to_fetch.end(), {expunged, stale, no_uid});
  std::vector<Result<std::string>> fetched = FetchAll(*session, to_fetch);
  for (size_t i = 0; i < copies.size(); ++i) {
    INFO("copy " << i << ": " << fetched[i].status().message());
    REQUIRE(fetched[i].ok());
    CHECK(*fetched[i] == message);
  }
  CHECK(fetched[4].status().code() == StatusCode::kNotFound);
  CHECK(fetched[5].status().code() == StatusCode::kConflict);
  CHECK(fetched[6].status().code() == StatusCode::kInvalidArgument);

  std::vector<TaggedLocation> moves;
  for (size_t i = 0; i < copies.size(); ++i) {
    moves.push_back({copies[i], "batch" + std::to_string(i)});
  }
  moves.push_back({expunged, "batchexpunged"});
  moves.push_back({stale, "batchstale"});
  moves.push_back({(*inbox)[0], "bad tag"});
  std::vector<Result<StoredLocation>> moved = session->MoveBatch(moves, kHold);
  REQUIRE(moved.size() == moves.size());
  const uint32_t hold_validity = DoveadmUidValidity(*dovecot, kHold);
  std::vector<uint32_t> hold_uids;
  for (size_t i = 0; i < copies.size(); ++i) {
    INFO("copy " << i << ": " << moved[i].status().message());
    REQUIRE(moved[i].ok());
    CHECK(moved[i]->folder == kHold);
    CHECK(moved[i]->uid_validity == hold_validity);
    CHECK(HasFlag(moved[i]->flags, "$Reclaimbatch" + std::to_string(i)));
    hold_uids.push_back(moved[i]->uid);
  }
  CHECK(HasFlag(moved[0]->flags, "\\Seen"));
  CHECK(HasFlag(moved[2]->flags, "\\Flagged"));
  CHECK(HasFlag(moved[2]->flags, "$Label1"));
  CHECK(moved[4].status().code() == StatusCode::kNotFound);
  CHECK(moved[5].status().code() == StatusCode::kConflict);
  CHECK(moved[6].status().code() == StatusCode::kInvalidArgument);

  // Only the \Deleted message stays behind, and each copy exists once.
  Result<std::vector<StoredLocation>> left = session->ListMessages("INBOX");
  REQUIRE(left.ok());
  CHECK(Uids(*left) == std::vector<uint32_t>{deleted.uid});
  archive = session->ListMessages("Archive");
  REQUIRE(archive.ok());
  CHECK(archive->empty());
  Result<std::vector<StoredLocation>> hold = session->ListMessages(kHold);
  REQUIRE(hold.ok());
  std::vector<uint32_t> sorted_hold_uids = hold_uids;
  std::sort(sorted_hold_uids.begin(), sorted_hold_uids.end());
  CHECK(Uids(*hold) == sorted_hold_uids);
  Result<std::vector<StoredLocation>> tagged = session->FindTagged(kHold, "batch2");
  REQUIRE(tagged.ok());
  CHECK(Uids(*tagged) == std::vector<uint32_t>{hold_uids[2]});

  // The same batch again, as after a crash before the outcome was
  // recorded: each copy's tag finds its earlier move.
  moves.resize(copies.size());
  std::vector<Result<StoredLocation>> again = session->MoveBatch(moves, kHold);
  for (size_t i = 0; i < copies.size(); ++i) {
    INFO("copy " << i << ": " << again[i].status().message());
    REQUIRE(again[i].ok());
    CHECK(again[i]->uid == hold_uids[i]);
  }

  // Clearing the tags, after one held copy was deleted.
  REQUIRE(
      dovecot
          ->Doveadm({"expunge", "-u", kUser, "mailbox", kHold, "uid", std::to_string(hold_uids[3])})
          .ok());
  std::vector<TaggedLocation> hold_copies;
  for (size_t i = 0; i < copies.size(); ++i) {
    hold_copies.push_back({*moved[i], moves[i].tag});
  }
  std::vector<Status> cleared = session->ClearTags(hold_copies);
  REQUIRE(cleared.size() == hold_copies.size());
  for (size_t i = 0; i < 3; ++i) {
    INFO("copy " << i << ": " << cleared[i].message());
    CHECK(cleared[i].ok());
    Result<std::vector<StoredLocation>> still_tagged = session->FindTagged(kHold, moves[i].tag);
    REQUIRE(still_tagged.ok());
    CHECK(still_tagged->empty());
  }
  CHECK(cleared[3].code() == StatusCode::kNotFound);
  hold = session->ListMessages(kHold);
  REQUIRE(hold.ok());
  REQUIRE(hold->size() == 3);
  CHECK(SortedFlags((*hold)[1].flags) == SortedFlags("$Label1 \\Flagged"));
}

TEST_CASE("IMAP connector batch without MOVE") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <copy@outside.test>", "copy", "c\r\n");
  Append(*dovecot, "INBOX", message, "\\Seen");
  Append(*dovecot, "INBOX", message);
  ImapSettings settings = SettingsFor(*dovecot);
  settings.use_move_command = false;
  std::unique_ptr<MailboxSession> session = OpenAlice(settings);
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 2);
  std::vector<Result<StoredLocation>> moved =
      session->MoveBatch({{(*inbox)[0], "copy0"}, {(*inbox)[1], "copy1"}}, kHold);
  REQUIRE(moved.size() == 2);
  for (const Result<StoredLocation>& result : moved) {
    INFO(result.status().message());
    REQUIRE(result.ok());
    CHECK(result->folder == kHold);
  }
  CHECK(moved[0]->uid != moved[1]->uid);
  CHECK(HasFlag(moved[0]->flags, "\\Seen"));
  Result<std::vector<StoredLocation>> left = session->ListMessages("INBOX");
  REQUIRE(left.ok());
  CHECK(left->empty());
}

// The batch methods reuse the selected folder. Dovecot must still report a
// UIDVALIDITY change of that folder, so no stale UID is acted on.
TEST_CASE("IMAP connector batch after UIDVALIDITY change") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    return;
  }
  const std::string message = MakeMessage(" <reset@outside.test>", "reset", "r\r\n");
  Append(*dovecot, "INBOX", message);
  std::unique_ptr<MailboxSession> session = OpenAlice(SettingsFor(*dovecot));
  Result<std::vector<StoredLocation>> inbox = session->ListMessages("INBOX");
  REQUIRE(inbox.ok());
  REQUIRE(inbox->size() == 1);
  // Selects INBOX through the batch path, so the next call finds it selected.
  std::vector<Result<std::string>> before = FetchAll(*session, *inbox);
  REQUIRE(before[0].ok());
  REQUIRE(
      dovecot->Doveadm({"mailbox", "update", "-u", kUser, "--uid-validity", "1000", "INBOX"}).ok());

  std::vector<Result<std::string>> after = FetchAll(*session, *inbox);
  INFO(after[0].status().message());
  CHECK(after[0].status().code() == StatusCode::kConflict);
  std::vector<Result<StoredLocation>> moved = session->MoveBatch({{(*inbox)[0], "reset1"}}, kHold);
  INFO(moved[0].status().message());
  CHECK(moved[0].status().code() == StatusCode::kConflict);
  std::vector<Status> cleared = session->ClearTags({{(*inbox)[0], "reset1"}});
  CHECK(cleared[0].code() == StatusCode::kConflict);
  Result<std::vector<StoredLocation>> still = session->ListMessages("INBOX");
  REQUIRE(still.ok());
  REQUIRE(still->size() == 1);
  CHECK((*still)[0].uid_validity == 1000);
}

}  // namespace
}  // namespace reclaim
