#include "sync-server/mailbox/imap_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "shared/message_id.h"
#include "sync-server/mailbox/imap_pool.h"

namespace reclaim {
namespace {

constexpr size_t kMaxTagLength = 32;
constexpr char kKeywordPrefix[] = "$Reclaim";

// Returns the raw (still folded) values of every Message-ID field in a
// header block such as `Message-ID: <a@b>\r\n\r\n`.
std::vector<std::string> MessageIdFieldValues(std::string_view header) {
  std::vector<std::string> values;
  std::string* current = nullptr;
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find('\n', start);
    if (end == std::string_view::npos) {
      end = header.size();
    }
    const std::string_view line = header.substr(start, end - start + 1);
    start = end + 1;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (current != nullptr) {
        current->append(line);  // a folded continuation line
      }
      continue;
    }
    current = nullptr;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view field = line.substr(0, colon);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) {
      field.remove_suffix(1);
    }
    if (ImapUpperCase(field) == "MESSAGE-ID") {
      values.emplace_back(line.substr(colon + 1));
      current = &values.back();
    }
  }
  return values;
}

bool HeaderMatchesKey(const std::string& header, const std::string& key) {
  for (const std::string& raw : MessageIdFieldValues(header)) {
    Result<MessageId> id = NormalizeMessageId(raw);
    if (id.ok() && MessageIdKey(*id) == key) {
      return true;
    }
  }
  return false;
}

}  // namespace

ImapSession::ImapSession(std::unique_ptr<ImapClient> client, std::string address,
                         bool use_move_command, std::shared_ptr<ImapConnectionPool> pool)
    : client_(std::move(client)),
      pool_(std::move(pool)),
      address_(std::move(address)),
      use_move_command_(use_move_command) {}

ImapSession::~ImapSession() {
  if (pool_ == nullptr || !client_->connected()) {
    return;
  }
  // The next session must not inherit a selected folder. STATUS of the
  // selected folder returns the session's view, which Dovecot 2.3.19 does
  // not sync first, so FolderVersion() would return old numbers.
  // UNSELECT (RFC 3691) leaves no folder selected without expunging, which
  // CLOSE would do. A server without UNSELECT gets no kept connection.
  // After a new login (WithReconnect), `selected_` may describe the old
  // connection, and the new one has selected only what was selected since.
  if (selected_ && selected_login_ == client_->login_count()) {
    // NOTE: no test reaches the branch below, because Dovecot has UNSELECT.
    if (!client_->HasCapability("UNSELECT")) {
      return;
    }
    Result<ImapReply> reply = client_->Execute(ImapCommand("UNSELECT"));
    if (!reply.ok() || !reply->ok()) {
      return;
    }
  }
  pool_->Give(address_, std::move(client_));
}

bool ImapSession::ShouldRunAgain(const Status& status, bool was_connected) const {
  if (status.ok() || status.code() != StatusCode::kUnavailable || !was_connected ||
      client_->connected() || changed_mailbox_) {
    return false;
  }
  spdlog::info("IMAP session of {} on {} logging in again after: {}", address_, client_->url(),
               status.message());
  return true;
}

Result<std::string> ImapSession::KeywordForTag(const std::string& tag) {
  const bool valid =
      !tag.empty() && tag.size() <= kMaxTagLength &&
      std::all_of(tag.begin(), tag.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      });
  if (!valid) {
    return Status::Invalid("tag",
                           "move tag '" + tag + "' must be 1 to 32 ASCII letters and digits");
  }
  return kKeywordPrefix + tag;
}

Result<std::string> ImapSession::GroupKeywordForTag(const std::string& tag) {
  Result<std::string> keyword = KeywordForTag(tag);
  if (!keyword.ok()) {
    return keyword;
  }
  return kKeywordPrefix + tag.substr(0, kMoveTagGroupLength);
}

bool ImapSession::MovesByGroup() const {
  return use_move_command_ && client_->HasCapability("MOVE");
}

std::string ImapSession::Describe(const std::string& folder) const {
  return "folder '" + folder + "' of " + address_ + " on " + client_->url();
}

Result<ImapReply> ImapSession::Execute(const ImapCommand& command) {
  return client_->Execute(command);
}

Result<ImapReply> ImapSession::ExecuteOk(const ImapCommand& command) {
  Result<ImapReply> reply = client_->Execute(command);
  if (reply.ok() && !reply->ok()) {
    return Status::Internal("IMAP command '" + command.Describe() + "' for " + address_ + " on " +
                            client_->url() + " failed: " + reply->status + " " + reply->text);
  }
  return reply;
}

Result<ImapReply> ImapSession::ExecuteChange(const ImapCommand& command) {
  changed_mailbox_ = true;
  return ExecuteOk(command);
}

Result<char> ImapSession::Delimiter() {
  if (client_->hierarchy_delimiter()) {
    return *client_->hierarchy_delimiter();
  }
  Result<ImapReply> reply = ExecuteOk(ImapCommand("LIST \"\" \"\""));
  if (!reply.ok()) {
    return reply.status();
  }
  for (const ImapResponse& response : reply->untagged) {
    if (response.name == "LIST" && response.values.size() >= 2) {
      const ImapValue& delimiter = response.values[1];
      client_->set_hierarchy_delimiter(
          delimiter.kind == ImapValue::Kind::kNil || delimiter.text.empty() ? '\0'
                                                                            : delimiter.text[0]);
      return *client_->hierarchy_delimiter();
    }
  }
  return Status::Internal("IMAP server " + client_->url() +
                          " sent no hierarchy delimiter for LIST \"\" \"\"");
}

// Returns the quoted server name of `folder` ('/' separated, UTF-8).
Result<std::string> ImapSession::ServerFolderName(const std::string& folder,
                                                  const std::string& field) {
  if (folder.empty()) {
    return Status::Invalid(field, "folder name is empty");
  }
  Result<char> delimiter = Delimiter();
  if (!delimiter.ok()) {
    return delimiter.status();
  }
  std::string encoded;
  size_t start = 0;
  while (start <= folder.size()) {
    size_t slash = folder.find('/', start);
    if (slash == std::string::npos) {
      slash = folder.size();
    }
    const std::string level = folder.substr(start, slash - start);
    if (level.empty()) {
      return Status::Invalid(field, "folder name '" + folder + "' has an empty level");
    }
    if (*delimiter != '/' && level.find(*delimiter) != std::string::npos) {
      return Status::Invalid(field, "folder name '" + folder + "' contains '" +
                                        std::string(1, *delimiter) +
                                        "', the server's hierarchy delimiter; use '/' "
                                        "between levels");
    }
    if (!encoded.empty()) {
      if (*delimiter == '\0') {
        return Status::Invalid(
            field, "folder name '" + folder + "' has levels, but the server has no hierarchy");
      }
      encoded += *delimiter;
    }
    Result<std::string> level_name = EncodeMailboxName(level, field);
    if (!level_name.ok()) {
      return level_name.status();
    }
    encoded += start == 0 && IsInboxName(level) ? std::string("INBOX") : *level_name;
    start = slash + 1;
  }
  return QuoteImapString(encoded, field);
}

// Converts a LIST name to the caller's form. Returns nullopt for a name
// that cannot be written with '/' between levels.
Result<std::optional<std::string>> ImapSession::CallerFolderName(const ImapValue& delimiter,
                                                                 const ImapValue& name) {
  const char separator =
      delimiter.kind == ImapValue::Kind::kNil || delimiter.text.empty() ? '\0' : delimiter.text[0];
  if (IsInboxName(name.text)) {
    return std::optional<std::string>("INBOX");
  }
  std::string caller_name;
  size_t start = 0;
  while (start <= name.text.size()) {
    size_t end = separator == '\0' ? std::string::npos : name.text.find(separator, start);
    if (end == std::string::npos) {
      end = name.text.size();
    }
    Result<std::string> level = DecodeMailboxName(name.text.substr(start, end - start));
    if (!level.ok()) {
      return level.status();
    }
    if (separator != '/' && level->find('/') != std::string::npos) {
      return std::optional<std::string>();
    }
    if (!caller_name.empty()) {
      caller_name += '/';
    }
    caller_name += start == 0 && IsInboxName(*level) ? std::string("INBOX") : *level;
    start = end + 1;
  }
  return std::optional<std::string>(std::move(caller_name));
}

Result<std::vector<std::string>> ImapSession::ListFolders() {
  return WithReconnect([&]() -> Result<std::vector<std::string>> {
    Result<ImapReply> reply = ExecuteOk(ImapCommand("LIST \"\" \"*\""));
    if (!reply.ok()) {
      return reply.status();
    }
    std::vector<std::string> folders;
    bool has_inbox = false;
    for (const ImapResponse& response : reply->untagged) {
      if (response.name != "LIST" || response.values.size() < 3) {
        continue;
      }
      bool selectable = true;
      for (const ImapValue& attribute : response.values[0].items) {
        const std::string upper = ImapUpperCase(attribute.text);
        selectable = selectable && upper != "\\NOSELECT" && upper != "\\NONEXISTENT";
      }
      Result<std::optional<std::string>> name =
          CallerFolderName(response.values[1], response.values[2]);
      if (!name.ok()) {
        return name.status();
      }
      if (!name->has_value()) {
        // NOTE: such folders are not indexed.
        spdlog::warn("IMAP folder '{}' of {} on {} contains '/' inside a level; skipped",
                     response.values[2].text, address_, client_->url());
        continue;
      }
      if (!selectable) {
        continue;
      }
      if (**name == "INBOX") {
        has_inbox = true;
      } else {
        folders.push_back(std::move(**name));
      }
    }
    if (has_inbox) {
      folders.insert(folders.begin(), "INBOX");
    }
    return folders;
  });
}

Result<bool> ImapSession::FolderExists(const std::string& quoted_name) {
  Result<ImapReply> reply = ExecuteOk(ImapCommand("LIST \"\" " + quoted_name));
  if (!reply.ok()) {
    return reply.status();
  }
  for (const ImapResponse& response : reply->untagged) {
    if (response.name == "LIST" && response.values.size() >= 3) {
      return true;
    }
  }
  return false;
}

Status ImapSession::CreateFolder(const std::string& folder) {
  if (IsInboxName(folder)) {
    return Status::Ok();
  }
  Result<std::string> name = ServerFolderName(folder, "folder");
  if (!name.ok()) {
    return name.status();
  }
  Result<ImapReply> reply = Execute(ImapCommand("CREATE " + *name));
  if (!reply.ok()) {
    return reply.status();
  }
  if (reply->ok() || ImapUpperCase(reply->code) == "ALREADYEXISTS") {
    return Status::Ok();
  }
  // Servers without RFC 5530 codes reply with a plain NO for an existing folder.
  Result<bool> exists = FolderExists(*name);
  if (!exists.ok()) {
    return exists.status();
  }
  if (*exists) {
    return Status::Ok();
  }
  return Status::Internal("cannot create " + Describe(folder) + ": " + reply->text);
}

Result<std::string> ImapSession::FolderVersion(const std::string& folder) {
  return WithReconnect([&]() -> Result<std::string> {
    Result<std::string> name = ServerFolderName(folder, "folder");
    if (!name.ok()) {
      return name.status();
    }
    // STATUS of the selected folder returns this session's view, so NOOP
    // brings the view up to date first.
    if (selected_ && selected_->name == folder && client_->login_count() == selected_login_) {
      if (Result<ImapReply> synced = ExecuteOk(ImapCommand("NOOP")); !synced.ok()) {
        return synced.status();
      }
    }
    Result<ImapReply> reply =
        ExecuteOk(ImapCommand("STATUS " + *name + " (UIDVALIDITY UIDNEXT MESSAGES)"));
    if (!reply.ok()) {
      return reply.status();
    }
    std::map<std::string, std::string> numbers;
    for (const ImapResponse& response : reply->untagged) {
      if (response.name != "STATUS" || response.values.size() < 2 ||
          response.values[1].kind != ImapValue::Kind::kList) {
        continue;
      }
      const std::vector<ImapValue>& items = response.values[1].items;
      for (size_t i = 0; i + 1 < items.size(); i += 2) {
        numbers[ImapUpperCase(items[i].text)] = items[i + 1].text;
      }
    }
    const std::string& validity = numbers["UIDVALIDITY"];
    const std::string& next = numbers["UIDNEXT"];
    const std::string& messages = numbers["MESSAGES"];
    if (validity.empty() || next.empty() || messages.empty()) {
      // Without all three numbers the folder is listed every time.
      return std::string();
    }
    return validity + "." + next + "." + messages;
  });
}

Result<ImapSession::SelectedFolder> ImapSession::Select(const std::string& folder) {
  Result<std::string> name = ServerFolderName(folder, "folder");
  if (!name.ok()) {
    return name.status();
  }
  // A SELECT that fails leaves no folder selected (RFC 3501 section 6.3.1).
  selected_.reset();
  Result<ImapReply> reply = Execute(ImapCommand("SELECT " + *name));
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->ok()) {
    // Dovecot 2.3.19 rejects SELECT of a missing folder with a plain NO,
    // without [NONEXISTENT], so LIST decides.
    Result<bool> exists = FolderExists(*name);
    if (!exists.ok()) {
      return exists.status();
    }
    if (!*exists || ImapUpperCase(reply->code) == "NONEXISTENT") {
      return Status::NotFound("folder", Describe(folder) + " does not exist");
    }
    return Status::Internal("cannot select " + Describe(folder) + ": " + reply->text);
  }
  SelectedFolder selected;
  selected.name = folder;
  for (const ImapResponse& response : reply->untagged) {
    const std::string code = ImapUpperCase(response.code);
    if (response.name == "EXISTS" && response.has_number) {
      selected.exists = response.number;
    } else if (response.name == "OK" && code.rfind("UIDVALIDITY ", 0) == 0) {
      selected.uid_validity = ParseImapUid(std::string_view(code).substr(12));
    } else if (response.name == "OK" && code.rfind("PERMANENTFLAGS ", 0) == 0) {
      selected.keywords_allowed = code.find("\\*") != std::string::npos;
    }
  }
  if (selected.uid_validity == 0) {
    return Status::Internal("IMAP server sent no UIDVALIDITY for " + Describe(folder));
  }
  selected_ = selected;
  selected_login_ = client_->login_count();
  return selected;
}

Result<ImapSession::SelectedFolder> ImapSession::SelectCached(const std::string& folder) {
  if (!selected_ || selected_->name != folder || !client_->connected() ||
      client_->login_count() != selected_login_) {
    return Select(folder);
  }
  // Until the server syncs the session, it replies from the view of the
  // last command, in which a message expunged since then still exists. NOOP
  // syncs it, and Dovecot 2.3.19 ends the session with BYE when it finds a
  // new UIDVALIDITY.
  Result<ImapReply> noop = ExecuteOk(ImapCommand("NOOP"));
  if (!noop.ok()) {
    return noop.status();
  }
  for (const ImapResponse& response : noop->untagged) {
    const std::string code = ImapUpperCase(response.code);
    if (response.name == "OK" && code.rfind("UIDVALIDITY ", 0) == 0) {
      return Select(folder);  // a server that reports the change instead
    }
  }
  return *selected_;
}

Status ImapSession::CheckUidValidity(const SelectedFolder& folder,
                                     const StoredLocation& location) const {
  if (folder.uid_validity == location.uid_validity) {
    return Status::Ok();
  }
  return Status::Conflict("location", Describe(location.folder) + " now has UIDVALIDITY " +
                                          std::to_string(folder.uid_validity) +
                                          ", but the location has " +
                                          std::to_string(location.uid_validity) + ", so UID " +
                                          std::to_string(location.uid) +
                                          " may name another message; find the message again "
                                          "by Message-ID");
}

Result<ImapSession::SelectedFolder> ImapSession::SelectLocation(const StoredLocation& location) {
  if (location.uid == 0 || location.uid_validity == 0) {
    return Status::Invalid(
        "location", "IMAP location in folder '" + location.folder + "' has no UID or UIDVALIDITY");
  }
  Result<SelectedFolder> selected = Select(location.folder);
  if (!selected.ok()) {
    return selected.status();
  }
  if (Status valid = CheckUidValidity(*selected, location); !valid.ok()) {
    return valid;
  }
  return selected;
}

std::vector<std::vector<size_t>> ImapSession::GroupByFolder(
    const std::vector<const StoredLocation*>& locations) const {
  std::vector<std::vector<size_t>> groups;
  std::map<std::string, size_t> group_of_folder;
  for (size_t i = 0; i < locations.size(); ++i) {
    auto [found, added] = group_of_folder.emplace(locations[i]->folder, groups.size());
    if (added) {
      groups.emplace_back();
    }
    groups[found->second].push_back(i);
  }
  // Starting with the selected folder saves one SELECT.
  if (selected_) {
    auto selected = std::find_if(groups.begin(), groups.end(), [&](const auto& group) {
      return locations[group.front()]->folder == selected_->name;
    });
    if (selected != groups.end()) {
      std::rotate(groups.begin(), selected, selected + 1);
    }
  }
  return groups;
}

Result<std::vector<uint32_t>> ImapSession::SearchUids(const ImapCommand& command) {
  Result<ImapReply> reply = ExecuteOk(command);
  if (!reply.ok()) {
    return reply.status();
  }
  std::vector<uint32_t> uids;
  for (const ImapResponse& response : reply->untagged) {
    if (response.name != "SEARCH") {
      continue;
    }
    for (const ImapValue& value : response.values) {
      const uint32_t uid = ParseImapUid(value.text);
      if (uid == 0) {
        return Status::Internal("IMAP server " + client_->url() + " sent '" + value.text +
                                "' in a SEARCH response, which is not a UID");
      }
      uids.push_back(uid);
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

// Returns the locations and flags of the messages in `uid_set` of the
// selected folder, ordered by UID. UIDs that do not exist are left out.
Result<std::vector<StoredLocation>> ImapSession::FetchLocations(const SelectedFolder& folder,
                                                                const std::string& uid_set) {
  Result<ImapReply> reply = ExecuteOk(ImapCommand("UID FETCH " + uid_set + " (UID FLAGS)"));
  if (!reply.ok()) {
    return reply.status();
  }
  const Result<std::vector<uint32_t>> requested = ParseUidSet(uid_set, UINT32_MAX);
  std::map<uint32_t, StoredLocation> by_uid;
  for (const ImapResponse& response : reply->untagged) {
    if (response.name != "FETCH") {
      continue;
    }
    const auto items = FetchItems(response);
    const uint32_t uid = FetchUid(items);
    auto flags = items.find("FLAGS");
    if (uid == 0 || flags == items.end()) {
      continue;  // an unsolicited flag update without UID
    }
    // Unsolicited FETCH responses about other messages can arrive too. A set
    // with `*` does not parse and is not filtered.
    if (requested.ok() && !std::binary_search(requested->begin(), requested->end(), uid)) {
      continue;
    }
    StoredLocation location;
    location.folder = folder.name;
    location.uid_validity = folder.uid_validity;
    location.uid = uid;
    location.flags = JoinImapFlags(*flags->second);
    by_uid[uid] = std::move(location);
  }
  std::vector<StoredLocation> locations;
  for (auto& [uid, location] : by_uid) {
    locations.push_back(std::move(location));
  }
  return locations;
}

Result<std::vector<StoredLocation>> ImapSession::ListMessages(const std::string& folder) {
  return WithReconnect([&]() -> Result<std::vector<StoredLocation>> {
    Result<SelectedFolder> selected = Select(folder);
    if (!selected.ok()) {
      return selected.status();
    }
    if (selected->exists == 0) {
      return std::vector<StoredLocation>();
    }
    return FetchLocations(*selected, "1:*");
  });
}

Result<std::string> ImapSession::Fetch(const StoredLocation& location) {
  return WithReconnect([&]() -> Result<std::string> {
    Result<SelectedFolder> selected = SelectLocation(location);
    if (!selected.ok()) {
      return selected.status();
    }
    const std::string uid = std::to_string(location.uid);
    Result<ImapReply> reply = Execute(ImapCommand("UID FETCH " + uid + " (UID BODY.PEEK[])"));
    if (!reply.ok()) {
      return reply.status();
    }
    const bool expunged = ImapUpperCase(reply->code) == "EXPUNGEISSUED";
    if (!reply->ok() && !expunged) {
      return Status::Internal("fetching UID " + uid + " from " + Describe(location.folder) +
                              " failed: " + reply->text);
    }
    for (const ImapResponse& response : reply->untagged) {
      const auto items = response.name == "FETCH" ? FetchItems(response)
                                                  : std::map<std::string, const ImapValue*>();
      auto body = items.find("BODY[]");
      if (FetchUid(items) == location.uid && body != items.end() &&
          body->second->kind == ImapValue::Kind::kString) {
        return body->second->text;
      }
    }
    return Status::NotFound("location",
                            "UID " + uid + " no longer exists in " + Describe(location.folder));
  });
}

Result<std::vector<StoredLocation>> ImapSession::FindTaggedOnce(const std::string& folder,
                                                                const std::string& keyword,
                                                                const std::string& group_keyword) {
  Result<SelectedFolder> selected = Select(folder);
  if (!selected.ok()) {
    return selected.status();
  }
  const std::string criteria = group_keyword.empty() || group_keyword == keyword
                                   ? "KEYWORD " + keyword
                                   : "OR KEYWORD " + keyword + " KEYWORD " + group_keyword;
  Result<std::vector<uint32_t>> uids = SearchUids(ImapCommand("UID SEARCH " + criteria));
  if (!uids.ok()) {
    return uids.status();
  }
  if (uids->empty()) {
    return std::vector<StoredLocation>();
  }
  return FetchLocations(*selected, FormatUidSet(*uids));
}

Result<std::vector<StoredLocation>> ImapSession::FindTagged(const std::string& folder,
                                                            const std::string& tag) {
  Result<std::string> keyword = KeywordForTag(tag);
  if (!keyword.ok()) {
    return keyword.status();
  }
  const std::string group_keyword = *GroupKeywordForTag(tag);
  return WithReconnect([&]() { return FindTaggedOnce(folder, *keyword, group_keyword); });
}

Result<std::vector<StoredLocation>> ImapSession::FindByMessageId(const std::string& folder,
                                                                 const std::string& message_id) {
  Result<MessageId> id = NormalizeMessageId(message_id, "message_id");
  if (!id.ok()) {
    return id.status();
  }
  const std::string key = MessageIdKey(*id);
  // IMAP HEADER search matches substrings case-insensitively, so every hit
  // is compared again by the Message-ID rules below.
  ImapCommand search("UID SEARCH ");
  Result<std::string> quoted = QuoteImapString(id->value, "message_id");
  if (quoted.ok()) {
    search.Append("HEADER Message-ID " + *quoted);
  } else if (id->value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos) {
    search.Append("CHARSET UTF-8 HEADER Message-ID ").AppendLiteral(id->value);
  } else {
    return quoted.status();
  }
  return WithReconnect([&]() -> Result<std::vector<StoredLocation>> {
    Result<SelectedFolder> selected = Select(folder);
    if (!selected.ok()) {
      return selected.status();
    }
    Result<std::vector<uint32_t>> uids = SearchUids(search);
    if (!uids.ok() || uids->empty()) {
      return uids.ok() ? Result<std::vector<StoredLocation>>(std::vector<StoredLocation>())
                       : Result<std::vector<StoredLocation>>(uids.status());
    }
    Result<ImapReply> reply = ExecuteOk(ImapCommand(
        "UID FETCH " + FormatUidSet(*uids) + " (UID FLAGS BODY.PEEK[HEADER.FIELDS (Message-ID)])"));
    if (!reply.ok()) {
      return reply.status();
    }
    std::map<uint32_t, StoredLocation> matches;
    for (const ImapResponse& response : reply->untagged) {
      const auto items = response.name == "FETCH" ? FetchItems(response)
                                                  : std::map<std::string, const ImapValue*>();
      const uint32_t uid = FetchUid(items);
      auto flags = items.find("FLAGS");
      auto header = std::find_if(items.begin(), items.end(), [](const auto& item) {
        return item.first.rfind("BODY[HEADER.FIELDS", 0) == 0;
      });
      if (uid == 0 || flags == items.end() || header == items.end() ||
          !HeaderMatchesKey(header->second->text, key)) {
        continue;
      }
      StoredLocation location;
      location.folder = folder;
      location.uid_validity = selected->uid_validity;
      location.uid = uid;
      location.flags = JoinImapFlags(*flags->second);
      matches[uid] = std::move(location);
    }
    std::vector<StoredLocation> locations;
    for (auto& [uid, location] : matches) {
      locations.push_back(std::move(location));
    }
    return locations;
  });
}

Status ImapSession::ClearTag(const StoredLocation& location, const std::string& tag) {
  Result<std::string> keyword = KeywordForTag(tag);
  if (!keyword.ok()) {
    return keyword.status();
  }
  // The copy carries the keyword of the whole tag after Move() and the
  // group keyword after MoveBatch(); removing both covers either.
  const std::string group_keyword = *GroupKeywordForTag(tag);
  if (group_keyword != *keyword) {
    *keyword += " " + group_keyword;
  }
  return WithReconnect([&]() -> Status {
    Result<SelectedFolder> selected = SelectLocation(location);
    if (!selected.ok()) {
      return selected.status();
    }
    const std::string uid = std::to_string(location.uid);
    Result<ImapReply> stored =
        ExecuteOk(ImapCommand("UID STORE " + uid + " -FLAGS.SILENT (" + *keyword + ")"));
    if (!stored.ok()) {
      return stored.status();
    }
    Result<std::vector<StoredLocation>> still_there = FetchLocations(*selected, uid);
    if (!still_there.ok()) {
      return still_there.status();
    }
    if (still_there->empty()) {
      return Status::NotFound("location",
                              "UID " + uid + " no longer exists in " + Describe(location.folder));
    }
    return Status::Ok();
  });
}

void ImapSession::FetchEach(const std::vector<StoredLocation>& locations,
                            const std::function<void(size_t, Result<std::string>)>& visit) {
  FetchAll(locations, true, visit);
}

void ImapSession::VerifyEach(const std::vector<StoredLocation>& locations,
                             const std::vector<std::string>& /*sha256s*/,
                             const std::function<void(size_t, Status)>& visit) {
  FetchAll(locations, false,
           [&](size_t i, Result<std::string> present) { visit(i, present.status()); });
}

void ImapSession::FetchAll(const std::vector<StoredLocation>& locations, bool bodies,
                           const std::function<void(size_t, Result<std::string>)>& visit) {
  std::vector<const StoredLocation*> pointers;
  for (const StoredLocation& location : locations) {
    pointers.push_back(&location);
  }
  std::vector<bool> delivered(locations.size(), false);
  for (const std::vector<size_t>& group : GroupByFolder(pointers)) {
    const Status status =
        WithReconnect([&] { return FetchFolderOnce(locations, group, bodies, delivered, visit); });
    for (size_t i : group) {
      if (!delivered[i]) {
        delivered[i] = true;
        visit(i, status.ok() ? Status::Internal("IMAP server " + client_->url() +
                                                " sent no reply for UID " +
                                                std::to_string(locations[i].uid))
                             : status);
      }
    }
  }
}

// Fetches the copies at `indices`, all in one folder, that are not
// `delivered` yet. Each body goes to `visit` as its FETCH response arrives.
Status ImapSession::FetchFolderOnce(const std::vector<StoredLocation>& locations,
                                    const std::vector<size_t>& indices, bool bodies,
                                    std::vector<bool>& delivered,
                                    const std::function<void(size_t, Result<std::string>)>& visit) {
  const auto deliver = [&](size_t i, Result<std::string> message) {
    delivered[i] = true;
    visit(i, std::move(message));
  };
  const std::string& folder = locations[indices.front()].folder;
  std::map<uint32_t, std::vector<size_t>> by_uid;
  for (size_t i : indices) {
    const StoredLocation& location = locations[i];
    if (delivered[i]) {
      continue;
    }
    if (location.uid == 0 || location.uid_validity == 0) {
      deliver(i, Status::Invalid("location", "IMAP location in folder '" + location.folder +
                                                 "' has no UID or UIDVALIDITY"));
      continue;
    }
    by_uid[location.uid].push_back(i);
  }
  if (by_uid.empty()) {
    return Status::Ok();
  }
  Result<SelectedFolder> selected = SelectCached(folder);
  if (!selected.ok()) {
    return selected.status();
  }
  std::vector<uint32_t> uids;
  for (auto entry = by_uid.begin(); entry != by_uid.end();) {
    std::vector<size_t>& same_uid = entry->second;
    for (auto i = same_uid.begin(); i != same_uid.end();) {
      if (Status valid = CheckUidValidity(*selected, locations[*i]); !valid.ok()) {
        deliver(*i, valid);
        i = same_uid.erase(i);
      } else {
        ++i;
      }
    }
    if (same_uid.empty()) {
      entry = by_uid.erase(entry);
    } else {
      uids.push_back(entry->first);
      ++entry;
    }
  }
  if (uids.empty()) {
    return Status::Ok();
  }
  const std::string uid_set = FormatUidSet(uids);
  const auto handler = [&](ImapResponse& response) {
    if (response.name != "FETCH") {
      return false;
    }
    const auto items = FetchItems(response);
    auto waiting = by_uid.find(FetchUid(items));
    if (waiting == by_uid.end()) {
      return false;
    }
    std::string text;
    if (bodies) {
      auto body = items.find("BODY[]");
      if (body == items.end() || body->second->kind != ImapValue::Kind::kString) {
        return false;
      }
      text = body->second->text;
    }
    for (size_t i : waiting->second) {
      deliver(i, text);
    }
    by_uid.erase(waiting);
    return true;
  };
  Result<ImapReply> reply =
      client_->Execute(ImapCommand("UID FETCH " + uid_set + (bodies ? " (UID BODY.PEEK[])" : " (UID)")),
                       handler);
  if (!reply.ok()) {
    return reply.status();
  }
  const bool expunged = ImapUpperCase(reply->code) == "EXPUNGEISSUED";
  if (!reply->ok() && !expunged) {
    return Status::Internal("fetching UIDs " + uid_set + " from " + Describe(folder) +
                            " failed: " + reply->text);
  }
  for (const auto& [uid, same_uid] : by_uid) {
    for (size_t i : same_uid) {
      deliver(i, Status::NotFound("location", "UID " + std::to_string(uid) +
                                                  " no longer exists in " + Describe(folder)));
    }
  }
  return Status::Ok();
}

std::vector<Status> ImapSession::ClearTags(const std::vector<TaggedLocation>& copies) {
  std::vector<Status> results(copies.size());
  if (Status connected = client_->Connect(); !connected.ok()) {
    return std::vector<Status>(copies.size(), connected);
  }
  // The keywords that MoveBatch() stored on this server: one per group
  // where it sends UID MOVE, one per copy where it falls back to Move().
  const bool by_group = MovesByGroup();
  std::vector<std::string> keywords(copies.size());
  std::vector<const StoredLocation*> pointers;
  std::vector<size_t> copy_of_pointer;
  for (size_t i = 0; i < copies.size(); ++i) {
    Result<std::string> keyword =
        by_group ? GroupKeywordForTag(copies[i].tag) : KeywordForTag(copies[i].tag);
    if (!keyword.ok()) {
      results[i] = keyword.status();
      continue;
    }
    keywords[i] = std::move(keyword).value();
    pointers.push_back(&copies[i].location);
    copy_of_pointer.push_back(i);
  }
  for (const std::vector<size_t>& group : GroupByFolder(pointers)) {
    std::vector<size_t> indices;
    for (size_t pointer : group) {
      indices.push_back(copy_of_pointer[pointer]);
    }
    const Status status =
        WithReconnect([&] { return ClearFolderTagsOnce(copies, indices, keywords, results); });
    for (size_t i : indices) {
      if (!status.ok() && results[i].ok()) {
        results[i] = status;  // copies already failed keep their own error
      }
    }
  }
  return results;
}

// Removes the tags of the copies at `indices`, all in one folder, with one
// UID STORE per 64 copies (removing a keyword that a message lacks changes
// nothing), pipelined with one UID FETCH that finds the copies still there.
Status ImapSession::ClearFolderTagsOnce(const std::vector<TaggedLocation>& copies,
                                        const std::vector<size_t>& indices,
                                        const std::vector<std::string>& keywords,
                                        std::vector<Status>& results) {
  constexpr size_t kCopiesPerStore = 64;
  const std::string& folder = copies[indices.front()].location.folder;
  std::vector<size_t> valid;
  for (size_t i : indices) {
    const StoredLocation& location = copies[i].location;
    if (location.uid == 0 || location.uid_validity == 0) {
      results[i] = Status::Invalid("location", "IMAP location in folder '" + location.folder +
                                                   "' has no UID or UIDVALIDITY");
      continue;
    }
    valid.push_back(i);
  }
  if (valid.empty()) {
    return Status::Ok();
  }
  Result<SelectedFolder> selected = SelectCached(folder);
  if (!selected.ok()) {
    return selected.status();
  }
  std::vector<size_t> current;
  for (size_t i : valid) {
    results[i] = CheckUidValidity(*selected, copies[i].location);
    if (results[i].ok()) {
      current.push_back(i);
    }
  }
  if (current.empty()) {
    return Status::Ok();
  }
  std::vector<ImapCommand> commands;
  std::vector<uint32_t> all_uids;
  for (size_t start = 0; start < current.size(); start += kCopiesPerStore) {
    std::vector<uint32_t> uids;
    std::set<std::string> keyword_set;
    for (size_t j = start; j < std::min(current.size(), start + kCopiesPerStore); ++j) {
      uids.push_back(copies[current[j]].location.uid);
      keyword_set.insert(keywords[current[j]]);
    }
    std::string keyword_list;
    for (const std::string& keyword : keyword_set) {
      keyword_list += (keyword_list.empty() ? "" : " ") + keyword;
    }
    all_uids.insert(all_uids.end(), uids.begin(), uids.end());
    commands.emplace_back("UID STORE " + FormatUidSet(uids) + " -FLAGS.SILENT (" + keyword_list +
                          ")");
  }
  std::sort(all_uids.begin(), all_uids.end());
  all_uids.erase(std::unique(all_uids.begin(), all_uids.end()), all_uids.end());
  commands.emplace_back("UID FETCH " + FormatUidSet(all_uids) + " (UID)");
  Result<std::vector<ImapReply>> replies = client_->ExecutePipelined(commands);
  if (!replies.ok()) {
    return replies.status();
  }
  for (size_t c = 0; c < replies->size(); ++c) {
    if (!(*replies)[c].ok()) {
      return Status::Internal("IMAP command '" + commands[c].Describe() + "' for " + address_ +
                              " on " + client_->url() + " failed: " + (*replies)[c].status + " " +
                              (*replies)[c].text);
    }
  }
  // Untagged FETCH responses may be filed with any of the pipelined commands.
  std::vector<uint32_t> present;
  for (const ImapReply& reply : *replies) {
    for (const ImapResponse& response : reply.untagged) {
      if (response.name == "FETCH") {
        present.push_back(FetchUid(FetchItems(response)));
      }
    }
  }
  std::sort(present.begin(), present.end());
  for (size_t i : current) {
    const uint32_t uid = copies[i].location.uid;
    if (!std::binary_search(present.begin(), present.end(), uid)) {
      results[i] = Status::NotFound(
          "location", "UID " + std::to_string(uid) + " no longer exists in " + Describe(folder));
    }
  }
  return Status::Ok();
}

}  // namespace reclaim
