// Sends the console's HTTP requests to the sync server that served the page,
// with the bearer token, and collects the responses.
//
// The browser implementation (network_emscripten.cc) uses emscripten_fetch.
// Responses are collected, not called back, so they reach ClientState from
// the main loop at a known point of each frame.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "wasm-client/state/api_types.h"

namespace reclaim::client {

class Network {
 public:
  // Starts `request`; the token goes in the Authorization header.
  void Send(const HttpRequest& request, const std::string& token);
  // Responses that arrived since the last call, paired with their requests.
  std::vector<std::pair<HttpRequest, HttpResponse>> TakeCompleted();
  size_t in_flight() const { return in_flight_; }

  // Called by the transport when a request ends.
  void Complete(HttpRequest request, HttpResponse response);

 private:
  std::vector<std::pair<HttpRequest, HttpResponse>> completed_;
  size_t in_flight_ = 0;
};

}  // namespace reclaim::client
