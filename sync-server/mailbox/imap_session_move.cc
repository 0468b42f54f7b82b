// ImapSession::Move() and its steps; the rest of ImapSession is in
// imap_session.cc.
#include "sync-server/mailbox/imap_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

namespace reclaim {
namespace {

// Returns the COPYUID code of a COPY or MOVE reply. RFC 6851 puts it in an
// untagged OK for MOVE; RFC 4315 puts it in the tagged OK for COPY.
Result<std::optional<CopyUid>> FindCopyUid(const ImapReply& reply) {
  std::vector<const std::string*> codes = {&reply.code};
  for (const ImapResponse& response : reply.untagged) {
    if (response.name == "OK") {
      codes.push_back(&response.code);
    }
  }
  for (const std::string* code : codes) {
    if (ImapUpperCase(code->substr(0, 8)) == "COPYUID ") {
      Result<CopyUid> parsed = ParseCopyUid(*code);
      if (!parsed.ok()) {
        return parsed.status();
      }
      return std::optional<CopyUid>(std::move(parsed).value());
    }
  }
  return std::optional<CopyUid>();
}

// Returns whether `flags` (as JoinImapFlags() writes them) contain
// `keyword`, which IMAP compares without case.
bool HasKeyword(const std::string& flags, const std::string& keyword) {
  const std::string expected = ImapUpperCase(keyword);
  size_t start = 0;
  while (start <= flags.size()) {
    size_t end = flags.find(' ', start);
    if (end == std::string::npos) {
      end = flags.size();
    }
    if (ImapUpperCase(std::string_view(flags).substr(start, end - start)) == expected) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

Result<StoredLocation> ImapSession::Move(const StoredLocation& location, const std::string& folder,
                                         const std::string& tag) {
  Result<std::string> keyword = KeywordForTag(tag);
  if (!keyword.ok()) {
    return keyword.status();
  }
  if (folder == location.folder || (IsInboxName(folder) && IsInboxName(location.folder))) {
    return Status::Invalid("folder", "message is already in folder '" + folder + "'");
  }
  return WithReconnect([&]() { return MoveOnce(location, folder, *keyword); });
}

Result<StoredLocation> ImapSession::MoveOnce(const StoredLocation& location,
                                             const std::string& folder,
                                             const std::string& keyword) {
  Status connected = client_->Connect();
  if (!connected.ok()) {
    return connected;
  }
  if (!client_->HasCapability("UIDPLUS")) {
    return Status::Internal("IMAP server " + client_->url() +
                            " lacks UIDPLUS (RFC 4315), which Reclaim needs to move one message "
                            "without a plain EXPUNGE and to learn its new UID");
  }
  Status created = CreateFolder(folder);
  if (!created.ok()) {
    return created;
  }
  Result<SelectedFolder> source = SelectLocation(location);
  if (!source.ok()) {
    return source.status();
  }
  const std::string uid = std::to_string(location.uid);
  Result<std::vector<StoredLocation>> present = FetchLocations(*source, uid);
  if (!present.ok()) {
    return present.status();
  }
  if (present->empty()) {
    return FindEarlierMove(location, folder, keyword);
  }
  const bool tagged = source->keywords_allowed;
  if (tagged) {
    Result<ImapReply> stored =
        ExecuteOk(ImapCommand("UID STORE " + uid + " +FLAGS.SILENT (" + keyword + ")"));
    if (!stored.ok()) {
      return stored.status();
    }
  }
  Result<std::string> destination = ServerFolderName(folder, "folder");
  if (!destination.ok()) {
    return destination.status();
  }
  Result<ImapReply> moved = use_move_command_ && client_->HasCapability("MOVE")
                                ? ExecuteChange(ImapCommand("UID MOVE " + uid + " " + *destination))
                                : CopyAndExpunge(*source, location.uid, folder, keyword);
  if (!moved.ok()) {
    return moved.status();
  }
  Result<std::optional<CopyUid>> copy_uid = FindCopyUid(*moved);
  if (!copy_uid.ok()) {
    return copy_uid.status();
  }
  uint32_t copy_uid_validity = 0;
  uint32_t new_uid = 0;
  if (copy_uid->has_value()) {
    copy_uid_validity = (*copy_uid)->uid_validity;
    new_uid = (*copy_uid)->DestinationOf(location.uid);
  }
  return LocateMovedMessage(folder, location.uid, copy_uid_validity, new_uid, keyword, tagged);
}

// The move for servers without MOVE. An earlier interrupted attempt may have
// copied the message already; its copy carries the tag, and copying again
// would leave two copies in the destination.
Result<ImapReply> ImapSession::CopyAndExpunge(const SelectedFolder& source, uint32_t uid,
                                              const std::string& folder,
                                              const std::string& keyword) {
  Result<std::vector<StoredLocation>> earlier = FindTaggedOnce(folder, keyword);
  if (!earlier.ok()) {
    return earlier.status();
  }
  ImapReply copied;
  const std::string uid_text = std::to_string(uid);
  Result<std::string> destination = ServerFolderName(folder, "folder");
  if (!destination.ok()) {
    return destination.status();
  }
  StoredLocation source_location;
  source_location.folder = source.name;
  source_location.uid_validity = source.uid_validity;
  source_location.uid = uid;
  Result<SelectedFolder> reselected = SelectLocation(source_location);
  if (!reselected.ok()) {
    return reselected.status();
  }
  if (earlier->empty()) {
    Result<ImapReply> reply =
        ExecuteChange(ImapCommand("UID COPY " + uid_text + " " + *destination));
    if (!reply.ok()) {
      return reply.status();
    }
    copied = std::move(reply).value();
  } else {
    spdlog::info(
        "IMAP move of UID {} in {}: found the copy of an earlier attempt, not copying again", uid,
        Describe(source.name));
  }
  for (const std::string& command :
       {"UID STORE " + uid_text + " +FLAGS.SILENT (\\Deleted)", "UID EXPUNGE " + uid_text}) {
    Result<ImapReply> reply = ExecuteChange(ImapCommand(command));
    if (!reply.ok()) {
      return reply.status();
    }
  }
  return copied;
}

// Finds the moved message in `folder` from COPYUID and confirms it by the
// tag keyword; without COPYUID the keyword alone decides.
Result<StoredLocation> ImapSession::LocateMovedMessage(const std::string& folder,
                                                       uint32_t source_uid,
                                                       uint32_t copy_uid_validity,
                                                       uint32_t copy_uid,
                                                       const std::string& keyword, bool tagged) {
  Result<SelectedFolder> destination = Select(folder);
  if (!destination.ok()) {
    return destination.status();
  }
  uint32_t new_uid = 0;
  if (copy_uid_validity == destination->uid_validity) {
    new_uid = copy_uid;
  }
  if (tagged) {
    Result<std::vector<uint32_t>> hits = SearchUids(ImapCommand("UID SEARCH KEYWORD " + keyword));
    if (!hits.ok()) {
      return hits.status();
    }
    const bool confirmed = std::find(hits->begin(), hits->end(), new_uid) != hits->end();
    if (new_uid == 0 && hits->size() == 1) {
      new_uid = hits->front();
    } else if (new_uid != 0 && hits->empty()) {
      spdlog::warn("IMAP move into {}: the tag {} did not reach the copy; trusting COPYUID {}",
                   Describe(folder), keyword, new_uid);
    } else if (new_uid != 0 && !confirmed) {
      return Status::Internal("after the move of UID " + std::to_string(source_uid) + " into " +
                              Describe(folder) + ", COPYUID names UID " + std::to_string(new_uid) +
                              " but the tag " + keyword + " is on UIDs " + FormatUidSet(*hits));
    } else if (new_uid == 0) {
      return Status::Internal("after the move of UID " + std::to_string(source_uid) + " into " +
                              Describe(folder) + ", the tag " + keyword + " is on " +
                              std::to_string(hits->size()) +
                              " messages and the server sent no COPYUID");
    }
  }
  if (new_uid == 0) {
    return Status::Internal("UID " + std::to_string(source_uid) + " was moved into " +
                            Describe(folder) +
                            ", but the server sent no COPYUID and the folder takes no tag, so its "
                            "new UID is unknown");
  }
  Result<std::vector<StoredLocation>> moved = FetchLocations(*destination, std::to_string(new_uid));
  if (!moved.ok()) {
    return moved.status();
  }
  if (moved->empty()) {
    return Status::Internal("moved message UID " + std::to_string(new_uid) + " is missing from " +
                            Describe(folder));
  }
  return moved->front();
}

// Handles a Move() whose source UID is gone: when the tag is in the
// destination, an earlier call with the same tag moved the message.
Result<StoredLocation> ImapSession::FindEarlierMove(const StoredLocation& location,
                                                    const std::string& folder,
                                                    const std::string& keyword) {
  Result<std::vector<StoredLocation>> tagged = FindTaggedOnce(folder, keyword);
  if (!tagged.ok()) {
    return tagged.status();
  }
  if (tagged->size() == 1) {
    return tagged->front();
  }
  if (tagged->size() > 1) {
    return Status::Internal("tag " + keyword + " is on " + std::to_string(tagged->size()) +
                            " messages in " + Describe(folder));
  }
  return Status::NotFound("location", "UID " + std::to_string(location.uid) +
                                          " no longer exists in " + Describe(location.folder));
}

Status ImapSession::EnsureFolder(const std::string& folder) {
  if (std::find(known_folders_.begin(), known_folders_.end(), folder) != known_folders_.end()) {
    return Status::Ok();
  }
  Status created = CreateFolder(folder);
  if (created.ok()) {
    known_folders_.push_back(folder);
  }
  return created;
}

std::vector<Result<StoredLocation>> ImapSession::MoveBatch(const std::vector<TaggedLocation>& moves,
                                                           const std::string& folder) {
  std::vector<Result<StoredLocation>> results(
      moves.size(), Status::Internal("the move into " + Describe(folder) + " was not attempted"));
  if (moves.empty()) {
    return results;
  }
  Status connected = client_->Connect();
  if (!connected.ok()) {
    return std::vector<Result<StoredLocation>>(moves.size(), connected);
  }
  if (!use_move_command_ || !client_->HasCapability("MOVE")) {
    // COPY, STORE \Deleted and UID EXPUNGE each carry their own crash
    // window; Move() handles them one copy at a time.
    return MailboxSession::MoveBatch(moves, folder);
  }

  std::vector<BatchMove> state(moves.size());
  std::vector<const StoredLocation*> sources;
  std::vector<size_t> move_of_source;
  for (size_t i = 0; i < moves.size(); ++i) {
    const StoredLocation& location = moves[i].location;
    state[i].index = i;
    state[i].done = true;
    Result<std::string> keyword = GroupKeywordForTag(moves[i].tag);
    if (!keyword.ok()) {
      results[i] = keyword.status();
    } else if (folder == location.folder || (IsInboxName(folder) && IsInboxName(location.folder))) {
      results[i] = Status::Invalid("folder", "message is already in folder '" + folder + "'");
    } else if (location.uid == 0 || location.uid_validity == 0) {
      results[i] = Status::Invalid("location", "IMAP location in folder '" + location.folder +
                                                   "' has no UID or UIDVALIDITY");
    } else {
      state[i].keyword = std::move(keyword).value();
      state[i].done = false;
      sources.push_back(&location);
      move_of_source.push_back(i);
    }
  }

  // Tag and move the copies of each source folder.
  std::vector<BatchMove*> moved;
  for (const std::vector<size_t>& group : GroupByFolder(sources)) {
    std::vector<BatchMove*> batch;
    for (size_t source : group) {
      batch.push_back(&state[move_of_source[source]]);
    }
    const Status status =
        WithReconnect([&] { return MoveFolderOnce(moves, batch, folder, results); });
    for (BatchMove* move : batch) {
      if (!status.ok() && !move->done && !move->missing) {
        // After UID MOVE was sent the copy may be in `folder` already, with
        // its tag (imap_connector.h).
        results[move->index] = status;
        move->done = true;
      } else if (move->moved && !move->done) {
        moved.push_back(move);
      }
    }
  }

  // Confirm where the moved copies arrived, with the destination selected once.
  if (!moved.empty()) {
    const Status status =
        WithReconnect([&] { return ConfirmMovedOnce(moves, moved, folder, results); });
    for (BatchMove* move : moved) {
      if (!move->done) {
        results[move->index] =
            status.ok() ? Status::Internal("the moved copy was not confirmed") : status;
      }
    }
  }

  // A source that was gone may have been moved by an earlier Move() with
  // the same tag, which marks the copy with the keyword of the whole tag.
  // The group keyword would also match the other copies of the batch.
  for (BatchMove& move : state) {
    if (move.missing && !move.done) {
      const std::string copy_keyword = *KeywordForTag(moves[move.index].tag);
      results[move.index] = WithReconnect(
          [&] { return FindEarlierMove(moves[move.index].location, folder, copy_keyword); });
    }
  }
  return results;
}

// Tags the copies of `to_move` in the selected folder with their group
// keyword: one UID STORE per keyword, which for the copies of one batch is
// a single STORE. Dovecot 2.3.19 with Maildir rewrites and fsyncs a
// folder's keyword file for each new keyword name among its first 26, so
// one keyword per batch instead of one per copy saves that work for all
// copies but one. A copy whose STORE fails is done with that error.
// The STOREs are not .SILENT, so the server replies to each with one FETCH
// per message it changed, and the UIDs of those land in `*present`. So the
// STORE also shows which copies are still there, except those that had the
// keyword already.
Status ImapSession::StoreTags(const std::vector<TaggedLocation>& moves,
                              const std::vector<BatchMove*>& to_move,
                              std::vector<Result<StoredLocation>>& results,
                              std::vector<uint32_t>* present) {
  std::map<std::string, std::vector<BatchMove*>> by_keyword;
  for (BatchMove* move : to_move) {
    by_keyword[move->keyword].push_back(move);
  }
  std::vector<ImapCommand> stores;
  std::vector<const std::vector<BatchMove*>*> store_moves;
  for (const auto& [keyword, group] : by_keyword) {
    std::vector<uint32_t> uids;
    for (const BatchMove* move : group) {
      uids.push_back(moves[move->index].location.uid);
    }
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    stores.emplace_back("UID STORE " + FormatUidSet(uids) + " +FLAGS (" + keyword + ")");
    store_moves.push_back(&group);
  }
  Result<std::vector<ImapReply>> replies = client_->ExecutePipelined(stores);
  if (!replies.ok()) {
    return replies.status();
  }
  for (const ImapReply& reply : *replies) {
    for (const ImapResponse& response : reply.untagged) {
      if (response.name == "FETCH") {
        if (const uint32_t uid = FetchUid(FetchItems(response)); uid != 0) {
          present->push_back(uid);
        }
      }
    }
  }
  std::sort(present->begin(), present->end());
  for (size_t s = 0; s < stores.size(); ++s) {
    const ImapReply& reply = (*replies)[s];
    if (reply.ok()) {
      continue;
    }
    for (BatchMove* move : *store_moves[s]) {
      results[move->index] =
          Status::Internal("IMAP command '" + stores[s].Describe() + "' for " + address_ + " on " +
                           client_->url() + " failed: " + reply.status + " " + reply.text);
      move->done = true;
    }
  }
  return Status::Ok();
}

// Moves the copies of `batch`, all in one source folder: tags them with
// their group keyword, which also shows which are still there, and moves
// them with one UID MOVE. One UID FETCH shows presence where the folder
// takes no keywords and for copies that had the keyword already.
// Marks copies that are gone as `missing` and moved copies as `moved`.
Status ImapSession::MoveFolderOnce(const std::vector<TaggedLocation>& moves,
                                   const std::vector<BatchMove*>& batch, const std::string& folder,
                                   std::vector<Result<StoredLocation>>& results) {
  if (!client_->HasCapability("UIDPLUS")) {
    return Status::Internal("IMAP server " + client_->url() +
                            " lacks UIDPLUS (RFC 4315), which Reclaim needs to move one message "
                            "without a plain EXPUNGE and to learn its new UID");
  }
  // The destination is created only when UID MOVE finds it missing
  // (SendMove), which saves a CREATE per session in the usual case where the
  // hold folder exists.
  const std::string& source_folder = moves[batch.front()->index].location.folder;
  Result<SelectedFolder> source = SelectCached(source_folder);
  if (!source.ok()) {
    return source.status();
  }
  std::vector<BatchMove*> pending;
  std::vector<uint32_t> uids;
  for (BatchMove* move : batch) {
    if (move->done || move->missing) {
      continue;
    }
    const StoredLocation& location = moves[move->index].location;
    if (Status valid = CheckUidValidity(*source, location); !valid.ok()) {
      results[move->index] = valid;
      move->done = true;
      continue;
    }
    pending.push_back(move);
    uids.push_back(location.uid);
  }
  if (pending.empty()) {
    return Status::Ok();
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());

  // Which copies are still there: the STORE of the tags reports it, and
  // without tags one UID FETCH does.
  const bool tagged = source->keywords_allowed;
  std::vector<uint32_t> present_uids;
  if (tagged) {
    if (Status stored = StoreTags(moves, pending, results, &present_uids); !stored.ok()) {
      return stored;
    }
    // Dovecot 2.3.19 sends FETCH after a STORE only for the messages whose
    // flags it changed. A copy that has the keyword already, because the
    // connection dropped after an earlier STORE of this step, is looked up
    // by UID.
    std::vector<uint32_t> unreported;
    for (const BatchMove* move : pending) {
      const uint32_t uid = moves[move->index].location.uid;
      if (!move->done && !std::binary_search(present_uids.begin(), present_uids.end(), uid)) {
        unreported.push_back(uid);
      }
    }
    if (!unreported.empty()) {
      std::sort(unreported.begin(), unreported.end());
      unreported.erase(std::unique(unreported.begin(), unreported.end()), unreported.end());
      Result<std::vector<StoredLocation>> found = FetchLocations(*source, FormatUidSet(unreported));
      if (!found.ok()) {
        return found.status();
      }
      for (const StoredLocation& location : *found) {
        present_uids.push_back(location.uid);
      }
      std::sort(present_uids.begin(), present_uids.end());
    }
  } else {
    Result<std::vector<StoredLocation>> present = FetchLocations(*source, FormatUidSet(uids));
    if (!present.ok()) {
      return present.status();
    }
    for (const StoredLocation& location : *present) {
      present_uids.push_back(location.uid);
    }
  }
  std::vector<BatchMove*> to_move;
  for (BatchMove* move : pending) {
    if (move->done) {
      continue;
    }
    if (std::binary_search(present_uids.begin(), present_uids.end(),
                           moves[move->index].location.uid)) {
      to_move.push_back(move);
    } else {
      move->missing = true;
    }
  }
  uids.clear();
  for (BatchMove* move : to_move) {
    if (!move->done) {
      uids.push_back(moves[move->index].location.uid);
    }
  }
  if (uids.empty()) {
    return Status::Ok();
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());

  Result<ImapReply> reply = SendMove(FormatUidSet(uids), folder);
  if (!reply.ok()) {
    return reply.status();
  }
  // A malformed COPYUID is treated as none: the tags then locate the copies.
  Result<std::optional<CopyUid>> copy_uid = FindCopyUid(*reply);
  if (!copy_uid.ok()) {
    spdlog::warn("IMAP move into {}: {}; locating the copies by their tags", Describe(folder),
                 copy_uid.status().message());
  }
  for (BatchMove* move : to_move) {
    if (move->done) {
      continue;
    }
    move->moved = true;
    move->tagged = tagged;
    if (copy_uid.ok() && copy_uid->has_value()) {
      move->copy_uid_validity = (*copy_uid)->uid_validity;
      move->copy_uid = (*copy_uid)->DestinationOf(moves[move->index].location.uid);
    }
  }
  return Status::Ok();
}

// Sends UID MOVE of `uid_set` in the selected folder into `folder`. A NO
// reply with [TRYCREATE], or a plain NO while the folder does not exist,
// means the destination is missing: it is created and the MOVE sent once
// more. A failed MOVE leaves both folders as they were, as a failed COPY
// must (RFC 3501 section 6.4.7), so sending it again cannot make a second
// copy.
Result<ImapReply> ImapSession::SendMove(const std::string& uid_set, const std::string& folder) {
  Result<std::string> destination = ServerFolderName(folder, "folder");
  if (!destination.ok()) {
    return destination.status();
  }
  const ImapCommand move("UID MOVE " + uid_set + " " + *destination);
  changed_mailbox_ = true;
  Result<ImapReply> reply = Execute(move);
  bool missing = reply.ok() && !reply->ok() && ImapUpperCase(reply->code) == "TRYCREATE";
  if (reply.ok() && !reply->ok() && !missing && reply->code.empty()) {
    // NOTE: no test reaches this branch, because Dovecot always sends
    // [TRYCREATE] for a missing destination.
    Result<bool> exists = FolderExists(*destination);
    if (!exists.ok()) {
      return exists.status();
    }
    missing = !*exists;
  }
  if (missing) {
    known_folders_.erase(std::remove(known_folders_.begin(), known_folders_.end(), folder),
                         known_folders_.end());
    // CREATE leaves the source folder selected.
    if (Status created = EnsureFolder(folder); !created.ok()) {
      return created;
    }
    reply = Execute(move);
  }
  if (reply.ok() && !reply->ok()) {
    return Status::Internal("IMAP command '" + move.Describe() + "' for " + address_ + " on " +
                            client_->url() + " failed: " + reply->status + " " + reply->text);
  }
  return reply;
}

// Confirms each moved copy in `folder`: the UID that COPYUID gave must
// exist and carry the copy's group keyword. Copies that fail this are
// looked up one by one, which without COPYUID succeeds only for a group
// keyword that is on one message.
Status ImapSession::ConfirmMovedOnce(const std::vector<TaggedLocation>& moves,
                                     const std::vector<BatchMove*>& moved,
                                     const std::string& folder,
                                     std::vector<Result<StoredLocation>>& results) {
  Result<SelectedFolder> destination = SelectCached(folder);
  if (!destination.ok()) {
    return destination.status();
  }
  std::vector<uint32_t> new_uids;
  for (const BatchMove* move : moved) {
    if (!move->done && move->copy_uid != 0 &&
        move->copy_uid_validity == destination->uid_validity) {
      new_uids.push_back(move->copy_uid);
    }
  }
  std::sort(new_uids.begin(), new_uids.end());
  new_uids.erase(std::unique(new_uids.begin(), new_uids.end()), new_uids.end());
  std::map<uint32_t, StoredLocation> arrived;
  if (!new_uids.empty()) {
    Result<std::vector<StoredLocation>> fetched =
        FetchLocations(*destination, FormatUidSet(new_uids));
    if (!fetched.ok()) {
      return fetched.status();
    }
    for (StoredLocation& location : *fetched) {
      arrived[location.uid] = std::move(location);
    }
  }
  for (BatchMove* move : moved) {
    if (move->done) {
      continue;
    }
    auto found = move->copy_uid_validity == destination->uid_validity ? arrived.find(move->copy_uid)
                                                                      : arrived.end();
    if (found != arrived.end() &&
        (!move->tagged || HasKeyword(found->second.flags, move->keyword))) {
      results[move->index] = found->second;
    } else {
      results[move->index] =
          LocateMovedMessage(folder, moves[move->index].location.uid, move->copy_uid_validity,
                             move->copy_uid, move->keyword, move->tagged);
      if (!results[move->index].ok() &&
          results[move->index].status().code() == StatusCode::kUnavailable) {
        return results[move->index].status();  // run again after logging in
      }
    }
    move->done = true;
  }
  return Status::Ok();
}

}  // namespace reclaim
