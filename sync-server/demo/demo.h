// The demo organisation: Maildir mailboxes full of ordinary and malicious
// mail, the message index over them and a year of incident history, so a
// fresh server has something to search, remediate and restore.
//
// Everything is derived from a fixed seed, so two runs at the same time
// write the same mail. Dates are relative to the `now` passed in: ordinary
// mail spans the past four weeks, the generated malicious mail the past
// week (inside the default 30-day remediation window), and the incidents
// the past year. Delivered .eml files keep their own Date headers.
//
// The generator needs the embedded default configuration (DefaultConfig):
// one Maildir connection for example.com and example.org. It delivers as a
// mail delivery agent does (a file in tmp/, renamed into new/ or cur/), indexes
// with the same code as the server and writes the incidents through
// IncidentRepository. A settings row marks the organisation as created, so a
// second run changes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"
#include "sync-server/app/config.h"

namespace reclaim {

// A domain whose users are named as recipients but which no connection
// serves, so remediations show the "No connections are configured for the
// mailbox." failure.
inline constexpr const char* kDemoUnconnectedDomain = "partner.example.net";
// The settings key whose presence marks the demo as created.
inline constexpr const char* kDemoSettingKey = "demoCreated";

struct DemoOptions {
  // Folder of `.eml` files delivered in place of the generated malicious
  // set; empty for the generated set.
  std::string eml_dir;
  uint64_t seed = 20261204;
};

// One malicious message as delivered, for reports and tests.
struct DemoThreat {
  std::string name;                    // the generated lure ("invoice-lure") or the .eml file name
  std::string message_id;              // with brackets; empty when the message has none
  std::string attachment_sha256;       // first attachment of a generated lure; empty otherwise
  std::vector<std::string> mailboxes;  // demo mailboxes that received a copy
  std::vector<std::string> unconnected_recipients;  // named recipients without a connection
};

struct DemoSummary {
  bool created = false;       // false when the demo was already there
  int users = 0;              // mailboxes created, over both connected domains
  int ordinary_messages = 0;  // distinct ordinary messages
  int delivered_copies = 0;   // message files written, ordinary and malicious
  int threats = 0;            // distinct malicious messages, forwards included
  int incidents = 0;          // incidents written to the history
  int indexed = 0;            // copies the index read
  std::vector<DemoThreat> threat_list;
};

// Returns true when `config` (data-folder mode) has nothing of its own yet:
// no demo marker, no incident, no indexed message and no mailbox under the
// Maildir root. A database that only contains API tokens counts as fresh,
// because scripts/run.sh creates the admin token before the first start.
Result<bool> IsFreshDataFolder(const ServerConfig& config);

// Creates the demo organisation in `config`'s data folder and Maildir root,
// or does nothing (summary.created false) when the marker is present.
// Errors name the folder or file and the fix: kInvalidArgument for a
// configuration without the demo domains or an unreadable `eml_dir`,
// kUnavailable for a folder that cannot be written.
Result<DemoSummary> CreateDemoOrganisation(const ServerConfig& config, const DemoOptions& options,
                                           UnixSeconds now);

}  // namespace reclaim
