// The kill step of the crash tests: a child process runs a remediation job
// whose JobControl lives in memory shared with the parent, and the parent
// kills it with SIGKILL once the job has made some progress.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "sync-server/remediation/remediator.h"

namespace reclaim::testing {

struct KillOutcome {
  bool killed = false;  // false when the child ended before the kill
  int status = 0;       // as waitpid() reports it
};

// Waits until `control` counts at least `target` copies done (at most 30 s),
// then `extra_microseconds` more, so that the kill lands inside the next
// step of the job however fast or loaded the machine is. Then kills `child`
// and reaps it. A child that ends first is only reaped.
inline KillOutcome KillAfterProgress(pid_t child, const JobControl& control, int target,
                                     int extra_microseconds) {
  KillOutcome outcome;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (control.done.load() < target && std::chrono::steady_clock::now() < give_up) {
    if (waitpid(child, &outcome.status, WNOHANG) == child) {
      return outcome;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::microseconds(extra_microseconds));
  outcome.killed = kill(child, SIGKILL) == 0;
  waitpid(child, &outcome.status, 0);
  return outcome;
}

}  // namespace reclaim::testing
