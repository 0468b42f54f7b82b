// Page glue for the Reclaim console (console.js and console.wasm, built from
// wasm-client/). It configures the Emscripten module and exposes the
// read-only test hook.
//
// Test hook for browser tests, kept small and read-only:
//   window.reclaimTest.ready    true once the module runs
//   window.reclaimTest.state()  the console state as an object: online,
//                               syncState, incidentCount, matchCount, page,
//                               pageSize, sortColumn, sortDescending,
//                               visibleCodes, openIncident, searchField,
//                               searchText, types, lastError, lastExport,
//                               jobProgress, theme, url and a few more
//   window.reclaimTest.widgets() widget name -> {x, y, w, h} in CSS pixels,
//                               from the last drawn frame
// docs/client.md lists the fields and the widget names.
"use strict";

var Module = {
  canvas: document.getElementById("canvas"),
  print: function(text) { console.log(text); },
  printErr: function(text) { console.warn(text); },
  onRuntimeInitialized: function() {
    var loading = document.getElementById("reclaim-loading");
    if (loading) loading.remove();
    window.reclaimTest.ready = true;
  },
};

window.reclaimTest = {
  ready: false,
  state: function() {
    if (!window.reclaimTest.ready) return null;
    return JSON.parse(Module.ccall("reclaim_test_state", "string", [], []));
  },
  widgets: function() {
    if (!window.reclaimTest.ready) return {};
    return JSON.parse(Module.ccall("reclaim_test_widgets", "string", [], []));
  },
};

// Keyboard input goes to the canvas from the start, so Enter and Escape
// reach the console without a first click.
document.getElementById("canvas").focus();

// Ctrl+V: the browser fires 'paste' right after the key goes down and
// before the next frame, where ImGui handles the key and reads this text
// (the module's clipboard, wasm-client/platform/browser_emscripten.cc).
document.addEventListener("paste", function(event) {
  if (!window.reclaimTest.ready || !event.clipboardData) return;
  Module.ccall("reclaim_pasted_text", null, ["string"],
               [event.clipboardData.getData("text/plain")]);
  event.preventDefault();
});

// The service worker keeps the page and the module for opening the console
// while the server is unreachable (web/service-worker.js). Browsers allow it
// over HTTPS and on localhost addresses only.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("service-worker.js").catch(function(error) {
    console.warn("the console will not open offline: " + error);
  });
}
