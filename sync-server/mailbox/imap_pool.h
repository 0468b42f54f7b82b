// Logged-in IMAP connections kept between sessions of the same mailbox.
//
// Logging in is the dearest step of a short IMAP session: Dovecot's default
// configuration starts two new processes for every login, which costs more
// CPU time than moving a few messages. An index pass opens every mailbox,
// and a remediation that follows soon after opens many of the same ones, so
// ImapConnector keeps a session's connection here when the session ends
// and gives it to the next session of that mailbox.
//
// A kept connection stays logged in as that one user, so it is handed out
// only for that user's mailbox, and the pool keeps at most one per mailbox.
// It is closed after `idle_seconds` without use, when the pool is full and a
// newer one arrives (the oldest goes), or when the server wrote to it while
// it was idle (a BYE for an autologout or a `doveadm kick`). The sessions that take it SELECT their folders afresh,
// so nothing about the selected folder carries over.
//
// Thread-safe. A background thread, started by the first Give(), closes
// connections as they expire.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sync-server/mailbox/imap_client.h"

namespace reclaim {

class ImapConnectionPool {
 public:
  // `idle_seconds` 0 or `max_idle` 0 keep nothing: Give() closes at once.
  ImapConnectionPool(int idle_seconds, size_t max_idle);
  // Closes every kept connection.
  ~ImapConnectionPool();
  ImapConnectionPool(const ImapConnectionPool&) = delete;
  ImapConnectionPool& operator=(const ImapConnectionPool&) = delete;

  // Returns the most recently kept connection of `address` that is still
  // usable (ImapClient::ReadyForReuse()), or nullptr. Unusable ones met on
  // the way are closed.
  std::unique_ptr<ImapClient> Take(const std::string& address);

  // Keeps `client`, logged in as `address`, for a later Take(). A client
  // that is not ReadyForReuse() is closed instead.
  void Give(const std::string& address, std::unique_ptr<ImapClient> client);

  // Connections kept now.
  size_t idle() const;
  // How many Take() calls returned a kept connection since the pool was
  // made.
  uint64_t reused() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Kept {
    std::string address;
    std::unique_ptr<ImapClient> client;
    Clock::time_point expires;
  };

  void CloseExpired();

  const std::chrono::seconds idle_time_;
  const size_t max_idle_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Kept> kept_;  // oldest first, so expiry order is list order
  uint64_t reused_ = 0;
  bool stopping_ = false;
  std::thread closer_;
};

}  // namespace reclaim
