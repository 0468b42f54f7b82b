#include "sync-server/mailbox/imap_pool.h"

#include <utility>
#include <vector>

namespace reclaim {

ImapConnectionPool::ImapConnectionPool(int idle_seconds, size_t max_idle)
    : idle_time_(idle_seconds > 0 ? idle_seconds : 0), max_idle_(idle_seconds > 0 ? max_idle : 0) {}

ImapConnectionPool::~ImapConnectionPool() {
  std::list<Kept> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    closing.swap(kept_);
  }
  wake_.notify_all();
  if (closer_.joinable()) {
    closer_.join();
  }
  // `closing` goes out of scope here; each ImapClient closes its connection.
}

std::unique_ptr<ImapClient> ImapConnectionPool::Take(const std::string& address) {
  std::vector<std::unique_ptr<ImapClient>> stale;
  std::unique_ptr<ImapClient> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = kept_.end(); it != kept_.begin() && !found;) {
      --it;
      if (it->address != address) {
        continue;
      }
      std::unique_ptr<ImapClient> client = std::move(it->client);
      it = kept_.erase(it);
      if (client->ReadyForReuse()) {
        found = std::move(client);
        ++reused_;
      } else {
        stale.push_back(std::move(client));
      }
    }
  }
  // `stale` is closed here, outside the lock, because closing may wait for
  // the server.
  return found;
}

void ImapConnectionPool::Give(const std::string& address, std::unique_ptr<ImapClient> client) {
  if (client == nullptr || max_idle_ == 0 || !client->ReadyForReuse()) {
    return;
  }
  std::vector<std::unique_ptr<ImapClient>> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      return;
    }
    // One kept connection per mailbox is enough for the next session, and
    // Dovecot limits the connections per user and address
    // (mail_max_userip_connections, 10 by default).
    for (auto it = kept_.begin(); it != kept_.end();) {
      if (it->address == address) {
        evicted.push_back(std::move(it->client));
        it = kept_.erase(it);
      } else {
        ++it;
      }
    }
    if (kept_.size() >= max_idle_) {
      evicted.push_back(std::move(kept_.front().client));
      kept_.pop_front();
    }
    kept_.push_back(Kept{address, std::move(client), Clock::now() + idle_time_});
    if (!closer_.joinable()) {
      closer_ = std::thread([this] { CloseExpired(); });
    }
  }
  wake_.notify_all();
}

size_t ImapConnectionPool::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return kept_.size();
}

uint64_t ImapConnectionPool::reused() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reused_;
}

void ImapConnectionPool::CloseExpired() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (kept_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const Clock::time_point deadline = kept_.front().expires;
    if (Clock::now() < deadline) {
      wake_.wait_until(lock, deadline);
      continue;
    }
    std::vector<std::unique_ptr<ImapClient>> expired;
    const Clock::time_point now = Clock::now();
    while (!kept_.empty() && kept_.front().expires <= now) {
      expired.push_back(std::move(kept_.front().client));
      kept_.pop_front();
    }
    lock.unlock();
    expired.clear();  // closes the connections without holding the lock
    lock.lock();
  }
}

}  // namespace reclaim
