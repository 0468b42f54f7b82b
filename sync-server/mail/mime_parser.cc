#include "sync-server/mail/mime_parser.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "shared/message_id.h"
#include "sync-server/mail/encoded_words.h"
#include "sync-server/mail/hashing.h"
#include "sync-server/mail/html_text.h"
#include "sync-server/mail/transfer_decoding.h"

namespace reclaim {
namespace {

// Each embedded message is parsed again from its own bytes, so nesting costs
// one parse per level, and the limit bounds the work that a crafted message
// can cause. NOTE: 16 is a guess, well above the nesting of ordinary forwards.
constexpr int kMaxEmbeddingDepth = 16;

// GMime can report a problem per header or part, and a hostile message can have
// thousands of them, so only the first few are kept.
constexpr size_t kMaxParserWarnings = 20;

// Maximum length, in bytes, of offending text quoted in a warning.
constexpr size_t kMaxQuotedLength = 80;

// ---------------------------------------------------------------------------
// Small helpers: GObject ownership, strings.

struct GObjectDeleter {
  void operator()(void* object) const {
    if (object != nullptr)
      g_object_unref(object);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter>;

struct ParserOptionsDeleter {
  void operator()(GMimeParserOptions* options) const { g_mime_parser_options_free(options); }
};

struct GFreeDeleter {
  void operator()(void* memory) const { g_free(memory); }
};
using GCharPtr = std::unique_ptr<char, GFreeDeleter>;

// A GByteArray over bytes that it does not own, so that GMime parses a
// message where it lies: g_mime_stream_mem_new_with_buffer would copy it.
// GMime 3.2.13's memory streams write to their array only through
// g_mime_stream_write and seeks past the end, which parsing never calls, so
// the bytes are never modified despite the const_cast. Every stream made
// over the array must be released before this object.
class BorrowedByteArray {
 public:
  explicit BorrowedByteArray(std::string_view bytes)
      : array_(g_byte_array_new_take(reinterpret_cast<guint8*>(const_cast<char*>(bytes.data())),
                                     bytes.size())) {}
  // Frees the wrapper and leaves the bytes to their owner.
  ~BorrowedByteArray() { g_byte_array_free(array_, FALSE); }
  BorrowedByteArray(const BorrowedByteArray&) = delete;
  BorrowedByteArray& operator=(const BorrowedByteArray&) = delete;

  GByteArray* get() const { return array_; }

 private:
  GByteArray* array_;
};

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string Trim(std::string_view text) {
  while (!text.empty() && IsWhitespace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && IsWhitespace(text.back()))
    text.remove_suffix(1);
  return std::string(text);
}

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = g_ascii_tolower(c);
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Returns `text` for quoting in a warning: UTF-8, control characters as
// '?', at most kMaxQuotedLength bytes.
std::string QuoteForWarning(std::string_view text) {
  bool converted = false;
  std::string out = EnsureUtf8(text.substr(0, kMaxQuotedLength), &converted);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  }
  if (text.size() > kMaxQuotedLength)
    out += "...";
  return "\"" + out + "\"";
}

// Lower-cases the domain of an address. The local part is case-sensitive
// under RFC 5321, so it stays as written.
std::string LowerCaseDomain(std::string_view address) {
  std::string out = Trim(address);
  const size_t at = out.rfind('@');
  if (at != std::string::npos)
    std::transform(out.begin() + at + 1, out.end(), out.begin() + at + 1, g_ascii_tolower);
  return out;
}

// ---------------------------------------------------------------------------
// GMime parser warnings.

std::string DescribeParserWarning(GMimeParserWarning code) {
  switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "a header field that may occur once is repeated";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "a header parameter is repeated";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "a header field contains unencoded 8-bit text";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "invalid Content-Type, read as application/octet-stream";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "invalid RFC 2047 encoded-word in a header field";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "multipart without child parts";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "message is truncated (a closing boundary is missing)";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "message is malformed";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid header field name, so later header fields may be lost";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting header fields";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting header parameters";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart without a boundary parameter, so its parts were not parsed";
    case GMIME_WARN_INVALID_PARAMETER:
      return "invalid header parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "MIME parts nested too deep, so deeper parts were not parsed";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "MIME part whose headers end at a boundary, so it has no content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "MIME part without headers or content";
  }
  return "parser warning " + std::to_string(static_cast<int>(code));
}

struct ParserWarnings {
  std::vector<std::string> messages;
  size_t dropped_count = 0;
};

void CollectParserWarning(gint64 offset, GMimeParserWarning code, const gchar* item,
                          gpointer user_data) {
  auto* warnings = static_cast<ParserWarnings*>(user_data);
  if (warnings->messages.size() >= kMaxParserWarnings) {
    ++warnings->dropped_count;
    return;
  }
  std::string message = "MIME parser: " + DescribeParserWarning(code);
  if (offset >= 0)
    message += " at byte " + std::to_string(offset);
  if (item != nullptr)
    message += ": " + QuoteForWarning(item);
  warnings->messages.push_back(std::move(message));
}

// ---------------------------------------------------------------------------
// Header fields of the top-level message.

// Returns the raw values (as written, folded) of every field called `name`,
// compared without case, in header order.
std::vector<std::string> RawHeaderValues(GMimeObject* object, const char* name) {
  std::vector<std::string> values;
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  const int count = headers != nullptr ? g_mime_header_list_get_count(headers) : 0;
  for (int i = 0; i < count; ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
    const char* header_name = g_mime_header_get_name(header);
    if (header_name == nullptr || g_ascii_strcasecmp(header_name, name) != 0)
      continue;
    const char* raw_value = g_mime_header_get_raw_value(header);
    values.emplace_back(raw_value != nullptr ? raw_value : "");
  }
  return values;
}

std::optional<std::string> FirstRawHeaderValue(GMimeObject* object, const char* name) {
  std::vector<std::string> values = RawHeaderValues(object, name);
  if (values.empty())
    return std::nullopt;
  return std::move(values.front());
}

// The raw values of the top-level fields that the index reads, each list in
// header order, as RawHeaderValues returns them.
struct TopLevelFields {
  std::vector<std::string> message_id;
  std::vector<std::string> in_reply_to;
  std::vector<std::string> from;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::vector<std::string> delivered_to;
  std::vector<std::string> original_to;  // X-Original-To
  std::vector<std::string> subject;
  std::vector<std::string> date;
};

// Gathers TopLevelFields in one pass over the header list, where a look-up
// per field would walk the whole list nine times.
TopLevelFields GatherTopLevelFields(GMimeObject* object) {
  TopLevelFields fields;
  const std::pair<const char*, std::vector<std::string>*> wanted[] = {
      {"Message-ID", &fields.message_id},
      {"In-Reply-To", &fields.in_reply_to},
      {"From", &fields.from},
      {"To", &fields.to},
      {"Cc", &fields.cc},
      {"Delivered-To", &fields.delivered_to},
      {"X-Original-To", &fields.original_to},
      {"Subject", &fields.subject},
      {"Date", &fields.date},
  };
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  const int count = headers != nullptr ? g_mime_header_list_get_count(headers) : 0;
  for (int i = 0; i < count; ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
    const char* header_name = g_mime_header_get_name(header);
    if (header_name == nullptr)
      continue;
    for (const auto& [name, values] : wanted) {
      if (g_ascii_strcasecmp(header_name, name) == 0) {
        const char* raw_value = g_mime_header_get_raw_value(header);
        values->emplace_back(raw_value != nullptr ? raw_value : "");
        break;
      }
    }
  }
  return fields;
}

// Returns the first of `values`, or nullptr when there is none.
const std::string* First(const std::vector<std::string>& values) {
  return values.empty() ? nullptr : &values.front();
}

// Reads Message-ID (from the raw value, because GMime keeps only the last
// field and drops a malformed id), In-Reply-To and the synthetic key.
void ReadIdentity(const TopLevelFields& fields, std::string_view raw, ParsedMessage& message) {
  const std::vector<std::string>& ids = fields.message_id;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Result<MessageId> id = NormalizeMessageId(ids[i], "Message-ID");
    if (!id.ok()) {
      message.warnings.push_back("Message-ID field is empty");
      continue;
    }
    if (i == 0) {
      message.message_id = id.value().value;
      message.message_id_malformed = id.value().malformed;
    } else {
      message.alias_ids.push_back(id.value().value);
    }
  }
  if (ids.size() > 1)
    message.warnings.push_back("duplicate Message-ID field");
  if (ids.empty())
    message.warnings.push_back("Message-ID field is missing");
  if (message.message_id.empty())
    message.synthetic_key = "sha256:" + Sha256Hex(raw);

  if (const std::string* in_reply_to = First(fields.in_reply_to)) {
    const Result<MessageId> id = NormalizeMessageId(*in_reply_to, "In-Reply-To");
    if (id.ok())
      message.in_reply_to = id.value().value;
  }
}

// Appends the addresses of `list` to `out`, the members of groups included.
void AppendAddresses(InternetAddressList* list, std::vector<std::string>& out) {
  const int count = list != nullptr ? internet_address_list_length(list) : 0;
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      AppendAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      if (addr != nullptr && *addr != '\0')
        out.push_back(LowerCaseDomain(addr));
    }
  }
}

// Parses an address field with GMime's default options: the parse of the
// message already reported invalid lists, so no warning callback is set.
std::vector<std::string> ParseAddresses(std::string_view raw_value) {
  std::vector<std::string> addresses;
  const std::string unfolded = UnfoldHeaderValue(raw_value);
  GObjectPtr<InternetAddressList> list(internet_address_list_parse(nullptr, unfolded.c_str()));
  AppendAddresses(list.get(), addresses);
  return addresses;
}

// Returns the address inside the last <...> of a field that GMime could not
// parse, such as `Name <junk@<user@example.com>`, or nothing when that text
// is no address (no '@', or whitespace inside).
std::optional<std::string> LastAngleAddress(std::string_view unfolded) {
  const size_t open = unfolded.rfind('<');
  const size_t close = open == std::string_view::npos ? open : unfolded.find('>', open);
  if (close == std::string_view::npos)
    return std::nullopt;
  const std::string_view address = unfolded.substr(open + 1, close - open - 1);
  const bool has_whitespace = std::any_of(address.begin(), address.end(), IsWhitespace);
  if (address.find('@') == std::string_view::npos || has_whitespace)
    return std::nullopt;
  return LowerCaseDomain(address);
}

void ReadSender(const TopLevelFields& fields, ParsedMessage& message) {
  const std::string* from = First(fields.from);
  if (from == nullptr) {
    message.warnings.push_back("From field is missing");
    return;
  }
  const std::string unfolded = Trim(UnfoldHeaderValue(*from));
  message.sender_display = Trim(DecodeHeaderText(unfolded, "From", message.warnings));
  const std::vector<std::string> senders = ParseAddresses(unfolded);
  if (!senders.empty()) {
    message.sender = senders.front();
    return;
  }
  if (const auto address = LastAngleAddress(unfolded)) {
    message.sender = *address;
    message.warnings.push_back("From field " + QuoteForWarning(unfolded) +
                               " is malformed, so the sender was taken from its last <...>");
    return;
  }
  message.warnings.push_back("From field " + QuoteForWarning(unfolded) + " has no address");
}

void ReadRecipients(const TopLevelFields& fields, ParsedMessage& message) {
  std::unordered_set<std::string> seen;
  for (const std::vector<std::string>* values :
       {&fields.to, &fields.cc, &fields.delivered_to, &fields.original_to}) {
    for (const std::string& raw_value : *values) {
      for (std::string& address : ParseAddresses(raw_value)) {
        if (seen.insert(ToLowerAscii(address)).second)
          message.recipients.push_back(std::move(address));
      }
    }
  }
}

void ReadSubjectAndDate(const TopLevelFields& fields, ParsedMessage& message) {
  if (const std::string* subject = First(fields.subject)) {
    const std::string unfolded = Trim(UnfoldHeaderValue(*subject));
    bool converted = false;
    message.raw_subject = EnsureUtf8(unfolded, &converted);
    message.subject = DecodeHeaderText(unfolded, "Subject", message.warnings);
  }

  const std::string* date = First(fields.date);
  if (date == nullptr) {
    message.warnings.push_back("Date field is missing, so the date is 0");
    return;
  }
  const std::string value = Trim(UnfoldHeaderValue(*date));
  GDateTime* parsed = g_mime_utils_header_decode_date(value.c_str());
  if (parsed == nullptr) {
    message.warnings.push_back("Date field " + QuoteForWarning(value) +
                               " is invalid, so the date is 0");
    return;
  }
  message.date = g_date_time_to_unix(parsed);
  g_date_time_unref(parsed);
}

// ---------------------------------------------------------------------------
// The MIME tree.

// State carried along a walk over one parsed buffer.
struct WalkContext {
  std::string_view raw;  // the bytes GMime parsed, which header offsets index
  int depth = 0;
  // Boundaries of the enclosing multiparts, outermost first.
  std::vector<std::string> boundaries;
  ParsedMessage* message = nullptr;
  // Candidates for ParsedMessage::text_body, collected at depth 0 only: the
  // decoded bytes of the first text/plain body part and its charset, and the
  // first text/html body part (owned by the parsed message), which is
  // decoded only when no text/plain part exists. Without
  // ParseOptions::text_body, `plain_body` is found but left empty.
  bool want_text_body = true;
  std::optional<std::string> plain_body;
  std::string plain_charset;
  GMimePart* html_body = nullptr;
  // The top-level leaf part when GMime parsed only a prefix of `raw`
  // (ParseOptions::scan_leaf_bodies off); its body runs to the end of `raw`.
  GMimePart* prefix_root = nullptr;
};

ParsedMessage ParseAtDepth(std::string_view raw, int depth, const ParseOptions& parse_options);

std::string ReadWholeStream(GMimeStream* stream) {
  std::string bytes;
  if (stream == nullptr)
    return bytes;
  g_mime_stream_reset(stream);
  char buffer[16384];
  while (true) {
    const ssize_t count = g_mime_stream_read(stream, buffer, sizeof buffer);
    if (count <= 0)
      break;
    bytes.append(buffer, static_cast<size_t>(count));
  }
  return bytes;
}

// Returns the charset parameter of a part's Content-Type, empty when absent.
std::string CharsetOf(GMimeObject* part) {
  const char* charset = g_mime_object_get_content_type_parameter(part, "charset");
  return charset != nullptr ? Trim(charset) : std::string();
}

std::string ContentTypeOf(GMimeObject* part) {
  GMimeContentType* content_type = g_mime_object_get_content_type(part);
  if (content_type == nullptr)
    return "application/octet-stream";
  GCharPtr mime_type(g_mime_content_type_get_mime_type(content_type));
  return mime_type ? ToLowerAscii(mime_type.get()) : "application/octet-stream";
}

// Returns the part's file name as UTF-8: the Content-Disposition filename,
// else the Content-Type name (the order of g_mime_part_get_filename). GMime
// decodes RFC 2231 and encoded-words inside quotes, and any words it left
// encoded are decoded here.
std::string FilenameOf(GMimeObject* part, std::vector<std::string>& warnings) {
  const char* name = g_mime_object_get_content_disposition_parameter(part, "filename");
  if (name == nullptr)
    name = g_mime_object_get_content_type_parameter(part, "name");
  if (name == nullptr)
    return {};
  std::string filename = name;
  if (filename.find("=?") != std::string::npos)
    filename = DecodeHeaderText(filename, "filename", warnings);
  bool converted = false;
  return Trim(EnsureUtf8(filename, &converted));
}

// Returns a leaf part's body as transmitted. The parser's content stream of a
// part is a bounded memory stream over the buffer it parsed, so the bytes
// are taken from `context.raw` without a copy. A stream of any other kind is
// read into `*copy`.
std::string_view EncodedContent(GMimePart* part, const WalkContext& context, std::string* copy) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  GMimeStream* stream = content != nullptr ? g_mime_data_wrapper_get_stream(content) : nullptr;
  const GByteArray* array = stream != nullptr && GMIME_IS_STREAM_MEM(stream)
                                ? g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream))
                                : nullptr;
  if (array != nullptr && reinterpret_cast<const char*>(array->data) == context.raw.data()) {
    const gint64 start = stream->bound_start;
    gint64 end = stream->bound_end != -1 ? stream->bound_end : gint64{array->len};
    if (part == context.prefix_root && end == gint64{array->len})
      end = static_cast<gint64>(context.raw.size());
    if (0 <= start && start <= end && static_cast<size_t>(end) <= context.raw.size())
      return context.raw.substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
  }
  *copy = ReadWholeStream(stream);
  return *copy;
}

// Decodes a leaf part's body by its own Content-Transfer-Encoding field.
DecodedBody DecodePartBody(GMimePart* part, const WalkContext& context) {
  std::string copy;
  const std::string_view encoded = EncodedContent(part, context, &copy);
  const auto encoding = FirstRawHeaderValue(GMIME_OBJECT(part), "Content-Transfer-Encoding");
  return DecodeTransferEncoding(encoded, encoding.value_or(""));
}

void AddAttachment(std::string filename, std::string content_type, const DecodedBody& body,
                   AttachmentOrigin origin, WalkContext& context) {
  ParsedMessage& message = *context.message;
  const std::string label = filename.empty() ? content_type : filename;
  for (const std::string& warning : body.warnings)
    message.warnings.push_back("attachment " + QuoteForWarning(label) + ": " + warning);

  Attachment attachment;
  attachment.filename = std::move(filename);
  attachment.content_type = std::move(content_type);
  attachment.depth = context.depth;
  attachment.origin = origin;
  if (body.decodable) {
    attachment.size = body.bytes.size();
    Sha256AndMd5 digests = Sha256AndMd5Hex(body.bytes);
    attachment.sha256 = std::move(digests.sha256);
    attachment.md5 = std::move(digests.md5);
  } else {
    attachment.undecodable = true;
    message.warnings.push_back("attachment " + QuoteForWarning(label) +
                               " could not be decoded and was not hashed");
  }
  message.attachments.push_back(std::move(attachment));
}

// Records an embedded message as an attachment hashed over its bytes, then
// parses it one level deeper and adopts its ids and attachments.
void IndexEmbeddedMessage(std::string_view bytes, std::string filename, WalkContext& context) {
  ParsedMessage& message = *context.message;
  if (bytes.empty()) {
    message.warnings.push_back("embedded message is empty and was not indexed");
    return;
  }
  DecodedBody body;
  body.bytes = std::string(bytes);
  AddAttachment(std::move(filename), "message/rfc822", body, AttachmentOrigin::kEmbeddedMessage,
                context);

  const int inner_depth = context.depth + 1;
  if (inner_depth > kMaxEmbeddingDepth) {
    message.warnings.push_back("embedded messages nested deeper than " +
                               std::to_string(kMaxEmbeddingDepth) + " levels were not parsed");
    return;
  }
  ParsedMessage inner = ParseAtDepth(bytes, inner_depth, ParseOptions());
  if (!inner.message_id.empty())
    message.contained_ids.push_back(inner.message_id);
  for (std::string& id : inner.alias_ids)
    message.contained_ids.push_back(std::move(id));
  for (std::string& id : inner.contained_ids)
    message.contained_ids.push_back(std::move(id));
  for (Attachment& attachment : inner.attachments)
    message.attachments.push_back(std::move(attachment));
  const std::string prefix = "embedded message at depth " + std::to_string(inner_depth) + ": ";
  for (const std::string& warning : inner.warnings)
    message.warnings.push_back(prefix + warning);
}

// Returns true for a delimiter line of one of `boundaries`: "--boundary",
// optionally "--" after it, then only whitespace.
bool IsDelimiterLine(std::string_view line, const std::vector<std::string>& boundaries) {
  for (const std::string& boundary : boundaries) {
    if (!StartsWith(line, "--") || line.substr(2, boundary.size()) != boundary)
      continue;
    std::string_view rest = line.substr(2 + boundary.size());
    if (StartsWith(rest, "--"))
      rest.remove_prefix(2);
    if (Trim(rest).empty())
      return true;
  }
  return false;
}

// Returns the offset of the first delimiter line of `boundaries` at or after
// `from` (a line start), or raw.size() when there is none.
size_t FindDelimiterLine(std::string_view raw, size_t from,
                         const std::vector<std::string>& boundaries) {
  size_t line_start = from;
  while (line_start < raw.size()) {
    size_t line_end = raw.find('\n', line_start);
    if (line_end == std::string_view::npos)
      line_end = raw.size();
    if (IsDelimiterLine(raw.substr(line_start, line_end - line_start), boundaries))
      return line_start;
    line_start = line_end + 1;
  }
  return raw.size();
}

// Returns the offset just past the blank line that ends the header block in
// which `header_offset` lies, or the offset of a delimiter line that comes
// first (a part without content).
size_t SkipHeaderBlock(std::string_view raw, size_t header_offset,
                       const std::vector<std::string>& boundaries) {
  size_t line_start = header_offset;
  while (line_start < raw.size()) {
    size_t line_end = raw.find('\n', line_start);
    if (line_end == std::string_view::npos)
      return raw.size();
    const std::string_view line = raw.substr(line_start, line_end - line_start);
    if (line.empty() || line == "\r")
      return line_end + 1;
    if (IsDelimiterLine(line, boundaries))
      return line_start;
    line_start = line_end + 1;
  }
  return raw.size();
}

// Returns the smallest header offset of `object`, or nothing when it has no
// header fields.
std::optional<size_t> FirstHeaderOffset(GMimeObject* object) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  const int count = headers != nullptr ? g_mime_header_list_get_count(headers) : 0;
  std::optional<size_t> first;
  for (int i = 0; i < count; ++i) {
    const gint64 offset = g_mime_header_get_offset(g_mime_header_list_get_header_at(headers, i));
    if (offset >= 0 && (!first || static_cast<size_t>(offset) < *first))
      first = static_cast<size_t>(offset);
  }
  return first;
}

// Finds the bytes of a message/rfc822 part's body in the raw buffer. They
// start after the part's header block, or at the embedded message's first
// header in a multipart/digest part without headers. They end at the line
// break before the next delimiter of an enclosing multipart. GMime 3.2 writes
// embedded messages with LF line ends, so its output cannot be hashed instead.
std::optional<std::string_view> LocateEmbeddedMessage(GMimeMessagePart* part,
                                                      const WalkContext& context) {
  const std::string_view raw = context.raw;
  size_t begin = 0;
  if (const auto part_headers = FirstHeaderOffset(GMIME_OBJECT(part))) {
    begin = SkipHeaderBlock(raw, *part_headers, context.boundaries);
  } else {
    GMimeMessage* embedded = g_mime_message_part_get_message(part);
    const auto message_headers =
        embedded != nullptr ? FirstHeaderOffset(GMIME_OBJECT(embedded)) : std::nullopt;
    if (!message_headers)
      return std::nullopt;
    begin = *message_headers;
  }
  if (begin > raw.size())
    return std::nullopt;

  size_t end = FindDelimiterLine(raw, begin, context.boundaries);
  // The line break before a delimiter belongs to the delimiter (RFC 2046).
  if (end < raw.size() && end > begin && raw[end - 1] == '\n')
    --end;
  if (end < raw.size() && end > begin && raw[end - 1] == '\r')
    --end;
  return raw.substr(begin, end - begin);
}

void IndexLeafPart(GMimePart* part, WalkContext& context) {
  ParsedMessage& message = *context.message;
  const std::string content_type = ContentTypeOf(GMIME_OBJECT(part));
  std::string filename = FilenameOf(GMIME_OBJECT(part), message.warnings);
  const bool is_text = StartsWith(content_type, "text/");
  const bool is_multipart = StartsWith(content_type, "multipart/");
  const bool is_attachment = !filename.empty() || (!is_text && !is_multipart);
  const bool is_plain_text = content_type == "text/plain";
  const bool is_embedded_message = content_type == "message/rfc822";
  const bool is_top_level_body = !is_attachment && context.depth == 0;
  if (is_top_level_body && content_type == "text/html" && context.html_body == nullptr)
    context.html_body = part;
  if (!is_attachment && !is_plain_text)
    return;  // a body such as text/html, which the index does not hash

  DecodedBody body = DecodePartBody(part, context);

  // GMime parses message/rfc822 only when it is not transfer-encoded; a
  // base64 or quoted-printable one arrives here as a leaf.
  if (is_embedded_message && body.decodable) {
    IndexEmbeddedMessage(body.bytes, std::move(filename), context);
    return;
  }
  if (is_attachment) {
    const AttachmentOrigin origin =
        is_embedded_message ? AttachmentOrigin::kEmbeddedMessage : AttachmentOrigin::kMimePart;
    AddAttachment(filename, content_type, body, origin, context);
  }
  if (is_plain_text && body.decodable && is_top_level_body && !context.plain_body) {
    context.plain_body = context.want_text_body ? body.bytes : std::string();
    context.plain_charset = CharsetOf(GMIME_OBJECT(part));
  }
  if (is_plain_text && body.decodable) {
    for (UuencodedFile& file : FindUuencodedFiles(body.bytes)) {
      bool converted = false;
      AddAttachment(EnsureUtf8(file.name, &converted), "application/octet-stream", file.body,
                    AttachmentOrigin::kUuencodedInBody, context);
    }
  }
}

void WalkPart(GMimeObject* part, WalkContext& context) {
  if (GMIME_IS_MULTIPART(part)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(part);
    const char* boundary = g_mime_multipart_get_boundary(multipart);
    const bool has_boundary = boundary != nullptr && *boundary != '\0';
    if (has_boundary)
      context.boundaries.emplace_back(boundary);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i)
      WalkPart(g_mime_multipart_get_part(multipart, i), context);
    if (has_boundary)
      context.boundaries.pop_back();
  } else if (GMIME_IS_MESSAGE_PART(part)) {
    std::string filename = FilenameOf(part, context.message->warnings);
    const auto bytes = LocateEmbeddedMessage(GMIME_MESSAGE_PART(part), context);
    if (bytes) {
      IndexEmbeddedMessage(*bytes, std::move(filename), context);
    } else {
      context.message->warnings.push_back(
          "embedded message could not be located in the raw message and was not indexed");
    }
  } else if (GMIME_IS_PART(part)) {
    IndexLeafPart(GMIME_PART(part), context);
  }
}

constexpr const char* kUndecodableHtmlBody =
    "text/html body could not be decoded, so the message has no text body";

void WarnUnknownBodyCharset(const std::string& charset, std::vector<std::string>& warnings) {
  warnings.push_back("text body has the unknown charset " + QuoteForWarning(charset) +
                     ", so it was read as UTF-8 or windows-1252");
}

// Converts body bytes in `charset` to UTF-8. Without a charset, or with one
// iconv does not know, valid UTF-8 is kept and anything else is read as
// windows-1252.
std::string BodyTextToUtf8(std::string_view bytes, const std::string& charset,
                           std::vector<std::string>& warnings) {
  if (!charset.empty()) {
    if (std::optional<std::string> text = ConvertToUtf8(bytes, charset))
      return std::move(*text);
    WarnUnknownBodyCharset(charset, warnings);
  }
  bool converted = false;
  return EnsureUtf8(bytes, &converted);
}

// Adds the warnings that FillTextBody would add, without building the text:
// an undecodable text/html body, or a body charset that iconv does not know.
void WarnAboutTextBody(const WalkContext& context, ParsedMessage& message) {
  std::string charset = context.plain_charset;
  if (!context.plain_body && context.html_body != nullptr) {
    // Only base64 and uuencode bodies can be undecodable, so the others
    // are not decoded just to learn that.
    const auto encoding =
        FirstRawHeaderValue(GMIME_OBJECT(context.html_body), "Content-Transfer-Encoding");
    const TransferEncoding kind = ParseTransferEncoding(encoding.value_or(""));
    const bool can_fail = kind == TransferEncoding::kBase64 || kind == TransferEncoding::kUuencode;
    if (can_fail && !DecodePartBody(context.html_body, context).decodable) {
      message.warnings.push_back(kUndecodableHtmlBody);
      return;
    }
    charset = CharsetOf(GMIME_OBJECT(context.html_body));
  } else if (!context.plain_body) {
    return;
  }
  if (!charset.empty() && !IsConvertibleToUtf8(charset))
    WarnUnknownBodyCharset(charset, message.warnings);
}

// Turns CR LF and lone CR line ends into LF.
std::string ToLfLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
    } else if (i + 1 >= text.size() || text[i + 1] != '\n') {
      out.push_back('\n');
    }
  }
  return out;
}

// Sets the message's text_body from the candidates the walk collected.
void FillTextBody(const WalkContext& context, ParsedMessage& message) {
  std::string text;
  if (context.plain_body) {
    text = ToLfLineEnds(BodyTextToUtf8(*context.plain_body, context.plain_charset,
                                       message.warnings));
  } else if (context.html_body != nullptr) {
    const DecodedBody body = DecodePartBody(context.html_body, context);
    if (!body.decodable) {
      message.warnings.push_back(kUndecodableHtmlBody);
      return;
    }
    text = HtmlToText(
        BodyTextToUtf8(body.bytes, CharsetOf(GMIME_OBJECT(context.html_body)), message.warnings));
  }
  while (!text.empty() && IsWhitespace(text.back()))
    text.pop_back();
  if (text.size() > kMaxTextBodyBytes) {
    // Cut before a UTF-8 continuation byte, so no character is split.
    size_t cut = kMaxTextBodyBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;
    text.resize(cut);
    message.text_body_truncated = true;
  }
  message.text_body = std::move(text);
}

// Bytes of the body that GMime gets along with the header block when it
// parses a prefix, so that it never reports a part without content.
constexpr size_t kParsedBodyPrefixBytes = 4096;

// Returns whether a Content-Type value names a type whose body GMime must
// parse: multipart/* or message/*. Comments and quoting before the type are
// not handled, which only makes the caller parse more than it needs.
bool NamesContainerType(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                            value.front() == '\r' || value.front() == '\n'))
    value.remove_prefix(1);
  const std::string start = ToLowerAscii(value.substr(0, 10));
  return start.rfind("multipart/", 0) == 0 || start.rfind("message/", 0) == 0 ||
         (!value.empty() && value.front() == '(');
}

// Returns how many bytes of `raw` GMime needs to parse the top-level header
// block: up to the first empty line and kParsedBodyPrefixBytes beyond it.
// Returns raw.size() when the block has a Content-Type field that names a
// multipart or message type, or more than one Content-Type field, because
// GMime then parses the body too. GMime ends the header block at the first
// empty line or earlier, so the prefix contains the whole block. GMime
// stores a leaf part's body without parsing it, so the rest of the body
// changes nothing that GMime reports. The test "ParseMessage header-only
// GMime parse of leaf messages" compares both ways on the fixtures and the
// corpus.
size_t ParsePrefixSize(std::string_view raw) {
  constexpr std::string_view kContentType = "content-type:";
  size_t content_type_fields = 0;
  bool in_content_type = false;
  std::string content_type;
  size_t line_start = 0;
  while (line_start < raw.size()) {
    const size_t line_end = raw.find('\n', line_start);
    if (line_end == std::string_view::npos)
      return raw.size();
    const std::string_view line = raw.substr(line_start, line_end - line_start);
    if (line.empty() || line == "\r") {
      if (content_type_fields > 1 || NamesContainerType(content_type))
        return raw.size();
      return std::min(raw.size(), line_end + 1 + kParsedBodyPrefixBytes);
    }
    const bool continuation = line.front() == ' ' || line.front() == '\t';
    if (!continuation) {
      in_content_type = ToLowerAscii(line.substr(0, kContentType.size())) == kContentType;
      if (in_content_type) {
        ++content_type_fields;
        content_type = std::string(line.substr(kContentType.size()));
      }
    } else if (in_content_type) {
      content_type.append(line);
    }
    line_start = line_end + 1;
  }
  return raw.size();
}

// A message as GMime parsed it, with the warnings it reported.
struct ParsedByGmime {
  ParserWarnings warnings;
  std::optional<BorrowedByteArray> borrowed;
  GObjectPtr<GMimeStream> stream;
  GObjectPtr<GMimeParser> parser;
  GObjectPtr<GMimeMessage> message;

  void Parse(std::string_view bytes) {
    std::unique_ptr<GMimeParserOptions, ParserOptionsDeleter> options(
        g_mime_parser_options_new());
    g_mime_parser_options_set_warning_callback(options.get(), CollectParserWarning, &warnings);
    // GByteArray lengths are 32-bit, so a buffer over 4 GiB cannot be
    // borrowed. It is copied instead, and g_mime_stream_mem_new_with_buffer
    // cuts its length to 32 bits.
    if (bytes.size() <= G_MAXUINT) {
      borrowed.emplace(bytes);
      stream.reset(g_mime_stream_mem_new_with_byte_array(borrowed->get()));
      g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream.get()), FALSE);
    } else {
      stream.reset(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
    }
    parser.reset(g_mime_parser_new_with_stream(stream.get()));
    message.reset(g_mime_parser_construct_message(parser.get(), options.get()));
  }
};

// Parses one message, the top-level one at depth 0 or an embedded one.
ParsedMessage ParseAtDepth(std::string_view raw, int depth, const ParseOptions& parse_options) {
  ParsedMessage message;
  message.size = raw.size();
  if (raw.empty()) {
    message.warnings.push_back("message is empty (0 bytes)");
    message.synthetic_key = "sha256:" + Sha256Hex(raw);
    return message;
  }

  // Step 1: let GMime parse the bytes, collecting its complaints. Without
  // scan_leaf_bodies it first gets only the header block and the start of
  // the body (ParsePrefixSize). It gets the whole message when the
  // top-level part is a multipart or an embedded message.
  std::optional<ParsedByGmime> prefix_parse;
  std::optional<ParsedByGmime> full_parse;
  ParsedByGmime* gmime = nullptr;
  if (!parse_options.scan_leaf_bodies) {
    const size_t prefix = ParsePrefixSize(raw);
    if (prefix < raw.size()) {
      prefix_parse.emplace();
      prefix_parse->Parse(raw.substr(0, prefix));
      GMimeObject* root = prefix_parse->message
                              ? g_mime_message_get_mime_part(prefix_parse->message.get())
                              : nullptr;
      if (root != nullptr && GMIME_IS_PART(root) && !GMIME_IS_MESSAGE_PART(root))
        gmime = &*prefix_parse;
    }
  }
  const bool prefix_only = gmime != nullptr;
  if (!prefix_only) {
    prefix_parse.reset();
    full_parse.emplace();
    full_parse->Parse(raw);
    gmime = &*full_parse;
  }
  ParserWarnings& parser_warnings = gmime->warnings;
  GMimeMessage* parsed_message = gmime->message.get();

  // Step 2: header fields, from their raw values.
  if (parsed_message != nullptr) {
    const TopLevelFields fields = GatherTopLevelFields(GMIME_OBJECT(parsed_message));
    ReadIdentity(fields, raw, message);
    ReadSender(fields, message);
    ReadRecipients(fields, message);
    ReadSubjectAndDate(fields, message);
  } else {
    message.warnings.push_back("no message could be parsed from the bytes");
    message.synthetic_key = "sha256:" + Sha256Hex(raw);
  }

  // Step 3: attachments, walking the MIME tree.
  GMimeObject* root =
      parsed_message != nullptr ? g_mime_message_get_mime_part(parsed_message) : nullptr;
  if (root != nullptr) {
    WalkContext context;
    context.raw = raw;
    context.depth = depth;
    context.message = &message;
    context.want_text_body = parse_options.text_body;
    if (prefix_only)
      context.prefix_root = GMIME_PART(root);
    WalkPart(root, context);
    if (depth == 0) {
      if (parse_options.text_body)
        FillTextBody(context, message);
      else
        WarnAboutTextBody(context, message);
    }
  }

  for (std::string& warning : parser_warnings.messages)
    message.warnings.push_back(std::move(warning));
  if (parser_warnings.dropped_count > 0) {
    message.warnings.push_back("MIME parser: " + std::to_string(parser_warnings.dropped_count) +
                               " further warnings were dropped");
  }
  return message;
}

}  // namespace

void InitMimeParser() {
  static std::once_flag initialised;
  std::call_once(initialised, [] {
    g_mime_init();
    KeepCommonCharsetsLoaded();
  });
}

ParsedMessage ParseMessage(std::string_view raw, const ParseOptions& options) {
  InitMimeParser();
  return ParseAtDepth(raw, 0, options);
}

}  // namespace reclaim
