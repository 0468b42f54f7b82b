// Background jobs (remove, restore, index) run one at a time on a worker
// thread, with progress that other threads read and a cancel flag the job
// checks between copies.
//
// Thread-safe. A job's work function runs on the worker thread and must
// open its own database connection there.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"
#include "sync-server/remediation/remediator.h"

namespace reclaim {

enum class JobKind : uint8_t { kRemove, kRestore, kIndex };
enum class JobState : uint8_t { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view ApiName(JobKind kind);    // "remove", "restore", "index"
std::string_view ApiName(JobState state);  // "queued", "running", ...

struct JobInfo {
  std::string id;
  JobKind kind = JobKind::kRemove;
  std::string incident_id;  // empty for index jobs
  JobState state = JobState::kQueued;
  int total = 0;  // copies to act on, once known
  int done = 0;
  std::string error;  // set when state is kFailed
  UnixSeconds created = 0;
  UnixSeconds finished = 0;
};

class JobRunner {
 public:
  using Work = std::function<Status(JobControl* control)>;

  // `clock` gives the current time for the job records.
  explicit JobRunner(std::function<UnixSeconds()> clock);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Queues `work` and returns the job id. Jobs run in submission order.
  std::string Submit(JobKind kind, const std::string& incident_id, Work work);

  std::optional<JobInfo> Get(const std::string& id) const;
  // Newest first, at most `limit`.
  std::vector<JobInfo> List(size_t limit = 100) const;

  // Asks a queued or running job to stop: a queued job never starts, a
  // running one stops before its next copy. False for unknown or finished
  // jobs.
  bool Cancel(const std::string& id);

  // Waits until no job is queued or running, at most `timeout_ms`; returns
  // whether the runner is idle.
  bool WaitIdle(int timeout_ms) const;

  // Stops taking jobs, lets the running job reach its next journalled
  // point (it is cancelled between copies) and joins the worker. Queued
  // jobs are left cancelled. Called by the destructor.
  void Stop();

 private:
  struct Job {
    JobInfo info;
    Work work;
    JobControl control;
  };
  void WorkerLoop();
  JobInfo Snapshot(const Job& job) const;

  std::function<UnixSeconds()> clock_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::string> order_;  // ids in submission order
  bool running_job_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace reclaim
