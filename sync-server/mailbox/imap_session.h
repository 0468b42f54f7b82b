// The MailboxSession of the IMAP connector: one user's mailbox over one
// ImapClient. ImapConnector::Open() creates it; the contract of each
// operation is in connector.h and imap_connector.h.
//
// Folder names: callers use '/' between levels and UTF-8. The session
// translates them to the server's hierarchy delimiter and to modified UTF-7,
// and rejects a level that contains the server's delimiter. ListFolders()
// skips server folders whose level names contain '/'.
//
// Selected folder: Fetch(), Move(), ClearTag(), ListMessages() and the Find
// methods SELECT their folder on every call. The batch methods FetchEach(),
// MoveBatch() and ClearTags() send NOOP instead when the folder is
// selected already on the same login, which costs less on Dovecot. Within
// one selection the server must keep every UID naming the same message
// (RFC 3501 section 2.3.1.1), and a server that cannot ends the session:
// Dovecot 2.3.19 sends BYE when the NOOP finds a new UIDVALIDITY. The
// batch methods then log in again and SELECT.
//
// Reconnection: when the connection drops during an operation that has not
// yet sent MOVE, COPY, \Deleted or EXPUNGE, the session logs in again and
// runs the operation once more. Dovecot 2.3.19 sends BYE and closes the
// connection when it notices that the selected folder's UIDVALIDITY changed,
// so the second run also turns that case into kConflict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sync-server/mailbox/connector.h"
#include "sync-server/mailbox/imap_client.h"

namespace reclaim {

class ImapConnectionPool;

class ImapSession : public MailboxSession {
 public:
  // `pool`, when not null, receives the connection when the session ends.
  ImapSession(std::unique_ptr<ImapClient> client, std::string address, bool use_move_command,
              std::shared_ptr<ImapConnectionPool> pool);
  ~ImapSession() override;

  Result<std::vector<std::string>> ListFolders() override;
  Result<std::vector<StoredLocation>> ListMessages(const std::string& folder) override;
  // Returns "<UIDVALIDITY>.<UIDNEXT>.<MESSAGES>" from one STATUS. A folder
  // with the same three numbers contains the same UIDs, because UIDs only grow
  // (every new message raises UIDNEXT) and a removal lowers MESSAGES unless
  // a new message also raised UIDNEXT.
  Result<std::string> FolderVersion(const std::string& folder) override;
  Result<std::string> Fetch(const StoredLocation& location) override;
  Result<StoredLocation> Move(const StoredLocation& location, const std::string& folder,
                              const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindTagged(const std::string& folder,
                                                 const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindByMessageId(const std::string& folder,
                                                      const std::string& message_id) override;
  Status ClearTag(const StoredLocation& location, const std::string& tag) override;

  bool FetchesInBatches() const override { return true; }
  // One UID FETCH of the bodies per folder, passed to `visit` as they arrive.
  void FetchEach(const std::vector<StoredLocation>& locations,
                 const std::function<void(size_t, Result<std::string>)>& visit) override;
  // One UID FETCH of the UIDs alone per folder. The digests are not
  // compared: within one UIDVALIDITY a UID names the same bytes for as long
  // as it exists (IMAP messages are immutable, RFC 3501 section 2.3.1.1), and
  // each location's UIDVALIDITY is checked against the folder's.
  void VerifyEach(const std::vector<StoredLocation>& locations,
                  const std::vector<std::string>& sha256s,
                  const std::function<void(size_t, Status)>& visit) override;
  // Per source folder: one UID STORE per tag group that marks the copies
  // with the group keyword and shows which are still there (a UID FETCH
  // checks the copies that had the keyword already), and one UID MOVE.
  // Then one UID FETCH in the destination confirms each copy by COPYUID and
  // its group keyword.
  // Without MOVE (or with use_move_command off) it moves copy by copy.
  std::vector<Result<StoredLocation>> MoveBatch(const std::vector<TaggedLocation>& moves,
                                                const std::string& folder) override;
  // Per folder: one UID STORE that removes the keywords MoveBatch() stored
  // and one UID FETCH that reports copies no longer there, sent together.
  std::vector<Status> ClearTags(const std::vector<TaggedLocation>& copies) override;

 private:
  // A folder after SELECT.
  struct SelectedFolder {
    std::string name;  // as the caller wrote it
    uint32_t uid_validity = 0;
    uint32_t exists = 0;
    bool keywords_allowed = false;  // PERMANENTFLAGS contains `\*`
  };

  // Returns the keyword `$Reclaim<tag>`, or kInvalidArgument for a tag that
  // is not 1 to 32 ASCII letters and digits.
  static Result<std::string> KeywordForTag(const std::string& tag);
  // Returns the keyword of the tag's group, `$Reclaim` and the tag's first
  // kMoveTagGroupLength characters, with the errors of KeywordForTag().
  static Result<std::string> GroupKeywordForTag(const std::string& tag);
  // Returns whether MoveBatch() sends UID MOVE and marks the copies with
  // their group keyword; otherwise it calls Move(), which marks each copy
  // with the keyword of its whole tag. Valid while connected.
  bool MovesByGroup() const;

  // Runs `operation`, and once more after logging in again when the
  // connection dropped during it. Not after a change was sent: the change
  // may have happened, and the second run would report the message gone.
  template <typename Operation>
  auto WithReconnect(Operation operation) -> decltype(operation()) {
    const bool was_connected = client_->connected();
    changed_mailbox_ = false;
    auto result = operation();
    if (!ShouldRunAgain(StatusOf(result), was_connected)) {
      return result;
    }
    return operation();
  }
  bool ShouldRunAgain(const Status& status, bool was_connected) const;
  static const Status& StatusOf(const Status& status) { return status; }
  template <typename T>
  static const Status& StatusOf(const Result<T>& result) {
    return result.status();
  }

  Result<ImapReply> Execute(const ImapCommand& command);
  Result<ImapReply> ExecuteOk(const ImapCommand& command);
  Result<ImapReply> ExecuteChange(const ImapCommand& command);

  Result<char> Delimiter();
  Result<std::string> ServerFolderName(const std::string& folder, const std::string& field);
  Result<std::optional<std::string>> CallerFolderName(const ImapValue& delimiter,
                                                      const ImapValue& name);
  Result<bool> FolderExists(const std::string& quoted_name);
  Status CreateFolder(const std::string& folder);
  Result<SelectedFolder> Select(const std::string& folder);
  // Select(), or NOOP when `folder` is selected on the current login
  // already.
  Result<SelectedFolder> SelectCached(const std::string& folder);
  Result<SelectedFolder> SelectLocation(const StoredLocation& location);
  // kConflict when `location` has another UIDVALIDITY than `folder`.
  Status CheckUidValidity(const SelectedFolder& folder, const StoredLocation& location) const;
  // Groups the indices of `locations` by folder, in order of first
  // appearance except that the selected folder comes first.
  std::vector<std::vector<size_t>> GroupByFolder(
      const std::vector<const StoredLocation*>& locations) const;

  // Implements FetchEach() and VerifyEach(). With `bodies` false it fetches
  // the UIDs only and passes an empty string for each present one.
  void FetchAll(const std::vector<StoredLocation>& locations, bool bodies,
                const std::function<void(size_t, Result<std::string>)>& visit);
  Status FetchFolderOnce(const std::vector<StoredLocation>& locations,
                         const std::vector<size_t>& indices, bool bodies,
                         std::vector<bool>& delivered,
                         const std::function<void(size_t, Result<std::string>)>& visit);
  Status ClearFolderTagsOnce(const std::vector<TaggedLocation>& copies,
                             const std::vector<size_t>& indices,
                             const std::vector<std::string>& keywords,
                             std::vector<Status>& results);

  Result<std::vector<uint32_t>> SearchUids(const ImapCommand& command);
  Result<std::vector<StoredLocation>> FetchLocations(const SelectedFolder& folder,
                                                     const std::string& uid_set);
  // Finds the messages in `folder` that carry `keyword` or, when not empty,
  // `group_keyword`.
  Result<std::vector<StoredLocation>> FindTaggedOnce(const std::string& folder,
                                                     const std::string& keyword,
                                                     const std::string& group_keyword = {});

  Result<StoredLocation> MoveOnce(const StoredLocation& location, const std::string& folder,
                                  const std::string& keyword);
  Result<ImapReply> CopyAndExpunge(const SelectedFolder& source, uint32_t uid,
                                   const std::string& folder, const std::string& keyword);
  // `copy_uid_validity` and `copy_uid` come from COPYUID; 0 when the server
  // sent none.
  Result<StoredLocation> LocateMovedMessage(const std::string& folder, uint32_t source_uid,
                                            uint32_t copy_uid_validity, uint32_t copy_uid,
                                            const std::string& keyword, bool tagged);
  Result<StoredLocation> FindEarlierMove(const StoredLocation& location, const std::string& folder,
                                         const std::string& keyword);

  // State of one MoveBatch() copy between its steps.
  struct BatchMove {
    size_t index = 0;  // in the caller's `moves`
    std::string keyword;             // the group keyword
    bool done = false;               // its result is final
    bool missing = false;            // the source UID was gone before the move
    bool moved = false;              // UID MOVE was sent for it
    bool tagged = false;             // the tag was stored on the source copy first
    uint32_t copy_uid_validity = 0;  // from COPYUID, 0 when the server sent none
    uint32_t copy_uid = 0;
  };
  Status EnsureFolder(const std::string& folder);
  Status MoveFolderOnce(const std::vector<TaggedLocation>& moves,
                        const std::vector<BatchMove*>& batch, const std::string& folder,
                        std::vector<Result<StoredLocation>>& results);
  Status StoreTags(const std::vector<TaggedLocation>& moves, const std::vector<BatchMove*>& to_move,
                   std::vector<Result<StoredLocation>>& results, std::vector<uint32_t>* present);
  Result<ImapReply> SendMove(const std::string& uid_set, const std::string& folder);
  Status ConfirmMovedOnce(const std::vector<TaggedLocation>& moves,
                          const std::vector<BatchMove*>& moved, const std::string& folder,
                          std::vector<Result<StoredLocation>>& results);

  std::string Describe(const std::string& folder) const;

  std::unique_ptr<ImapClient> client_;
  std::shared_ptr<ImapConnectionPool> pool_;
  std::string address_;
  bool use_move_command_;
  bool changed_mailbox_ = false;   // MOVE, COPY, \Deleted or EXPUNGE sent in this operation
  std::optional<SelectedFolder> selected_;  // the folder of the last successful SELECT
  uint64_t selected_login_ = 0;             // ImapClient::login_count() at that SELECT
  std::vector<std::string> known_folders_;  // created or found to exist by this session
};

}  // namespace reclaim
