#include <emscripten/emscripten.h>
#include <imgui.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>

#include "wasm-client/platform/browser.h"

namespace reclaim::client {
namespace {

// The clipboard text ImGui reads: the last pasted or copied text.
std::string& ClipboardText() {
  static std::string text;
  return text;
}

std::vector<OpenedFile>& OpenedFiles() {
  static std::vector<OpenedFile> files;
  return files;
}

// The JavaScript below is not C++, so the formatter leaves it alone.
// clang-format off
// Returns a malloc'd UTF-8 copy of a JavaScript string; the caller frees it.
EM_JS(char*, JsPageQuery, (), {
  var text = window.location.search || "";
  var size = lengthBytesUTF8(text) + 1;
  var out = _malloc(size);
  stringToUTF8(text, out, size);
  return out;
});

EM_JS(void, JsReplacePageQuery, (const char* query), {
  var text = UTF8ToString(query);
  var url = window.location.pathname + text + window.location.hash;
  if (url !== window.location.pathname + window.location.search + window.location.hash)
    window.history.replaceState(null, "", url);
});

EM_JS(void, JsDownload, (const char* name, const char* type, const char* data, size_t size), {
  var bytes = HEAPU8.slice(data, data + size);
  var blob = new Blob([bytes], {type: UTF8ToString(type)});
  var url = URL.createObjectURL(blob);
  var link = document.createElement("a");
  link.href = url;
  link.download = UTF8ToString(name);
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(function() { URL.revokeObjectURL(url); }, 60000);
});

// The picker is an <input type=file> made once; its bytes are copied into
// the module's memory and handed to reclaim_opened_file, which copies them.
EM_JS(void, JsChooseFile, (), {
  var input = document.getElementById("reclaim-snapshot-file");
  if (!input) {
    input = document.createElement("input");
    input.type = "file";
    input.id = "reclaim-snapshot-file";
    input.accept = ".json,application/json";
    input.style.display = "none";
    document.body.appendChild(input);
    input.addEventListener("change", function() {
      var file = input.files && input.files[0];
      if (!file) return;
      file.arrayBuffer().then(function(buffer) {
        var bytes = new Uint8Array(buffer);
        var data = _malloc(bytes.length + 1);
        HEAPU8.set(bytes, data);
        var nameSize = lengthBytesUTF8(file.name) + 1;
        var name = _malloc(nameSize);
        stringToUTF8(file.name, name, nameSize);
        _reclaim_opened_file(name, data, bytes.length);
        _free(name);
        _free(data);
        input.value = "";
      });
    });
  }
  input.click();
});

EM_JS(void, JsWriteClipboard, (const char* text), {
  var value = UTF8ToString(text);
  if (!navigator.clipboard || !navigator.clipboard.writeText) {
    console.warn("copy failed: this page has no navigator.clipboard (it needs HTTPS or localhost)");
    return;
  }
  navigator.clipboard.writeText(value).catch(function(error) {
    console.warn("copy failed: " + error);
  });
});

EM_JS(int, JsViewportWidth, (), { return window.innerWidth | 0; });
EM_JS(int, JsViewportHeight, (), { return window.innerHeight | 0; });
EM_JS(double, JsPixelRatio, (), { return window.devicePixelRatio || 1; });

// Browser.setCanvasSize resizes the backing store and notifies GLFW, without
// glfwSetWindowSize's switch to full screen when the size equals the
// screen's (which fails outside a user gesture).
EM_JS(void, JsSizeCanvas, (int css_width, int css_height, int pixel_width, int pixel_height), {
  var canvas = Module.canvas;
  Browser.setCanvasSize(pixel_width, pixel_height);
  canvas.style.width = css_width + "px";
  canvas.style.height = css_height + "px";
});

EM_JS(int, JsOffsetMinutes, (double utc_seconds), {
  return -new Date(utc_seconds * 1000).getTimezoneOffset();
});

EM_JS(char*, JsZoneName, (), {
  var name = "";
  try {
    name = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    name = "";
  }
  var size = lengthBytesUTF8(name) + 1;
  var out = _malloc(size);
  stringToUTF8(name, out, size);
  return out;
});
// clang-format on

std::string TakeJsString(char* text) {
  std::string copy = text;
  free(text);
  return copy;
}

}  // namespace

std::string PageQuery() {
  return TakeJsString(JsPageQuery());
}

void ReplacePageQuery(const std::string& query) {
  JsReplacePageQuery(query.c_str());
}

void StartDownload(const Download& download) {
  JsDownload(download.filename.c_str(), download.mime_type.c_str(), download.bytes.data(),
             download.bytes.size());
}

void ChooseSnapshotFile() {
  JsChooseFile();
}

std::vector<OpenedFile> TakeOpenedFiles() {
  std::vector<OpenedFile> files;
  files.swap(OpenedFiles());
  return files;
}

void AddOpenedFile(OpenedFile file) {
  OpenedFiles().push_back(std::move(file));
}

Viewport CurrentViewport() {
  Viewport viewport;
  viewport.css_width = JsViewportWidth();
  viewport.css_height = JsViewportHeight();
  viewport.pixel_ratio = JsPixelRatio();
  return viewport;
}

void SizeCanvas(const Viewport& viewport, int pixel_width, int pixel_height) {
  JsSizeCanvas(viewport.css_width, viewport.css_height, pixel_width, pixel_height);
}

void UseBrowserClipboard() {
  ImGuiIO& io = ImGui::GetIO();
  io.ClipboardUserData = nullptr;
  io.GetClipboardTextFn = [](void*) -> const char* { return ClipboardText().c_str(); };
  io.SetClipboardTextFn = [](void*, const char* text) {
    ClipboardText() = text;
    JsWriteClipboard(text);
  };
}

void SetPastedText(std::string text) {
  ClipboardText() = std::move(text);
}

int BrowserTimeZone::OffsetAt(UnixSeconds utc) const {
  return JsOffsetMinutes(static_cast<double>(utc)) * 60;
}

BrowserTimeZone::BrowserTimeZone() : zone_name_(TakeJsString(JsZoneName())) {}

std::string BrowserTimeZone::Name() const {
  const std::string& name = zone_name_;
  int offset = OffsetAt(static_cast<UnixSeconds>(std::time(nullptr)));
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "UTC%c%02d:%02d", offset < 0 ? '-' : '+',
                std::abs(offset) / 3600, std::abs(offset) % 3600 / 60);
  return name.empty() ? std::string(suffix) : name + " (" + suffix + ")";
}

}  // namespace reclaim::client

extern "C" EMSCRIPTEN_KEEPALIVE void reclaim_opened_file(const char* name, const char* data,
                                                         size_t size) {
  reclaim::client::AddOpenedFile({name, std::string(data, size)});
}

extern "C" EMSCRIPTEN_KEEPALIVE void reclaim_pasted_text(const char* text) {
  reclaim::client::SetPastedText(text);
}
