// Locations of test inputs.
//
// External inputs (sample mail, fault cases) live outside the repository
// because their licence forbids shipping them; tests that read them skip
// with a message when the folder is absent. Set RECLAIM_SHARED_INPUTS in the
// environment to point at another copy.
#pragma once

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace reclaim::testing {

inline std::string ExternalInputsDir() {
  if (const char* env = std::getenv("RECLAIM_SHARED_INPUTS"); env && *env)
    return env;
  return RECLAIM_SHARED_INPUTS;
}

// Reads a whole file, or nothing when it cannot be opened.
inline std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reads `cases/<name>` from the external inputs, or nothing when absent.
inline std::optional<std::string> ReadExternalCase(const std::string& name) {
  return ReadFile(ExternalInputsDir() + "/cases/" + name);
}

}  // namespace reclaim::testing
