#include "sync-server/jobs/job_runner.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "sync-server/store/incident_repository.h"

namespace reclaim {

std::string_view ApiName(JobKind kind) {
  switch (kind) {
    case JobKind::kRemove:
      return "remove";
    case JobKind::kRestore:
      return "restore";
    case JobKind::kIndex:
      return "index";
  }
  return "remove";
}

std::string_view ApiName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "queued";
}

JobRunner::JobRunner(std::function<UnixSeconds()> clock) : clock_(std::move(clock)) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

JobRunner::~JobRunner() { Stop(); }

std::string JobRunner::Submit(JobKind kind, const std::string& incident_id, Work work) {
  auto job = std::make_shared<Job>();
  job->info.id = "job-" + RandomId().substr(0, 12);
  job->info.kind = kind;
  job->info.incident_id = incident_id;
  job->info.created = clock_();
  job->work = std::move(work);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) {
    job->info.state = JobState::kCancelled;
    job->info.error = "the server is stopping";
  } else {
    queue_.push_back(job);
  }
  jobs_[job->info.id] = job;
  order_.push_back(job->info.id);
  changed_.notify_all();
  spdlog::info("job {}: queued {} for incident {}", job->info.id, ApiName(kind),
               incident_id.empty() ? "-" : incident_id);
  return job->info.id;
}

JobInfo JobRunner::Snapshot(const Job& job) const {
  JobInfo info = job.info;
  info.total = job.control.total;
  info.done = job.control.done;
  return info;
}

std::optional<JobInfo> JobRunner::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return std::nullopt;
  return Snapshot(*found->second);
}

std::vector<JobInfo> JobRunner::List(size_t limit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobInfo> out;
  for (auto it = order_.rbegin(); it != order_.rend() && out.size() < limit; ++it) {
    out.push_back(Snapshot(*jobs_.at(*it)));
  }
  return out;
}

bool JobRunner::Cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = jobs_.find(id);
  if (found == jobs_.end()) return false;
  Job& job = *found->second;
  if (job.info.state != JobState::kQueued && job.info.state != JobState::kRunning) return false;
  job.control.cancel = true;
  spdlog::info("job {}: cancel requested", id);
  return true;
}

bool JobRunner::WaitIdle(int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [this] { return queue_.empty() && !running_job_; });
}

void JobRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    for (auto& [id, job] : jobs_) job->control.cancel = true;
    changed_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

void JobRunner::WorkerLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      job = queue_.front();
      queue_.pop_front();
      if (job->control.cancel) {
        job->info.state = JobState::kCancelled;
        job->info.finished = clock_();
        changed_.notify_all();
        continue;
      }
      job->info.state = JobState::kRunning;
      running_job_ = true;
    }
    spdlog::info("job {}: started {} for incident {}", job->info.id, ApiName(job->info.kind),
                 job->info.incident_id.empty() ? "-" : job->info.incident_id);
    Status status = job->work(&job->control);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job->info.finished = clock_();
      if (!status.ok()) {
        job->info.state = JobState::kFailed;
        job->info.error = status.message();
      } else {
        job->info.state = job->control.cancel && job->control.done < job->control.total
                              ? JobState::kCancelled
                              : JobState::kSucceeded;
      }
      running_job_ = false;
      changed_.notify_all();
    }
    if (status.ok()) {
      spdlog::info("job {}: {} with {} of {} copies done", job->info.id,
                   ApiName(job->info.state), job->control.done.load(),
                   job->control.total.load());
    } else {
      spdlog::error("job {}: failed after {} of {} copies: {}", job->info.id,
                    job->control.done.load(), job->control.total.load(), status.message());
    }
  }
}

}  // namespace reclaim
