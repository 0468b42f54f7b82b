#include <emscripten/emscripten.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "wasm-client/platform/storage.h"

namespace reclaim::client {
namespace {

constexpr const char* kMountPoint = "/persist";

// The JavaScript below is not C++, so the formatter leaves it alone.
// clang-format off
// Module.reclaimStorage: 0 while loading, 1 when ready; error holds the
// reason when IndexedDB could not be read (private windows, quota).
EM_JS(void, JsMountStorage, (), {
  Module.reclaimStorage = {state: 0, error: "", syncing: false, again: false};
  try {
    FS.mkdir("/persist");
    FS.mount(IDBFS, {}, "/persist");
  } catch (e) {
    Module.reclaimStorage.state = 1;
    Module.reclaimStorage.error = String(e);
    return;
  }
  FS.syncfs(true, function(err) {
    Module.reclaimStorage.state = 1;
    if (err) Module.reclaimStorage.error = String(err);
  });
});

EM_JS(int, JsStorageReady, (), { return Module.reclaimStorage && Module.reclaimStorage.state; });

EM_JS(char*, JsStorageError, (), {
  var text = (Module.reclaimStorage && Module.reclaimStorage.error) || "";
  var size = lengthBytesUTF8(text) + 1;
  var out = _malloc(size);
  stringToUTF8(text, out, size);
  return out;
});

// One sync at a time: a write during a sync asks for one more afterwards.
EM_JS(void, JsSyncStorage, (), {
  var storage = Module.reclaimStorage;
  if (storage.syncing) {
    storage.again = true;
    return;
  }
  storage.syncing = true;
  FS.syncfs(false, function run(err) {
    if (err) storage.error = String(err);
    if (storage.again) {
      storage.again = false;
      FS.syncfs(false, run);
    } else {
      storage.syncing = false;
    }
  });
});
// clang-format on

}  // namespace

void Storage::Mount() {
  JsMountStorage();
}

bool Storage::ready() const {
  return JsStorageReady() == 1;
}

std::string Storage::error() const {
  char* text = JsStorageError();
  std::string error = text;
  free(text);
  return error;
}

std::optional<std::string> Storage::Read(const std::string& name) const {
  std::ifstream in(std::string(kMountPoint) + "/" + name, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Storage::Write(const std::string& name, const std::string& text) {
  std::string path = std::string(kMountPoint) + "/" + name;
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out)
      return "writing " + path + " failed";
  }
  // The rename keeps the previous copy whole if the page closes mid-write.
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return "replacing " + path + " failed";
  JsSyncStorage();
  return {};
}

}  // namespace reclaim::client
