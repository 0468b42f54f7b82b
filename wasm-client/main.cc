// The browser console's entry point: the main loop that ties the state, the
// panels, the network, storage and the page together.
//
// Test hook for browser tests (docs/client.md): the page's JavaScript
// (web/reclaim.js) exposes window.reclaimTest with state() and widgets(),
// which read reclaim_test_state() and reclaim_test_widgets() below. Both
// return JSON text owned by this module, valid until the next call; neither
// changes anything.
#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten/emscripten.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "wasm-client/platform/browser.h"
#include "wasm-client/platform/network.h"
#include "wasm-client/platform/storage.h"
#include "wasm-client/state/client_state.h"
#include "wasm-client/ui/look.h"
#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"

namespace reclaim::client {
namespace {

// How often changed state is written to IndexedDB at most.
constexpr double kSaveIntervalSeconds = 2.0;

struct Shell {
  GLFWwindow* window = nullptr;
  std::unique_ptr<ClientState> state;
  UiState ui;
  Network network;
  Storage storage;
  bool storage_loaded = false;
  std::string shown_query;
  Viewport viewport;
  Theme applied_theme = Theme::kDark;
  float applied_ratio = 0;
  double last_save = 0;
  std::string test_state;
};

Shell& App() {
  static Shell shell;
  return shell;
}

// ImGui 1.86 reads keys as held-down state once per frame, so a key pressed
// and released between two frames (fast typing, scripted input) would be
// missed. A release in the frame of its press is held back for one frame.
struct KeyEvent {
  int key, scancode, action, mods;
};
struct KeyLatch {
  std::vector<KeyEvent> held_releases;
  std::vector<int> pressed_this_frame;
};

KeyLatch& Keys() {
  static KeyLatch latch;
  return latch;
}

void OnKey(GLFWwindow* window, int key, int scancode, int action, int mods) {
  KeyLatch& keys = Keys();
  if (action == GLFW_PRESS)
    keys.pressed_this_frame.push_back(key);
  if (action == GLFW_RELEASE &&
      std::find(keys.pressed_this_frame.begin(), keys.pressed_this_frame.end(), key) !=
          keys.pressed_this_frame.end()) {
    keys.held_releases.push_back({key, scancode, action, mods});
    return;
  }
  ImGui_ImplGlfw_KeyCallback(window, key, scancode, action, mods);
}

void ReleaseHeldKeys(GLFWwindow* window) {
  KeyLatch& keys = Keys();
  std::vector<KeyEvent> held;
  held.swap(keys.held_releases);
  keys.pressed_this_frame.clear();
  for (const KeyEvent& event : held)
    ImGui_ImplGlfw_KeyCallback(window, event.key, event.scancode, event.action, event.mods);
}

void ResizeAndRestyle(Shell& shell) {
  Viewport viewport = CurrentViewport();
  int width = std::max(1, static_cast<int>(viewport.css_width * viewport.pixel_ratio));
  int height = std::max(1, static_cast<int>(viewport.css_height * viewport.pixel_ratio));
  if (viewport.css_width != shell.viewport.css_width ||
      viewport.css_height != shell.viewport.css_height ||
      viewport.pixel_ratio != shell.viewport.pixel_ratio) {
    SizeCanvas(viewport, width, height);
    shell.viewport = viewport;
  }
  auto ratio = static_cast<float>(viewport.pixel_ratio);
  if (ratio != shell.applied_ratio || shell.state->theme() != shell.applied_theme) {
    ApplyLook(shell.state->theme(), ratio);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    shell.applied_ratio = ratio;
    shell.applied_theme = shell.state->theme();
  }
  shell.ui.pixel_ratio = ratio;
}

// Loads preferences and the stored snapshot once IndexedDB is read, then
// applies the page address and logs in with a remembered token.
void LoadStorage(Shell& shell) {
  if (shell.storage_loaded || !shell.storage.ready())
    return;
  shell.storage_loaded = true;
  ClientState& state = *shell.state;
  if (std::string error = shell.storage.error(); !error.empty())
    state.Log("Browser storage unavailable (" + error + "); nothing is kept offline", true);
  if (std::optional<std::string> text = shell.storage.Read(kPreferencesFile))
    state.LoadPreferences(*text);
  if (std::optional<std::string> text = shell.storage.Read(kSnapshotFile))
    (void)state.LoadSnapshot(*text, "browser storage");

  std::string query = PageQuery();
  if (!query.empty()) {
    Status status = state.ApplyUrlQuery(query);
    if (!status.ok())
      state.Log("Address filters ignored: " + status.field() + ": " + status.message(), true);
  }
  shell.ui.search_field = static_cast<int>(state.form().query.field);
  shell.ui.search_text = state.form().query.text;
  if (state.form().preset == DatePreset::kCustom) {
    shell.ui.range_from = FormatLocalTime(state.zone(), state.form().custom_start);
    shell.ui.range_to = FormatLocalTime(state.zone(), state.form().custom_end);
  }
  if (state.logged_in())
    state.Login(state.token());
}

void SaveStorage(Shell& shell) {
  double now = emscripten_get_now() / 1000.0;
  if (!shell.storage_loaded || now - shell.last_save < kSaveIntervalSeconds)
    return;
  shell.last_save = now;
  std::string text;
  if (shell.state->TakePreferencesToSave(&text)) {
    if (std::string error = shell.storage.Write(kPreferencesFile, text); !error.empty())
      shell.state->Log("Saving preferences failed: " + error, true);
  }
  if (shell.state->TakeSnapshotToSave(&text)) {
    if (std::string error = shell.storage.Write(kSnapshotFile, text); !error.empty())
      shell.state->Log("Saving the offline copy failed: " + error, true);
  }
}

void ExchangeMessages(Shell& shell) {
  ClientState& state = *shell.state;
  for (auto& [request, response] : shell.network.TakeCompleted())
    state.OnResponse(request, response);
  state.Tick();
  for (const HttpRequest& request : state.TakeRequests())
    shell.network.Send(request, state.token());
}

void RunShellRequests(Shell& shell) {
  ShellRequests& requests = shell.ui.shell;
  for (const Download& download : requests.downloads)
    StartDownload(download);
  requests.downloads.clear();
  if (requests.save_snapshot) {
    Download snapshot = shell.state->SnapshotDownload();
    shell.state->Log("Saved " + std::to_string(shell.state->store().size()) + " incidents to " +
                     snapshot.filename);
    StartDownload(snapshot);
  }
  if (requests.open_snapshot)
    ChooseSnapshotFile();
  requests = {};
  // An opened file replaces the offline copy, so it is saved as well.
  for (OpenedFile& file : TakeOpenedFiles())
    (void)shell.state->LoadSnapshot(file.bytes, file.name, /*save_offline=*/true);
}

void DrawFrame(Shell& shell) {
  ClientState& state = *shell.state;
  UiState& ui = shell.ui;
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                           ImGuiWindowFlags_NoSavedSettings |
                           ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("Reclaim", nullptr, flags);
  DrawSyncStatus(state, ui);
  DrawLoginPanel(state, ui);
  float log_height = ui.log_open ? ImGui::GetTextLineHeightWithSpacing() * 5 : 0;
  if (state.open_incident()) {
    float height = ImGui::GetContentRegionAvail().y - log_height -
                   (ui.log_open ? ImGui::GetTextLineHeightWithSpacing() * 2 : 0);
    DrawIncidentPanel(state, ui, height);
  } else {
    DrawFiltersBar(state, ui);
    DrawChartPanel(state, ui);
    float height = ImGui::GetContentRegionAvail().y - log_height -
                   (ui.log_open ? ImGui::GetTextLineHeightWithSpacing() * 2 : 0);
    DrawQueuePanel(state, ui, height);
  }
  DrawLogPanel(state, ui, log_height);
  ImGui::End();

  DrawExportPanel(state, ui);
  DrawRemediationPanel(state, ui);
  DrawSettingsPanel(state, ui);
  DrawMessagePanel(state, ui);
  DrawConfirmModal(state, ui);
  HandleEscape(state, ui);
}

void Frame() {
  Shell& shell = App();
  ResizeAndRestyle(shell);
  LoadStorage(shell);
  ExchangeMessages(shell);

  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  BeginWidgetFrame(shell.ui.pixel_ratio);
  DrawFrame(shell);
  EndWidgetFrame();
  ImGui::Render();
  // Releases held back last frame are delivered after this frame has seen
  // the keys down.
  ReleaseHeldKeys(shell.window);

  int width = 0;
  int height = 0;
  glfwGetFramebufferSize(shell.window, &width, &height);
  glViewport(0, 0, width, height);
  ImVec4 clear = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  glClearColor(clear.x, clear.y, clear.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

  RunShellRequests(shell);
  SaveStorage(shell);
  std::string query = shell.state->UrlQuery();
  if (query != shell.shown_query) {
    ReplacePageQuery(query);
    shell.shown_query = query;
  }
}

}  // namespace
}  // namespace reclaim::client

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* reclaim_test_state() {
  reclaim::client::Shell& shell = reclaim::client::App();
  shell.test_state = shell.state ? shell.state->TestStateJson() : "{}";
  return shell.test_state.c_str();
}

EMSCRIPTEN_KEEPALIVE const char* reclaim_test_widgets() {
  return reclaim::client::WidgetsJson().c_str();
}

}  // extern "C"

int main() {
  using namespace reclaim::client;
  Shell& shell = App();
  shell.state = std::make_unique<ClientState>(
      [] { return static_cast<reclaim::UnixSeconds>(std::time(nullptr)); },
      std::make_shared<BrowserTimeZone>());
  shell.state->Log("Console started");
  shell.storage.Mount();

  if (!glfwInit()) {
    emscripten_log(EM_LOG_ERROR, "reclaim: GLFW could not start");
    return 1;
  }
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  Viewport viewport = CurrentViewport();
  shell.window =
      glfwCreateWindow(viewport.css_width, viewport.css_height, "Reclaim", nullptr, nullptr);
  if (shell.window == nullptr) {
    emscripten_log(EM_LOG_ERROR, "reclaim: WebGL 2 is not available in this browser");
    return 1;
  }
  glfwMakeContextCurrent(shell.window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // window layout is not persisted
  ImGui_ImplGlfw_InitForOpenGL(shell.window, true);
  UseBrowserClipboard();
  glfwSetKeyCallback(shell.window, OnKey);
  ImGui_ImplOpenGL3_Init("#version 300 es");
  emscripten_set_main_loop(Frame, 0, true);
  return 0;
}
