// The demo organisation's people and mail, generated in memory from a seed.
// demo.cc writes the result to disk.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"

namespace reclaim::demo {

// One copy of a message in one mailbox.
struct Copy {
  std::string mailbox;  // local@domain, lower case
  std::string folder;   // "INBOX" or a Maildir++ folder name such as "Archive"
  std::string flags;    // Maildir info letters in ASCII order; empty: unread in new/
  std::string headers;  // header lines added in front of the message for this copy
};

struct Message {
  std::string raw;  // the message as the sender sent it, CRLF line ends
  std::vector<Copy> copies;
  bool malicious = false;
  std::string threat_name;                          // malicious only
  std::string message_id;                           // with brackets; may be empty
  std::string attachment_sha256;                    // first attachment; may be empty
  std::vector<std::string> unconnected_recipients;  // named, but in no connected domain
};

// The demo users: 16 at example.com and 14 at example.org, as
// first.last@domain, sorted within each domain.
std::vector<std::string> DemoUsers();
// Users of the unconnected partner domain that demo mail names.
std::vector<std::string> PartnerUsers();

// Ordinary mail over the four weeks before `now`: internal and external
// senders, some with small attachments, spread over INBOX, Archive and
// Projects with a mix of unread, read and flagged copies.
std::vector<Message> GenerateOrdinaryMail(std::mt19937_64& random, UnixSeconds now);

// The generated malicious set, dated in the week before `now`: each lure
// reaches several users (some also a partner address), and forwards of the
// attachment lures carry the same attachment under a new Message-ID.
std::vector<Message> GenerateThreats(std::mt19937_64& random, UnixSeconds now);

// Reads every `*.eml` file of `dir` (sorted by name) as a malicious message
// delivered to three to five demo users chosen from the file name and
// `seed`, and naming one partner address. Errors name the folder or file.
Result<std::vector<Message>> LoadEmlThreats(const std::string& dir, uint64_t seed);

// "Fri, 04 Dec 2026 15:55:54 +0000".
std::string FormatRfc5322Date(UnixSeconds time);

}  // namespace reclaim::demo
