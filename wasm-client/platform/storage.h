// Browser storage for the console's preferences and its copy of the
// incidents: files under /persist, an IDBFS mount kept in IndexedDB.
//
// Mount() starts loading IndexedDB into the mount; ready() turns true when
// that is done (or failed, with error() set). Write() saves a file and
// schedules a sync back to IndexedDB. Not thread-safe.
#pragma once

#include <optional>
#include <string>

namespace reclaim::client {

constexpr const char* kPreferencesFile = "preferences.json";
constexpr const char* kSnapshotFile = "snapshot.json";

class Storage {
 public:
  void Mount();
  bool ready() const;
  // Empty when IndexedDB loaded; otherwise why it did not.
  std::string error() const;
  std::optional<std::string> Read(const std::string& name) const;
  // Errors are returned as text for the log; empty on success.
  std::string Write(const std::string& name, const std::string& text);
};

}  // namespace reclaim::client
