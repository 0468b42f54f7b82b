// The MailboxSession of the IMAP connector: one user's mailbox over one
// ImapClient. ImapConnector::Open() creates it; the contract of each
// operation is in connector.h and imap_connector.h.
//
// Folder names: callers use '/' between levels and UTF-8. The session
// translates them to the server's hierarchy delimiter and to modified UTF-7,
// and rejects a level that contains the server's delimiter. ListFolders()
// skips server folders whose level names contain '/'.
//
// Reconnection: when the connection drops during an operation that has not
// yet sent MOVE, COPY, \Deleted or EXPUNGE, the session logs in again and
// runs the operation once more. Dovecot 2.3.19 sends BYE and closes the
// connection when it notices that the selected folder's UIDVALIDITY changed,
// so the second run also turns that case into kConflict.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sync-server/mailbox/connector.h"
#include "sync-server/mailbox/imap_client.h"

namespace reclaim {

class ImapSession : public MailboxSession {
 public:
  ImapSession(std::unique_ptr<ImapClient> client, std::string address, bool use_move_command);

  Result<std::vector<std::string>> ListFolders() override;
  Result<std::vector<StoredLocation>> ListMessages(const std::string& folder) override;
  Result<std::string> Fetch(const StoredLocation& location) override;
  Result<StoredLocation> Move(const StoredLocation& location, const std::string& folder,
                              const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindTagged(const std::string& folder,
                                                 const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindByMessageId(const std::string& folder,
                                                      const std::string& message_id) override;
  Status ClearTag(const StoredLocation& location, const std::string& tag) override;

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
  Result<SelectedFolder> SelectLocation(const StoredLocation& location);

  Result<std::vector<uint32_t>> SearchUids(const ImapCommand& command);
  Result<std::vector<StoredLocation>> FetchLocations(const SelectedFolder& folder,
                                                     const std::string& uid_set);
  Result<std::vector<StoredLocation>> FindTaggedOnce(const std::string& folder,
                                                     const std::string& keyword);

  Result<StoredLocation> MoveOnce(const StoredLocation& location, const std::string& folder,
                                  const std::string& keyword);
  Result<ImapReply> CopyAndExpunge(const SelectedFolder& source, uint32_t uid,
                                   const std::string& folder, const std::string& keyword);
  Result<StoredLocation> LocateMovedMessage(const std::string& folder, uint32_t source_uid,
                                            const ImapReply& reply, const std::string& keyword,
                                            bool tagged);
  Result<StoredLocation> FindEarlierMove(const StoredLocation& location, const std::string& folder,
                                         const std::string& keyword);

  std::string Describe(const std::string& folder) const;

  std::unique_ptr<ImapClient> client_;
  std::string address_;
  bool use_move_command_;
  std::optional<char> delimiter_;  // '\0' for a flat namespace (NIL delimiter)
  bool changed_mailbox_ = false;   // MOVE, COPY, \Deleted or EXPUNGE sent in this operation
};

}  // namespace reclaim
