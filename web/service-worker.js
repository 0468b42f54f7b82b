// Service worker of the Reclaim console: keeps a copy of the page and the
// WebAssembly module, so the console opens without the server and shows
// the snapshot kept in browser storage.
//
// Requests go to the network first, so a new build reaches the browser at
// once. The cached copy is used only when the server cannot be reached.
// The API (/api/...) is never cached: the console's own storage keeps the
// incidents.
"use strict";

const kCacheName = "reclaim-console-v1";
const kShellFiles = ["./", "index.html", "page.js", "console.js", "console.wasm"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(kCacheName)
      .then((cache) => cache.addAll(kShellFiles))
      .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name !== kCacheName).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname.startsWith("/api/")) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(kCacheName).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      // The address's query string contains the queue's filters, so the
      // cached page is matched without it.
      .catch(() => caches.match(request, { ignoreSearch: true })
        .then((cached) => cached || Response.error())));
});
