// The page around the console: its address, downloads, the snapshot file
// picker, the clipboard, the viewport and the browser's time zone.
#pragma once

#include <string>
#include <vector>

#include "shared/time_zone.h"
#include "wasm-client/state/client_state.h"

namespace reclaim::client {

// The address's query part ("?types=manual" or "").
std::string PageQuery();
// Replaces the address's query part without a new history entry.
void ReplacePageQuery(const std::string& query);

// Hands `download` to the browser as a file download (Blob and <a download>).
void StartDownload(const Download& download);

// Opens the browser's file picker for a snapshot file; the chosen file
// arrives through TakeOpenedFiles().
void ChooseSnapshotFile();
struct OpenedFile {
  std::string name;
  std::string bytes;
};
std::vector<OpenedFile> TakeOpenedFiles();
// Called from JavaScript when the picker has read a file.
void AddOpenedFile(OpenedFile file);

// Points ImGui's clipboard at the browser's: Ctrl+V pastes the text of the
// page's last 'paste' event (web/page.js hands it over before ImGui sees the
// key), and copying writes with navigator.clipboard.writeText. Call after
// the GLFW backend's init, which sets GLFW's clipboard functions, stubs in
// Emscripten 3.1.6.
void UseBrowserClipboard();
// Called from JavaScript with the text of a 'paste' event.
void SetPastedText(std::string text);

// The viewport in CSS pixels and the device pixel ratio.
struct Viewport {
  int css_width = 0;
  int css_height = 0;
  double pixel_ratio = 1.0;
};
Viewport CurrentViewport();
// Sizes the canvas backing store to the device pixels and its CSS box to
// the viewport.
void SizeCanvas(const Viewport& viewport, int pixel_width, int pixel_height);

// The browser's own time zone (Intl and Date), so local times follow its
// daylight-saving rules.
class BrowserTimeZone : public TimeZone {
 public:
  BrowserTimeZone();
  int OffsetAt(UnixSeconds utc) const override;
  // "Europe/Berlin (UTC+01:00)", with the offset in force now.
  std::string Name() const override;

 private:
  std::string zone_name_;  // IANA name from Intl, empty when unknown
};

}  // namespace reclaim::client
