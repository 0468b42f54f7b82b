#include "sync-server/mail/mime_parser.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "shared/message_id.h"
#include "sync-server/mail/hashing.h"
#include "tests/shared/test_inputs.h"

namespace reclaim {
namespace {

constexpr const char* kEmptyFileSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kEmptyFileMd5 = "d41d8cd98f00b204e9800998ecf8427e";

// ---------------------------------------------------------------------------
// Helpers.

// Parses `cases/<name>` from the external inputs, or prints why the test
// is skipped and returns nothing.
std::optional<ParsedMessage> ParseExternalCase(const std::string& name) {
  const std::optional<std::string> raw = testing::ReadExternalCase(name);
  if (!raw) {
    MESSAGE("skipped: cases/" << name << " not found in " << testing::ExternalInputsDir()
                              << "; set RECLAIM_SHARED_INPUTS");
    return std::nullopt;
  }
  return ParseMessage(*raw);
}

std::string FixturePath(const std::string& name) {
  return std::string(RECLAIM_FIXTURES) + "/mail/" + name;
}

// Parses one of the project's own fixtures, which must exist.
ParsedMessage ParseFixture(const std::string& name) {
  const std::optional<std::string> raw = testing::ReadFile(FixturePath(name));
  INFO("fixture: " << FixturePath(name));
  REQUIRE(raw.has_value());
  return ParseMessage(*raw);
}

bool HasWarning(const ParsedMessage& message, std::string_view exact) {
  return std::find(message.warnings.begin(), message.warnings.end(), exact) !=
         message.warnings.end();
}

bool HasWarningContaining(const ParsedMessage& message, std::string_view text) {
  return std::any_of(
      message.warnings.begin(), message.warnings.end(),
      [&](const std::string& warning) { return warning.find(text) != std::string::npos; });
}

const char* OriginName(AttachmentOrigin origin) {
  switch (origin) {
    case AttachmentOrigin::kMimePart:
      return "kMimePart";
    case AttachmentOrigin::kUuencodedInBody:
      return "kUuencodedInBody";
    case AttachmentOrigin::kEmbeddedMessage:
      return "kEmbeddedMessage";
  }
  return "?";
}

struct ExpectedAttachment {
  const char* filename;
  uint64_t size;
  const char* sha256;
  const char* md5;
  int depth;
  AttachmentOrigin origin;
};

// Checks that `message` has exactly the expected attachments, in order.
void CheckAttachments(const ParsedMessage& message,
                      const std::vector<ExpectedAttachment>& expected) {
  REQUIRE(message.attachments.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Attachment& actual = message.attachments[i];
    INFO("attachment " << i << ": expected \"" << std::string(expected[i].filename) << "\", got \""
                       << actual.filename << "\"");
    CHECK(actual.filename == expected[i].filename);
    CHECK(actual.size == expected[i].size);
    CHECK(actual.sha256 == expected[i].sha256);
    CHECK(actual.md5 == expected[i].md5);
    CHECK(actual.depth == expected[i].depth);
    CHECK(OriginName(actual.origin) == std::string(OriginName(expected[i].origin)));
    CHECK_FALSE(actual.undecodable);
  }
}

bool HasLineBreakOrBlank(std::string_view text) {
  return text.find_first_of("\r\n \t") != std::string_view::npos;
}

// ---------------------------------------------------------------------------
// External fault cases.

TEST_CASE("ParseMessage case 01 folded Message-ID") {
  const auto message = ParseExternalCase("01-msgid-folded.eml");
  if (!message)
    return;
  CHECK(message->message_id ==
        "<AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A42@AM9PR07MB7251.eurprd07.prod.outlook.com>");
  CHECK_FALSE(HasLineBreakOrBlank(message->message_id));
  CHECK_FALSE(message->message_id_malformed);
  CHECK(message->synthetic_key.empty());
  CHECK(message->in_reply_to ==
        "<AM9PR07MB7251D3E04C1B2A6F8E8C1A5BD9A41@AM9PR07MB7251.eurprd07.prod.outlook.com>");
  CHECK(message->sender == "billing@invoices.example.net");
  CHECK(message->recipients == std::vector<std::string>{"user1@example.com"});
  CHECK(message->subject == "Invoice 4471 overdue");
  CHECK(message->date == 1709630047);  // Tue, 5 Mar 2024 09:14:07 +0000
}

TEST_CASE("ParseMessage case 02 lookup forms") {
  const auto message = ParseExternalCase("02-msgid-lookup.eml");
  if (!message)
    return;
  CHECK(message->message_id == "<Xk7Q.20240306.0001@Mail.Example.ORG>");
  CHECK(message->date == 1709719200);  // Wed, 6 Mar 2024 11:00:00 +0100

  const MessageId stored{message->message_id, message->message_id_malformed};
  struct LookupCase {
    const char* query;
    bool expect_match;
  };
  const LookupCase lookups[] = {
      {"<Xk7Q.20240306.0001@Mail.Example.ORG>", true},
      {"Xk7Q.20240306.0001@Mail.Example.ORG", true},
      {"  <Xk7Q.20240306.0001@Mail.Example.ORG>\r\n", true},
      {"<Xk7Q.20240306.0001@mail.example.org>", true},
      {"<xk7q.20240306.0001@Mail.Example.ORG>", false},
      {"Xk7Q.20240306.0001", false},
      {"", false},
      {"<>", false},
  };
  for (const LookupCase& lookup : lookups) {
    INFO("query: \"" << std::string(lookup.query) << "\"");
    const Result<MessageId> query = NormalizeMessageId(lookup.query);
    const bool matched = query.ok() && MessageIdsEqual(query.value(), stored);
    CHECK(matched == lookup.expect_match);
  }
}

TEST_CASE("ParseMessage case 03 missing and empty Message-ID") {
  const auto missing = ParseExternalCase("03-no-message-id-1.eml");
  const auto empty = ParseExternalCase("03-no-message-id-2.eml");
  if (!missing || !empty)
    return;
  CHECK(missing->message_id.empty());
  CHECK(empty->message_id.empty());
  // SHA-256 of each file's bytes, from sha256sum.
  CHECK(missing->synthetic_key ==
        "sha256:07d5707b4f22ddf3dbed20311df42e348cbb8e4cbd16443562c320cb5fc8848d");
  CHECK(empty->synthetic_key ==
        "sha256:f181c7b8b01b27602fbadfb97cf4394d96e048fc44d5a007250415b27bff312f");
  CHECK(missing->synthetic_key != empty->synthetic_key);
}

TEST_CASE("ParseMessage case 04 malformed Message-ID") {
  const auto message = ParseExternalCase("04-msgid-malformed.eml");
  if (!message)
    return;
  CHECK(message->message_id == "<ACME 20240308.77@@relay.example.net>");
  CHECK(message->message_id_malformed);
  CHECK(message->synthetic_key.empty());
}

TEST_CASE("ParseMessage case 05 two Message-ID fields") {
  const auto message = ParseExternalCase("05-two-message-id-fields.eml");
  if (!message)
    return;
  CHECK(message->message_id == "<first.4471@docs-share.example.net>");
  CHECK(message->alias_ids == std::vector<std::string>{"<second.4471@mailer.example.net>"});
  CHECK(HasWarning(*message, "duplicate Message-ID field"));
}

TEST_CASE("ParseMessage case 07 attachment filenames") {
  const auto message = ParseExternalCase("07-attachment-filenames.eml");
  if (!message)
    return;
  CheckAttachments(*message,
                   {
                       {"Rechnung M\xC3\xA4rz 2024.pdf", 32,
                        "cac52496cf1097b0d8fe1a887da196a6f27602cb3d1c9514dc4367445382dc19",
                        "153074b6ef01400b7445c5948a1acd3c", 0, AttachmentOrigin::kMimePart},
                       {"\xC3\x9C"
                        "berweisung_Best\xC3\xA4tigung.html",
                        58, "b00d3e611dbf19fe5a4d30d78187932453e07a8b88a1b16cf3c87f353bf2b5aa",
                        "e2826c9ffa33e27481a38a4e27d1372e", 0, AttachmentOrigin::kMimePart},
                       {"very_long_name_part_one_part_two.docm", 33,
                        "07be0d49490dfb4f8fddf071089ca55ce8e4398b1f19a197d87b99ed78097e4d",
                        "84e320972c0989876a24e05afb4c2f6a", 0, AttachmentOrigin::kMimePart},
                       {"r\xC3\xA9sum\xC3\xA9.zip", 22,
                        "8739c76e681f900923b900c9df0ef75cf421d39cabb54650c4b9ad19b6a76d85",
                        "76cdb2bad9582d23c1f6f4d868218d6c", 0, AttachmentOrigin::kMimePart},
                   });
  REQUIRE(message->attachments.size() == 4);
  CHECK(message->attachments[0].content_type == "application/pdf");
  CHECK(message->attachments[2].content_type == "application/vnd.ms-word.document.macroenabled.12");
}

TEST_CASE("ParseMessage case 08 uuencode in body") {
  const auto message = ParseExternalCase("08-uuencode-in-body.eml");
  if (!message)
    return;
  CheckAttachments(*message,
                   {
                       {"shipping_docs.scr", 142,
                        "e8fc0c840813f9e22abe54ea9e2baa040d1ea27c7509330dab94982066275e2a",
                        "10426f16d14e10d708536a5cb9eb30d3", 0, AttachmentOrigin::kUuencodedInBody},
                   });
}

TEST_CASE("ParseMessage case 09 messy base64") {
  const auto message = ParseExternalCase("09-base64-messy.eml");
  if (!message)
    return;
  CheckAttachments(
      *message,
      {
          {"scan_0314.bin", 268, "e5534150b79b2ce39e9852ca91b32d8fef22c495dde3b5c252f78d672e9c95b8",
           "01c65297f54deb0adf3d546ebe84e49a", 0, AttachmentOrigin::kMimePart},
      });
  CHECK(HasWarningContaining(*message, "padding is missing"));
}

TEST_CASE("ParseMessage case 11 forwarded as attachment") {
  const auto message = ParseExternalCase("11-forwarded-as-attachment.eml");
  if (!message)
    return;
  CHECK(message->message_id == "<outer.case11@example.com>");
  CHECK(message->contained_ids ==
        std::vector<std::string>{"<inner.case11@m365-alerts.example.net>"});
  // The embedded message is hashed over its bytes between the part's blank
  // line and the CRLF before "--outer11--" (hashes from Python's hashlib).
  // The attachment inside it is one level deeper.
  CheckAttachments(
      *message,
      {
          {"Voicemail received.eml", 678,
           "55287a38d6f137cbc48049bac6e9538f1ef6569cb553a511a801fb52306c082e",
           "7b4bb521601bdee5c806e67abac79556", 0, AttachmentOrigin::kEmbeddedMessage},
          {"voicemail.htm", 95, "557538f0ef8db223807691faec54b68bb74a7cd7021995445000663642ffdbf6",
           "bd83512142c85f4757743e0fb8a65c9a", 1, AttachmentOrigin::kMimePart},
      });
}

TEST_CASE("ParseMessage case 13 empty attachments") {
  const auto message = ParseExternalCase("13-empty-attachments.eml");
  if (!message)
    return;
  // The MD5 of the non-empty file was computed with Python's hashlib from
  // its base64 text.
  CheckAttachments(
      *message,
      {
          {"label.pdf", 0, kEmptyFileSha256, kEmptyFileMd5, 0, AttachmentOrigin::kMimePart},
          {"photo.jpg", 0, kEmptyFileSha256, kEmptyFileMd5, 0, AttachmentOrigin::kMimePart},
          {"Parcel-No.5550001234", 28,
           "e1062e41e3bfd0ce23a0ec36bfb747256960ed6d73eb881b3b178ebf794414cb",
           "454cc9df695aab3e6675ec08f027269e", 0, AttachmentOrigin::kMimePart},
      });
}

TEST_CASE("ParseMessage case 20 subject encodings") {
  const auto message = ParseExternalCase("20-subject-encodings.eml");
  if (!message)
    return;
  CHECK(message->subject ==
        "[SUSPECTED SPAM]Rechnung \xC3\xBC"
        "berf\xC3\xA4llig \xE2\x82\xAC 99,90");
  CHECK(message->raw_subject ==
        "[SUSPECTED SPAM]=?utf-8?B?UmVjaG51bmcgw7xiZXJmw6RsbGln?= =?UTF-8?B?IOKC?= "
        "=?UTF-8?B?rCA5OSw5MA==?=");
  CHECK(message->warnings.empty());
}

// ---------------------------------------------------------------------------
// The external corpus of real phishing mail, checked against its manifest,
// whose attachment digests come from Python 3.11's email package (compat32).

TEST_CASE("ParseMessage corpus matches manifest") {
  const std::string folder = testing::ExternalInputsDir() + "/corpus/eml";
  const std::optional<std::string> manifest_text = testing::ReadFile(folder + "/MANIFEST.json");
  if (!manifest_text) {
    MESSAGE("skipped: corpus/eml/MANIFEST.json not found in " << testing::ExternalInputsDir()
                                                              << "; set RECLAIM_SHARED_INPUTS");
    return;
  }
  const nlohmann::json manifest = nlohmann::json::parse(*manifest_text);
  size_t checked_attachments = 0;
  for (const nlohmann::json& entry : manifest.at("files")) {
    const std::string file = entry.at("file").get<std::string>();
    INFO("file: " << file);
    const std::optional<std::string> raw = testing::ReadFile(folder + "/" + file);
    REQUIRE(raw.has_value());
    const ParsedMessage message = ParseMessage(*raw);
    CHECK(message.size == entry.at("size").get<uint64_t>());

    // Message-ID, unfolded by the manifest and normalised here.
    const nlohmann::json& header = entry.at("message_id_header_unfolded");
    if (header.is_string()) {
      const Result<MessageId> expected = NormalizeMessageId(header.get<std::string>());
      REQUIRE(expected.ok());
      CHECK(message.message_id == expected.value().value);
      CHECK(message.message_id_malformed == expected.value().malformed);
    } else {
      CHECK(message.message_id.empty());
      CHECK(message.synthetic_key.rfind("sha256:", 0) == 0);
    }

    // Every attachment with a digest must be among ours, byte for byte.
    for (const nlohmann::json& expected : entry.at("attachments")) {
      const std::string sha256 = expected.at("sha256").get<std::string>();
      if (sha256.empty())
        continue;
      const std::string md5 = expected.at("md5").get<std::string>();
      const uint64_t size = expected.at("size").get<uint64_t>();
      INFO("attachment: " << expected.at("filename_as_parsed_by_python_compat32").dump());
      const bool found = std::any_of(
          message.attachments.begin(), message.attachments.end(), [&](const Attachment& actual) {
            return actual.sha256 == sha256 && actual.md5 == md5 && actual.size == size;
          });
      CHECK(found);
      ++checked_attachments;
    }
  }
  MESSAGE("corpus: " << manifest.at("files").size() << " messages, " << checked_attachments
                     << " attachments compared");
}

// ---------------------------------------------------------------------------
// The project's own fixtures, written for these tests. Expected digests were
// computed with Python's hashlib from the bytes that generated each part.

TEST_CASE("ParseMessage fixture folded Message-ID with LF line ends") {
  const ParsedMessage message = ParseFixture("folded-message-id-lf.eml");
  CHECK(message.message_id ==
        "<DB9PR03MB7761A1B2C3D4E5F60718293A4B5C6@DB9PR03MB7761.eurprd03.prod.example.net>");
  CHECK_FALSE(HasLineBreakOrBlank(message.message_id));
  CHECK(message.in_reply_to ==
        "<DB9PR03MB7761A1B2C3D4E5F60718293A4B5C5@DB9PR03MB7761.eurprd03.prod.example.net>");
  CHECK(message.sender == "alerts@billing-portal.example.org");
  CHECK(message.sender_display == "Billing Portal <alerts@Billing-Portal.Example.ORG>");
  // To, Cc, Delivered-To, X-Original-To in that order; FINANCE@example.com
  // repeats finance@example.com and is dropped.
  CHECK(message.recipients == std::vector<std::string>{"finance@example.com", "audit@example.com",
                                                       "jane.doe@example.com",
                                                       "ap-inbox@example.com"});
  CHECK(message.subject == "Statement for April");
  CHECK(message.raw_subject == "Statement for April");
  CHECK(message.date == 1714995910);  // Mon, 6 May 2024 07:45:10 -0400
  CHECK(message.size == 645);
  CHECK(message.attachments.empty());
}

TEST_CASE("ParseMessage fixture duplicate Message-ID in other case") {
  const ParsedMessage message = ParseFixture("duplicate-message-id.eml");
  CHECK(message.message_id == "<primary.9001@share.example.org>");
  CHECK(message.alias_ids == std::vector<std::string>{"<secondary.9001@relay.example.org>"});
  CHECK(HasWarning(message, "duplicate Message-ID field"));
}

TEST_CASE("ParseMessage fixture malformed Message-ID") {
  const ParsedMessage message = ParseFixture("malformed-message-id.eml");
  CHECK(message.message_id == "<INV 2024.05.08@@gw.example.org>");
  CHECK(message.message_id_malformed);
  CHECK(message.synthetic_key.empty());
}

TEST_CASE("ParseMessage fixture missing and empty Message-ID") {
  const ParsedMessage missing = ParseFixture("no-message-id.eml");
  const ParsedMessage empty = ParseFixture("empty-message-id.eml");
  CHECK(missing.message_id.empty());
  CHECK(empty.message_id.empty());
  CHECK(missing.synthetic_key ==
        "sha256:56120d229ae8363338718d8cad29f0649c2ccde44577040ffe92239c92278baf");
  CHECK(empty.synthetic_key ==
        "sha256:7fc650822c1a6a403c30b6c5981789de7d04705472132a1f455ee894e7a02f4c");
}

TEST_CASE("ParseMessage fixture attachment names") {
  const ParsedMessage message = ParseFixture("attachment-names.eml");
  CheckAttachments(message,
                   {
                       // filename*0*=UTF-8''Angebot%20%C3%96ffentlich; filename*1*=%20Mai%2Exlsx,
                       // preferred over the Content-Type name "other.xlsx".
                       {"Angebot \xC3\x96"
                        "ffentlich Mai.xlsx",
                        41, "bc9f4463b8ee921fe71772869e614e3580972390a490941b18bc58fdeab2a0fa",
                        "b44c4e38e6b6059ab68d56221db9aa6d", 0, AttachmentOrigin::kMimePart},
                       // filename="=?ISO-8859-1?Q?Preis=FCbersicht.pdf?="
                       {"Preis\xC3\xBC"
                        "bersicht.pdf",
                        33, "4fde6c13390ba11cd3c369d694c34ca4fd8a5ed86b3863aa76a9a0c820ffe1c4",
                        "be22a2cb1fbb68e939629510b9971633", 0, AttachmentOrigin::kMimePart},
                       // filename*0="quarterly_"; filename*1="report.xlsm"
                       {"quarterly_report.xlsm", 44,
                        "20fe52ba1c11616bd10601370ccf88d1cce62fa7dd88204b0db6e3fdbb2d6c17",
                        "f68e2a403f88d0ad784ab025dba2e5b0", 0, AttachmentOrigin::kMimePart},
                       // filename*=windows-1252''%93notes%94.txt, quoted-printable body
                       {"\xE2\x80\x9Cnotes\xE2\x80\x9D.txt", 29,
                        "763739f558515edd8bc86d0e9ee800f6398a58b86625a50d0c1937f0d53cfbea",
                        "96700a2f04c619024be86f22244a07dc", 0, AttachmentOrigin::kMimePart},
                   });
}

TEST_CASE("ParseMessage fixture uuencoded body") {
  const ParsedMessage message = ParseFixture("uuencoded-body.eml");
  // "begin here ..." is prose, not a begin line, so only one file is found.
  CheckAttachments(message,
                   {
                       {"invoice_tool.exe", 138,
                        "89fda194d6077941bae3e40b383b7435dba515e193e09e838088739692657eeb",
                        "d982f02162111c6824f32af04a36f778", 0, AttachmentOrigin::kUuencodedInBody},
                   });
}

TEST_CASE("ParseMessage fixture messy and broken base64") {
  const ParsedMessage message = ParseFixture("messy-base64.eml");
  REQUIRE(message.attachments.size() == 2);

  // Content-Transfer-Encoding "  bAsE64 \t", ragged lines, an indented last
  // line and no padding.
  const Attachment& messy = message.attachments[0];
  CHECK(messy.filename == "scan_0512.bin");
  CHECK(messy.size == 277);
  CHECK(messy.sha256 == "77913762fb95c3ced35b82e6ebd697f7a62b934e1f9d87605b301ec6d44e5664");
  CHECK(messy.md5 == "fd5b35c86ebdb2e125f8feca815ccd1c");
  CHECK_FALSE(messy.undecodable);
  CHECK(HasWarningContaining(message, "padding is missing"));

  // Five base64 digits cannot be decoded; nothing may be hashed.
  const Attachment& broken = message.attachments[1];
  CHECK(broken.filename == "broken.bin");
  CHECK(broken.undecodable);
  CHECK(broken.size == 0);
  CHECK(broken.sha256.empty());
  CHECK(broken.md5.empty());
}

TEST_CASE("ParseMessage fixture nested forwards") {
  const ParsedMessage message = ParseFixture("forwarded-nested.eml");
  CHECK(message.message_id == "<outer.fixture@example.com>");
  CHECK(message.contained_ids == std::vector<std::string>{"<inner-a.fixture@example.com>",
                                                          "<inner-b.fixture@alerts.example.net>"});
  CheckAttachments(
      message,
      {
          {"Fwd Inner B.eml", 822,
           "4ad4fa7e0a39770d659d5f05992fff6dc47f7dd21be4bcaf6228bc6eba2e111f",
           "76ed8a199f0ba5c0ed31b426b5dadba0", 0, AttachmentOrigin::kEmbeddedMessage},
          {"", 504, "38a384d5d95b789b4916fdc1e56514ebb905fa5f7c231c7123e18a6fd17c7523",
           "13d3bbf1f2800b8c94046a4ef29a2aef", 1, AttachmentOrigin::kEmbeddedMessage},
          {"login.htm", 56, "4b6d0b6ea6be0c10f0d91cd15a5d22324f22a08d23a2ab2d0eb8946f1d8a39f6",
           "6f38660b70774aacac5a484c542adf61", 2, AttachmentOrigin::kMimePart},
      });
}

TEST_CASE("ParseMessage fixture base64 message/rfc822") {
  const ParsedMessage message = ParseFixture("forwarded-base64.eml");
  CHECK(message.contained_ids ==
        std::vector<std::string>{"<encoded-inner.fixture@alerts.example.net>"});
  CheckAttachments(
      message,
      {
          {"", 287, "d4bd0d2d764e1fa0cfe69be83ed2fe881999e61572f94b8d0f601575be218bb3",
           "248e75580922e1997d36c3c0e62b8089", 0, AttachmentOrigin::kEmbeddedMessage},
          {"tool.bin", 38, "f097bb99a9f2c63333b214565a04229fc624112c29b2917f47fb337bb72cfebb",
           "ea3d6ca7438f4ab3cb21f2c0bea531b7", 1, AttachmentOrigin::kMimePart},
      });
}

TEST_CASE("ParseMessage fixture empty attachments") {
  const ParsedMessage message = ParseFixture("empty-attachments.eml");
  CheckAttachments(
      message,
      {
          {"shipping-label.pdf", 0, kEmptyFileSha256, kEmptyFileMd5, 0,
           AttachmentOrigin::kMimePart},
          {"stamp.png", 0, kEmptyFileSha256, kEmptyFileMd5, 0, AttachmentOrigin::kMimePart},
          {"blank.dat", 0, kEmptyFileSha256, kEmptyFileMd5, 0, AttachmentOrigin::kMimePart},
      });
}

TEST_CASE("ParseMessage fixture subjects") {
  SUBCASE("glued words and a character split across words") {
    const ParsedMessage message = ParseFixture("subject-glued-split.eml");
    CHECK(message.subject == "[EXTERNAL]Mahnung f\xC3\xBCr 50 \xE2\x82\xAC offen");
    CHECK(message.raw_subject ==
          "[EXTERNAL]=?UTF-8?Q?Mahnung_f=C3=BCr?= =?utf-8?B?IDUwIOKC?=\t=?UTF-8?B?rA==?= offen");
    CHECK(message.warnings.empty());
  }
  SUBCASE("unknown charset stays as written") {
    const ParsedMessage message = ParseFixture("subject-unknown-charset.eml");
    CHECK(message.subject == "Notice =?x-fixture-charset?B?SGVsbG8=?= f\xC3\xBCr you");
    CHECK(HasWarningContaining(message, "x-fixture-charset"));
  }
}

TEST_CASE("ParseMessage fixture broken mail") {
  SUBCASE("multipart without closing boundary, unreadable date") {
    const ParsedMessage message = ParseFixture("broken-multipart.eml");
    CHECK(message.message_id == "<broken.fixture@junk.example.org>");
    CHECK(message.date == 0);
    CHECK(HasWarningContaining(message, "Date"));
    CheckAttachments(
        message,
        {
            {"cut.zip", 34, "598ec2815783e5166c258039c27926f72e19f48ad4e25792ad93e703a121f665",
             "4f83f54d845dd5d937c5a63a4ac8ec99", 0, AttachmentOrigin::kMimePart},
        });
  }
  SUBCASE("headers only, no blank line") {
    const ParsedMessage message = ParseFixture("headers-only.eml");
    CHECK(message.subject == "no body and no blank line");
    CHECK(message.sender == "someone@junk.example.org");
    CHECK(message.recipients == std::vector<std::string>{"user34@example.com"});
    CHECK(message.message_id.empty());
    CHECK(message.synthetic_key ==
          "sha256:82048f898ce654ba5e123ab2e0556337cf6c0a89a3029cdf93b4f135227a2428");
    CHECK(message.date == 0);
    CHECK(message.attachments.empty());
  }
  SUBCASE("0-byte file") {
    const ParsedMessage message = ParseFixture("empty.eml");
    CHECK(message.size == 0);
    CHECK(message.message_id.empty());
    CHECK(message.synthetic_key == std::string("sha256:") + kEmptyFileSha256);
    CHECK_FALSE(message.warnings.empty());
  }
}

TEST_CASE("ParseMessage garbage input") {
  const std::string inputs[] = {
      std::string("\0\0\0\0", 4),
      "\r\n\r\n\r\n",
      "no colon in this line\r\n\r\nbody",
      "Content-Type: multipart/mixed\r\n\r\n--x\r\n",
      "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
      "Content-Type: message/rfc822\r\n\r\n",
      "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
      "Subject: =?utf-8?B?\r\n\r\n",
      "From: <<<@@@>>>\r\nTo: ,,,;;;\r\nDate: 99 Foo 99999\r\n\r\n",
  };
  for (const std::string& input : inputs) {
    INFO("input bytes: " << input.size());
    const ParsedMessage message = ParseMessage(input);
    CHECK(message.size == input.size());
    CHECK((message.message_id.empty() == !message.synthetic_key.empty()));
  }
}

TEST_CASE("ParseMessage from several threads") {
  const char* const fixtures[] = {"forwarded-nested.eml", "attachment-names.eml",
                                  "messy-base64.eml", "uuencoded-body.eml"};
  std::vector<std::string> raws;
  std::vector<std::string> expected_digests;
  for (const char* name : fixtures) {
    const std::optional<std::string> raw = testing::ReadFile(FixturePath(name));
    REQUIRE(raw.has_value());
    raws.push_back(*raw);
    const ParsedMessage message = ParseMessage(*raw);
    REQUIRE_FALSE(message.attachments.empty());
    expected_digests.push_back(message.subject + message.attachments.back().sha256);
  }

  constexpr int kThreadCount = 4;
  constexpr int kRoundsPerThread = 25;
  std::vector<int> mismatches(kThreadCount, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadCount; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRoundsPerThread; ++round) {
        const size_t i = static_cast<size_t>(round + t) % raws.size();
        const ParsedMessage message = ParseMessage(raws[i]);
        const std::string digest = message.attachments.empty()
                                       ? std::string()
                                       : message.subject + message.attachments.back().sha256;
        if (digest != expected_digests[i])
          ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (int t = 0; t < kThreadCount; ++t) {
    INFO("thread " << t);
    CHECK(mismatches[static_cast<size_t>(t)] == 0);
  }
}

// ---------------------------------------------------------------------------
// ParseOptions::text_body, which the index turns off.

// Checks that `without` (parsed without the text body) equals `with` in
// every field but the text body.
void CheckSameWithoutTextBody(const ParsedMessage& with, const ParsedMessage& without) {
  CHECK(without.text_body.empty());
  CHECK_FALSE(without.text_body_truncated);
  CHECK(without.message_id == with.message_id);
  CHECK(without.message_id_malformed == with.message_id_malformed);
  CHECK(without.synthetic_key == with.synthetic_key);
  CHECK(without.alias_ids == with.alias_ids);
  CHECK(without.contained_ids == with.contained_ids);
  CHECK(without.in_reply_to == with.in_reply_to);
  CHECK(without.sender == with.sender);
  CHECK(without.sender_display == with.sender_display);
  CHECK(without.recipients == with.recipients);
  CHECK(without.subject == with.subject);
  CHECK(without.raw_subject == with.raw_subject);
  CHECK(without.date == with.date);
  CHECK(without.size == with.size);
  REQUIRE(without.attachments.size() == with.attachments.size());
  for (size_t i = 0; i < with.attachments.size(); ++i) {
    INFO("attachment " << i);
    CHECK(without.attachments[i].filename == with.attachments[i].filename);
    CHECK(without.attachments[i].content_type == with.attachments[i].content_type);
    CHECK(without.attachments[i].size == with.attachments[i].size);
    CHECK(without.attachments[i].sha256 == with.attachments[i].sha256);
    CHECK(without.attachments[i].md5 == with.attachments[i].md5);
    CHECK(without.attachments[i].depth == with.attachments[i].depth);
    CHECK(without.attachments[i].origin == with.attachments[i].origin);
    CHECK(without.attachments[i].undecodable == with.attachments[i].undecodable);
  }
  CHECK(without.warnings == with.warnings);
}

ParseOptions WithoutTextBody() {
  ParseOptions options;
  options.text_body = false;
  return options;
}

TEST_CASE("ParseMessage without text body on fixtures") {
  for (const char* name :
       {"attachment-names.eml", "broken-multipart.eml", "duplicate-message-id.eml",
        "empty-attachments.eml", "empty-message-id.eml", "empty.eml", "folded-message-id-lf.eml",
        "forwarded-base64.eml", "forwarded-nested.eml", "headers-only.eml",
        "malformed-message-id.eml", "messy-base64.eml", "no-message-id.eml",
        "subject-glued-split.eml", "subject-unknown-charset.eml", "uuencoded-body.eml"}) {
    INFO("fixture: " << name);
    const std::optional<std::string> raw = testing::ReadFile(FixturePath(name));
    REQUIRE(raw.has_value());
    CheckSameWithoutTextBody(ParseMessage(*raw), ParseMessage(*raw, WithoutTextBody()));
  }
}

TEST_CASE("ParseMessage without text body on the corpus") {
  const std::string folder = testing::ExternalInputsDir() + "/corpus/eml";
  const std::optional<std::string> manifest_text = testing::ReadFile(folder + "/MANIFEST.json");
  if (!manifest_text) {
    MESSAGE("skipped: corpus/eml/MANIFEST.json not found in " << testing::ExternalInputsDir()
                                                              << "; set RECLAIM_SHARED_INPUTS");
    return;
  }
  for (const nlohmann::json& entry : nlohmann::json::parse(*manifest_text).at("files")) {
    const std::string file = entry.at("file").get<std::string>();
    INFO("file: " << file);
    const std::optional<std::string> raw = testing::ReadFile(folder + "/" + file);
    REQUIRE(raw.has_value());
    CheckSameWithoutTextBody(ParseMessage(*raw), ParseMessage(*raw, WithoutTextBody()));
  }
}

TEST_CASE("ParseMessage without text body keeps body warnings") {
  struct BodyCase {
    const char* name;
    const char* raw;
    const char* warning;
  };
  const BodyCase cases[] = {
      {"plain text in an unknown charset",
       "Message-ID: <a@example.net>\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n"
       "text\r\n",
       "text body has the unknown charset \"x-no-such\", so it was read as UTF-8 or "
       "windows-1252"},
      {"HTML in an unknown charset",
       "Message-ID: <b@example.net>\r\nContent-Type: text/html; charset=x-no-such\r\n\r\n"
       "<p>text</p>\r\n",
       "text body has the unknown charset \"x-no-such\", so it was read as UTF-8 or "
       "windows-1252"},
      {"undecodable base64 HTML",
       "Message-ID: <c@example.net>\r\nContent-Type: text/html\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
       "text/html body could not be decoded, so the message has no text body"},
      {"quoted-printable HTML in UTF-8",
       "Message-ID: <d@example.net>\r\nContent-Type: text/html; charset=utf-8\r\n"
       "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=C3=A9</p>\r\n",
       nullptr},
  };
  for (const BodyCase& test : cases) {
    INFO("case: " << test.name);
    const ParsedMessage with = ParseMessage(test.raw);
    const ParsedMessage without = ParseMessage(test.raw, WithoutTextBody());
    CheckSameWithoutTextBody(with, without);
    if (test.warning != nullptr)
      CHECK(HasWarning(without, test.warning));
  }
}

// ---------------------------------------------------------------------------
// Parsing only the header block of a leaf message with GMime must give the
// same record as letting GMime scan the whole body.

void CheckSameRecord(const std::string& raw) {
  ParseOptions full;
  full.scan_leaf_bodies = true;
  ParseOptions prefix;
  prefix.scan_leaf_bodies = false;
  for (const bool text_body : {false, true}) {
    INFO("text_body: " << text_body);
    full.text_body = text_body;
    prefix.text_body = text_body;
    const ParsedMessage expected = ParseMessage(raw, full);
    const ParsedMessage actual = ParseMessage(raw, prefix);
    CHECK(actual.message_id == expected.message_id);
    CHECK(actual.message_id_malformed == expected.message_id_malformed);
    CHECK(actual.synthetic_key == expected.synthetic_key);
    CHECK(actual.alias_ids == expected.alias_ids);
    CHECK(actual.contained_ids == expected.contained_ids);
    CHECK(actual.in_reply_to == expected.in_reply_to);
    CHECK(actual.sender == expected.sender);
    CHECK(actual.sender_display == expected.sender_display);
    CHECK(actual.recipients == expected.recipients);
    CHECK(actual.subject == expected.subject);
    CHECK(actual.raw_subject == expected.raw_subject);
    CHECK(actual.date == expected.date);
    CHECK(actual.size == expected.size);
    CHECK(actual.text_body == expected.text_body);
    CHECK(actual.text_body_truncated == expected.text_body_truncated);
    CHECK(actual.warnings == expected.warnings);
    REQUIRE(actual.attachments.size() == expected.attachments.size());
    for (size_t i = 0; i < expected.attachments.size(); ++i) {
      INFO("attachment " << i);
      CHECK(actual.attachments[i].filename == expected.attachments[i].filename);
      CHECK(actual.attachments[i].content_type == expected.attachments[i].content_type);
      CHECK(actual.attachments[i].size == expected.attachments[i].size);
      CHECK(actual.attachments[i].sha256 == expected.attachments[i].sha256);
      CHECK(actual.attachments[i].md5 == expected.attachments[i].md5);
      CHECK(actual.attachments[i].depth == expected.attachments[i].depth);
      CHECK(actual.attachments[i].origin == expected.attachments[i].origin);
      CHECK(actual.attachments[i].undecodable == expected.attachments[i].undecodable);
    }
  }
}

TEST_CASE("ParseMessage header-only GMime parse of leaf messages") {
  // Built here: leaf bodies longer than the prefix GMime gets, in each
  // transfer encoding, with and without a final line break.
  std::string long_text;
  for (int i = 0; i < 400; ++i)
    long_text += "line " + std::to_string(i) + " of the body\r\n";
  std::string long_base64;
  for (int i = 0; i < 200; ++i)
    long_base64 += "SGVsbG8sIHdvcmxkISBIZWxsbywgd29ybGQhIEhlbGxvLCB3b3JsZCEg\r\n";
  const std::string headers =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
      "Message-ID: <leaf@example.com>\r\n";
  const std::vector<std::string> built = {
      headers + "Content-Type: text/plain\r\n\r\n" + long_text,
      headers + "Content-Type: text/plain\r\n\r\n" + long_text + "no final line break",
      headers + "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" + long_text,
      headers + "Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
          long_base64,
      headers +
          "Content-Type: application/pdf; name=\"a.pdf\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n" +
          long_base64,
      headers + "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
          long_base64,
      headers + "\r\n" + long_text + "begin 644 x.bin\r\n#86)C\r\n`\r\nend\r\n",
      headers +
          "Content-Type: text/plain\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
          "Content-Type: text/plain\r\n\r\n" +
          long_text + "--x--\r\n",
      headers + "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n" + long_text +
          "--x--\r\n",
      headers + "Content-Type: message/rfc822\r\n\r\n" + headers + "\r\n" + long_text,
  };
  for (size_t i = 0; i < built.size(); ++i) {
    INFO("built message " << i);
    CheckSameRecord(built[i]);
  }

  for (const char* name :
       {"attachment-names.eml", "broken-multipart.eml", "empty.eml", "forwarded-base64.eml",
        "forwarded-nested.eml", "headers-only.eml", "messy-base64.eml", "no-message-id.eml",
        "uuencoded-body.eml", "subject-unknown-charset.eml"}) {
    INFO("fixture: " << name);
    const std::optional<std::string> raw = testing::ReadFile(FixturePath(name));
    REQUIRE(raw.has_value());
    CheckSameRecord(*raw);
  }

  const std::string corpus = testing::ExternalInputsDir() + "/corpus/eml";
  const std::optional<std::string> manifest_text = testing::ReadFile(corpus + "/MANIFEST.json");
  if (!manifest_text) {
    MESSAGE("corpus part skipped: corpus/eml/MANIFEST.json not found in "
            << testing::ExternalInputsDir() << "; set RECLAIM_SHARED_INPUTS");
    return;
  }
  for (const nlohmann::json& entry : nlohmann::json::parse(*manifest_text).at("files")) {
    const std::string file = entry.at("file").get<std::string>();
    INFO("corpus file: " << file);
    const std::optional<std::string> raw = testing::ReadFile(corpus + "/" + file);
    REQUIRE(raw.has_value());
    CheckSameRecord(*raw);
  }
}

}  // namespace
}  // namespace reclaim
