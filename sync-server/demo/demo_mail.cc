#include "sync-server/demo/demo_mail.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "shared/time_util.h"
#include "sync-server/mail/hashing.h"
#include "sync-server/mail/mime_parser.h"

namespace reclaim::demo {
namespace {

constexpr const char* kFirstNames[] = {
    "alice", "bruno", "chloe", "daniel", "emma",   "farid", "grace", "hugo",   "ines",   "jonas",
    "karin", "liam",  "maya",  "noah",   "olivia", "pavel", "quinn", "rosa",   "samir",  "tara",
    "umar",  "vera",  "wim",   "xenia",  "yusuf",  "zoe",   "anton", "bianca", "carlos", "dora"};
constexpr const char* kLastNames[] = {"martin", "keller",  "dubois", "novak",  "rossi",  "haddad",
                                      "lind",   "moreau",  "garcia", "berg",   "vogel",  "walsh",
                                      "patel",  "fischer", "costa",  "ivanov", "reyes",  "silva",
                                      "nasser", "okafor",  "tanaka", "larsen", "visser", "petrova",
                                      "demir",  "brennan", "weber",  "ricci",  "lopez",  "horvat"};
constexpr int kComUsers = 16;
constexpr int kOrgUsers = 14;
constexpr int kOrdinaryMessages = 320;

struct External {
  const char* display;
  const char* address;
};
constexpr External kExternalSenders[] = {
    {"Northwind Supplies", "orders@northwind-supplies.example"},
    {"Contoso Travel", "bookings@contoso-travel.example"},
    {"Fabrikam Payroll", "payroll@fabrikam-payroll.example"},
    {"Litware Newsletter", "news@litware.example"},
    {"Tailspin Events", "events@tailspin.example"},
    {"Adatum Legal", "counsel@adatum-legal.example"},
    {"Woodgrove Bank", "statements@woodgrove-bank.example"}};

constexpr const char* kTopics[] = {
    "Q4 budget review",  "offsite agenda",    "supplier contract", "hiring plan",
    "release checklist", "customer feedback", "travel booking",    "training schedule",
    "office move",       "security audit",    "quarterly report",  "team lunch",
    "board deck",        "pricing update",    "holiday rota",      "project kickoff"};
constexpr const char* kSubjectForms[] = {"Re: %s",
                                         "%s",
                                         "Draft: %s",
                                         "Notes from the %s",
                                         "Fwd: %s",
                                         "Update on the %s",
                                         "Question about the %s",
                                         "Reminder: %s"};
constexpr const char* kSentences[] = {
    "Thanks for sending this over so quickly.",
    "I have added my comments in the attached file.",
    "Can we go through the open points on Thursday?",
    "The numbers look fine to me, but finance should confirm.",
    "Please check the dates before we share it with the team.",
    "Let me know if anything is missing.",
    "I will be out of the office on Friday afternoon.",
    "The customer asked for a short summary by the end of the week.",
    "We agreed to keep the scope as it is for now.",
    "I booked the large meeting room for the session."};

struct AttachmentSpec {
  const char* filename;
  const char* content_type;
};
constexpr AttachmentSpec kOrdinaryAttachments[] = {{"notes.txt", "text/plain"},
                                                   {"figures.csv", "text/csv"},
                                                   {"agenda.txt", "text/plain"},
                                                   {"summary.pdf", "application/pdf"}};

const std::string kCrlf = "\r\n";

template <typename T, size_t N>
const T& Pick(std::mt19937_64& random, const T (&items)[N]) {
  return items[random() % N];
}

int Between(std::mt19937_64& random, int low, int high) {
  return low + static_cast<int>(random() % static_cast<uint64_t>(high - low + 1));
}

std::string Capitalise(std::string word) {
  if (!word.empty() && word[0] >= 'a' && word[0] <= 'z')
    word[0] = static_cast<char>(word[0] - 32);
  return word;
}

// "Alice Martin" for "alice.martin@example.com".
std::string DisplayName(const std::string& address) {
  std::string local = address.substr(0, address.find('@'));
  size_t dot = local.find('.');
  if (dot == std::string::npos)
    return Capitalise(local);
  return Capitalise(local.substr(0, dot)) + " " + Capitalise(local.substr(dot + 1));
}

std::string Mailbox(const std::string& address) {
  return "\"" + DisplayName(address) + "\" <" + address + ">";
}

std::string Base64Lines(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int column = 0;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
    column += 4;
    if (column >= 76) {
      out += kCrlf;
      column = 0;
    }
  }
  if (column > 0)
    out += kCrlf;
  return out;
}

struct Attachment {
  std::string filename;
  std::string content_type;
  std::string bytes;
};

// Builds a message: a text body, and a multipart/mixed one when there are
// attachments. `headers` are the From/To/Subject/... lines.
std::string BuildMessage(const std::string& headers, const std::string& body,
                         const std::vector<Attachment>& attachments, const std::string& boundary) {
  std::string raw = headers + "MIME-Version: 1.0" + kCrlf;
  if (attachments.empty()) {
    return raw + "Content-Type: text/plain; charset=utf-8" + kCrlf + kCrlf + body;
  }
  raw += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"" + kCrlf + kCrlf;
  raw += "--" + boundary + kCrlf + "Content-Type: text/plain; charset=utf-8" + kCrlf + kCrlf;
  raw += body;
  for (const Attachment& attachment : attachments) {
    raw += "--" + boundary + kCrlf;
    raw += "Content-Type: " + attachment.content_type + "; name=\"" + attachment.filename + "\"" +
           kCrlf;
    raw += "Content-Disposition: attachment; filename=\"" + attachment.filename + "\"" + kCrlf;
    raw += "Content-Transfer-Encoding: base64" + kCrlf + kCrlf;
    raw += Base64Lines(attachment.bytes);
  }
  return raw + "--" + boundary + "--" + kCrlf;
}

std::string HeaderBlock(const std::string& from, const std::vector<std::string>& to,
                        const std::string& subject, UnixSeconds date,
                        const std::string& message_id) {
  std::string list;
  for (const std::string& address : to)
    list += (list.empty() ? "" : ", ") + Mailbox(address);
  return "From: " + from + kCrlf + "To: " + list + kCrlf + "Subject: " + subject + kCrlf +
         "Date: " + FormatRfc5322Date(date) + kCrlf + "Message-ID: " + message_id + kCrlf;
}

std::string DeliveredTo(const std::string& mailbox) {
  return "Delivered-To: " + mailbox + kCrlf;
}

// Chooses `count` distinct users, none of them `except`.
std::vector<std::string> ChooseUsers(std::mt19937_64& random, const std::vector<std::string>& users,
                                     size_t count, const std::string& except = "") {
  std::vector<std::string> pool;
  for (const std::string& user : users) {
    if (user != except)
      pool.push_back(user);
  }
  std::vector<std::string> chosen;
  while (chosen.size() < count && !pool.empty()) {
    size_t index = random() % pool.size();
    chosen.push_back(pool[index]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(index));
  }
  return chosen;
}

// Unread, read or read and flagged, in the proportions of a working inbox.
std::string ChooseFlags(std::mt19937_64& random) {
  int roll = Between(random, 0, 99);
  if (roll < 30)
    return "";
  if (roll < 40)
    return "FS";
  return "S";
}

std::string OrdinaryAttachmentBytes(std::mt19937_64& random, const AttachmentSpec& spec) {
  std::string text;
  if (std::strcmp(spec.content_type, "text/csv") == 0) {
    text = "month,amount\r\n";
    for (int m = 1; m <= 6; ++m) {
      text += std::to_string(m) + "," + std::to_string(Between(random, 1000, 9000)) + "\r\n";
    }
    return text;
  }
  if (std::strcmp(spec.content_type, "application/pdf") == 0) {
    text = "%PDF-1.4\n% Demo document, not a real PDF page\n";
  }
  for (int i = 0; i < 4; ++i)
    text += std::string(Pick(random, kSentences)) + "\n";
  return text;
}

Message OrdinaryMessage(std::mt19937_64& random, const std::vector<std::string>& users, int number,
                        UnixSeconds now) {
  bool internal_sender = Between(random, 0, 99) < 60;
  std::string sender_address;
  std::string from;
  if (internal_sender) {
    sender_address = users[random() % users.size()];
    from = Mailbox(sender_address);
  } else {
    const External& external = Pick(random, kExternalSenders);
    sender_address = external.address;
    from = std::string("\"") + external.display + "\" <" + external.address + ">";
  }
  std::vector<std::string> to =
      ChooseUsers(random, users, static_cast<size_t>(Between(random, 1, 4)), sender_address);
  char subject[160];
  std::snprintf(subject, sizeof(subject), Pick(random, kSubjectForms), Pick(random, kTopics));
  UnixSeconds date = now - Between(random, 600, 28 * static_cast<int>(kSecondsPerDay));
  std::string message_id =
      "<demo." + std::to_string(number) + "." + std::to_string(date) + "@mail.example.com>";

  std::string body = "Hello,\r\n\r\n";
  for (int i = Between(random, 2, 4); i > 0; --i)
    body += std::string(Pick(random, kSentences)) + " ";
  body += "\r\n\r\nBest regards,\r\n" +
          (internal_sender ? DisplayName(sender_address) : std::string("The team")) + "\r\n";
  std::vector<Attachment> attachments;
  if (Between(random, 0, 99) < 15) {
    const AttachmentSpec& spec = Pick(random, kOrdinaryAttachments);
    attachments.push_back(
        {spec.filename, spec.content_type, OrdinaryAttachmentBytes(random, spec)});
  }

  Message message;
  message.raw = BuildMessage(HeaderBlock(from, to, subject, date, message_id), body, attachments,
                             "demo-" + std::to_string(number));
  message.message_id = message_id;
  for (const std::string& mailbox : to) {
    // Three in four copies land in INBOX, the rest in two other folders.
    int roll = Between(random, 0, 99);
    std::string folder = "INBOX";
    if (roll >= 90)
      folder = "Projects";
    else if (roll >= 75)
      folder = "Archive";
    message.copies.push_back({mailbox, folder, ChooseFlags(random), DeliveredTo(mailbox)});
  }
  return message;
}

// A generated lure: delivered to `mailboxes` (each copy in INBOX) and
// naming `partners` as further recipients.
Message Lure(std::mt19937_64& random, const std::string& name, const std::string& from,
             const std::vector<std::string>& mailboxes, const std::vector<std::string>& partners,
             const std::string& subject, UnixSeconds date, const std::string& message_id,
             const std::string& body, const std::vector<Attachment>& attachments) {
  std::vector<std::string> to = mailboxes;
  to.insert(to.end(), partners.begin(), partners.end());
  Message message;
  message.raw = BuildMessage(HeaderBlock(from, to, subject, date, message_id), body, attachments,
                             "lure-" + name);
  message.malicious = true;
  message.threat_name = name;
  message.message_id = message_id;
  message.unconnected_recipients = partners;
  if (!attachments.empty())
    message.attachment_sha256 = Sha256Hex(attachments.front().bytes);
  for (const std::string& mailbox : mailboxes) {
    message.copies.push_back({mailbox, "INBOX", ChooseFlags(random), DeliveredTo(mailbox)});
  }
  return message;
}

// `forwarder` sends `original`'s attachment on to `colleagues`: the
// attachment bytes stay the same, the Message-ID is new.
Message Forward(std::mt19937_64& random, const std::string& name, const std::string& forwarder,
                const std::vector<std::string>& colleagues, const std::string& original_subject,
                UnixSeconds date, const Attachment& attachment) {
  std::string body =
      "Hi,\r\n\r\nIs this one ours? I could not find the order. Forwarding it "
      "so you can check.\r\n\r\n" +
      DisplayName(forwarder) + "\r\n";
  std::string message_id = "<fwd." + name + "." + std::to_string(date) + "@mail." +
                           forwarder.substr(forwarder.find('@') + 1) + ">";
  return Lure(random, name, Mailbox(forwarder), colleagues, {}, "FW: " + original_subject, date,
              message_id, body, {attachment});
}

// 64-bit FNV-1a, which unlike std::hash gives the same value with every
// standard library.
uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::vector<std::string> ReadEmlNames(const std::string& dir, std::error_code* error) {
  std::vector<std::string> names;
  std::filesystem::directory_iterator it(dir, *error);
  if (*error)
    return names;
  for (; it != std::filesystem::directory_iterator(); it.increment(*error)) {
    const std::filesystem::path& path = it->path();
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension == ".eml" && it->is_regular_file())
      names.push_back(path.filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string FormatRfc5322Date(UnixSeconds time) {
  std::time_t seconds = static_cast<std::time_t>(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[40];
  std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[parts.tm_wday],
                parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                parts.tm_min, parts.tm_sec);
  return text;
}

std::vector<std::string> DemoUsers() {
  std::vector<std::string> users;
  for (int i = 0; i < kComUsers + kOrgUsers; ++i) {
    const char* domain = i < kComUsers ? "example.com" : "example.org";
    users.push_back(std::string(kFirstNames[i]) + "." + kLastNames[i] + "@" + domain);
  }
  std::sort(users.begin(), users.end());
  return users;
}

std::vector<std::string> PartnerUsers() {
  return {"accounts@partner.example.net", "j.fontaine@partner.example.net",
          "m.osei@partner.example.net"};
}

std::vector<Message> GenerateOrdinaryMail(std::mt19937_64& random, UnixSeconds now) {
  std::vector<std::string> users = DemoUsers();
  std::vector<Message> messages;
  for (int i = 0; i < kOrdinaryMessages; ++i) {
    messages.push_back(OrdinaryMessage(random, users, i, now));
  }
  return messages;
}

std::vector<Message> GenerateThreats(std::mt19937_64& random, UnixSeconds now) {
  std::vector<std::string> users = DemoUsers();
  std::vector<std::string> partners = PartnerUsers();
  auto day = [&](int days_ago) {
    return now - days_ago * kSecondsPerDay - Between(random, 0, 8 * 3600);
  };
  std::vector<Message> threats;

  // An invoice lure with a "PDF" that is really a short HTML page.
  Attachment invoice{"INV-48213.pdf.html", "text/html",
                     "<html><body><p>Demo attachment: a fake invoice page that would ask for a "
                     "login. It contains no script.</p></body></html>\n"};
  UnixSeconds invoice_date = day(5);
  std::vector<std::string> invoice_to = ChooseUsers(random, users, 6);
  threats.push_back(Lure(random, "invoice-lure",
                         "\"Accounts Receivable\" <billing@invoice-portal.example.net>", invoice_to,
                         {partners[0]}, "Overdue invoice INV-48213: payment required", invoice_date,
                         "<inv48213.7731@invoice-portal.example.net>",
                         "Dear customer,\r\n\r\nOur records show invoice INV-48213 is 14 days "
                         "overdue. Open the attached invoice to avoid a late fee.\r\n",
                         {invoice}));
  threats.push_back(Forward(
      random, "invoice-forward", invoice_to[0], ChooseUsers(random, users, 2, invoice_to[0]),
      "Overdue invoice INV-48213: payment required", invoice_date + 7200, invoice));

  // A credential phish: a link, no attachment.
  threats.push_back(Lure(random, "credential-phish",
                         "\"IT Service Desk\" <helpdesk@secure-login.example.net>",
                         ChooseUsers(random, users, 9), {}, "Action required: your mailbox is full",
                         day(3), "<quota.5521@secure-login.example.net>",
                         "Your mailbox has reached 98% of its quota. Sign in within 24 hours to "
                         "keep receiving mail:\r\nhttp://secure-login.example.net/verify\r\n",
                         {}));

  // A payroll lure with a macro document (inert bytes).
  Attachment payroll{"Salary_Review_2027.docm", "application/vnd.ms-word.document.macroEnabled.12",
                     "Demo attachment: stands for a macro-enabled document. It contains no "
                     "macro.\n"};
  UnixSeconds payroll_date = day(2);
  std::vector<std::string> payroll_to = ChooseUsers(random, users, 5);
  threats.push_back(Lure(random, "payroll-lure",
                         "\"HR Department\" <hr-notice@payroll-update.example.net>", payroll_to, {},
                         "Revised salary structure 2027", payroll_date,
                         "<salary2027.118@payroll-update.example.net>",
                         "Please review the revised salary structure in the attached document and "
                         "enable editing to see your figures.\r\n",
                         {payroll}));
  threats.push_back(Forward(random, "payroll-forward", payroll_to[0],
                            ChooseUsers(random, users, 1, payroll_to[0]),
                            "Revised salary structure 2027", payroll_date + 3600, payroll));

  // A fake shared-document notice, also sent to a partner address.
  threats.push_back(
      Lure(random, "shared-document", "\"Document Share\" <no-reply@docs-share.example.net>",
           ChooseUsers(random, users, 7), {partners[1]}, "Q4 budget.xlsx was shared with you",
           day(1), "<share.90210@docs-share.example.net>",
           "A document was shared with you. View it here:\r\n"
           "http://docs-share.example.net/open?doc=q4-budget\r\n",
           {}));
  return threats;
}

Result<std::vector<Message>> LoadEmlThreats(const std::string& dir, uint64_t seed) {
  std::error_code error;
  std::vector<std::string> names = ReadEmlNames(dir, &error);
  if (error) {
    return Status::Invalid("demoEml", "cannot read the .eml folder '" + dir +
                                          "': " + error.message() +
                                          ": give a readable folder of .eml files");
  }
  if (names.empty()) {
    return Status::Invalid("demoEml", "the folder '" + dir + "' contains no .eml file: give a " +
                                          "folder of messages saved as .eml files");
  }
  std::vector<std::string> users = DemoUsers();
  std::vector<std::string> partners = PartnerUsers();
  std::vector<Message> threats;
  for (const std::string& name : names) {
    std::string path = (std::filesystem::path(dir) / name).string();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    if (in)
      content << in.rdbuf();
    if (!in || in.bad()) {
      return Status::Invalid(
          "demoEml", "cannot read '" + path + "': check that the file is readable or remove it");
    }

    // The choice depends on the file name and the seed only, so adding a
    // file to the folder leaves the other files' recipients unchanged.
    uint64_t name_hash = Fnv1a(name);
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(name_hash), static_cast<uint32_t>(name_hash >> 32)};
    std::mt19937_64 random(seq);
    Message message;
    message.raw = content.str();
    message.malicious = true;
    message.threat_name = name;
    ParseOptions options;
    options.text_body = false;
    ParsedMessage parsed = ParseMessage(message.raw, options);
    message.message_id = parsed.message_id;
    if (!parsed.attachments.empty())
      message.attachment_sha256 = parsed.attachments.front().sha256;
    std::string partner = partners[random() % partners.size()];
    message.unconnected_recipients = {partner};
    std::vector<std::string> mailboxes =
        ChooseUsers(random, users, static_cast<size_t>(Between(random, 3, 5)));
    std::string list;
    for (const std::string& mailbox : mailboxes)
      list += mailbox + ", ";
    list += partner;
    // The sample's own To names someone outside the demo, so each copy
    // records the demo recipients in X-Original-To, as Postfix records the
    // envelope recipient, and its own mailbox in Delivered-To.
    bool crlf = message.raw.find("\r\n") != std::string::npos;
    std::string end = crlf ? "\r\n" : "\n";
    for (const std::string& mailbox : mailboxes) {
      std::string headers = "Delivered-To: " + mailbox + end + "X-Original-To: " + list + end;
      message.copies.push_back({mailbox, "INBOX", ChooseFlags(random), headers});
    }
    threats.push_back(std::move(message));
  }
  return threats;
}

}  // namespace reclaim::demo
