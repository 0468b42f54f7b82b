#include "sync-server/mailbox/connector.h"

#include "sync-server/mail/hashing.h"

namespace reclaim {

void MailboxSession::VerifyEach(const std::vector<StoredLocation>& locations,
                                const std::vector<std::string>& sha256s,
                                const std::function<void(size_t, Status)>& visit) {
  FetchEach(locations, [&](size_t i, Result<std::string> raw) {
    if (!raw.ok()) {
      visit(i, raw.status());
    } else if (i < sha256s.size() && !sha256s[i].empty() && Sha256Hex(*raw) != sha256s[i]) {
      const StoredLocation& at = locations[i];
      const std::string where =
          at.file.empty() ? at.folder + " UID " + std::to_string(at.uid) : at.file;
      visit(i, Status::NotFound("location", where + " now holds other bytes than the message"
                                                    " that was indexed there"));
    } else {
      visit(i, Status::Ok());
    }
  });
}

}  // namespace reclaim
