// ImapSession::Move() and its steps; the rest of ImapSession is in
// imap_session.cc.
#include "sync-server/mailbox/imap_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

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
  return LocateMovedMessage(folder, location.uid, *moved, keyword, tagged);
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
                                                       uint32_t source_uid, const ImapReply& reply,
                                                       const std::string& keyword, bool tagged) {
  Result<std::optional<CopyUid>> copy_uid = FindCopyUid(reply);
  if (!copy_uid.ok()) {
    return copy_uid.status();
  }
  Result<SelectedFolder> destination = Select(folder);
  if (!destination.ok()) {
    return destination.status();
  }
  uint32_t new_uid = 0;
  if (copy_uid->has_value() && (*copy_uid)->uid_validity == destination->uid_validity) {
    new_uid = (*copy_uid)->DestinationOf(source_uid);
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

}  // namespace reclaim
