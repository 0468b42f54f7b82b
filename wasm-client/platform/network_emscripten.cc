#include <emscripten/fetch.h>

#include <cstring>
#include <memory>

#include "wasm-client/platform/network.h"

namespace reclaim::client {
namespace {

// A request in flight: what the callbacks need, kept alive until they run.
struct Pending {
  Network* network;
  HttpRequest request;
  std::string authorization;
  std::vector<const char*> headers;
};

constexpr unsigned long kTimeoutMilliseconds = 30000;

void Finish(emscripten_fetch_t* fetch) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(fetch->userData));
  HttpResponse response;
  // Status 0 means no HTTP response: the server is down, the connection
  // failed or the request timed out.
  response.reached = fetch->status != 0;
  response.status = fetch->status;
  if (fetch->data != nullptr && fetch->numBytes > 0)
    response.body.assign(fetch->data, static_cast<size_t>(fetch->numBytes));
  // The browser does not say why a request failed (its statusText is not
  // about the network), so the reason is the same for every case.
  if (!response.reached)
    response.transport_error = "no HTTP response";
  emscripten_fetch_close(fetch);
  pending->network->Complete(std::move(pending->request), std::move(response));
}

}  // namespace

void Network::Send(const HttpRequest& request, const std::string& token) {
  auto pending = std::make_unique<Pending>();
  pending->network = this;
  pending->request = request;
  pending->authorization = "Bearer " + token;
  pending->headers = {"Authorization", pending->authorization.c_str(), "Accept",
                      "application/json"};
  if (!request.body.empty()) {
    pending->headers.push_back("Content-Type");
    pending->headers.push_back("application/json");
  }
  pending->headers.push_back(nullptr);

  emscripten_fetch_attr_t attr;
  emscripten_fetch_attr_init(&attr);
  std::strncpy(attr.requestMethod, request.method.c_str(), sizeof attr.requestMethod - 1);
  attr.attributes = EMSCRIPTEN_FETCH_LOAD_TO_MEMORY;
  attr.timeoutMSecs = kTimeoutMilliseconds;
  attr.requestHeaders = pending->headers.data();
  if (!request.body.empty()) {
    attr.requestData = pending->request.body.data();
    attr.requestDataSize = pending->request.body.size();
  }
  attr.onsuccess = Finish;
  attr.onerror = Finish;
  attr.userData = pending.get();
  ++in_flight_;
  std::string url = pending->request.path;
  pending.release();  // Finish takes ownership back
  emscripten_fetch(&attr, url.c_str());
}

void Network::Complete(HttpRequest request, HttpResponse response) {
  if (in_flight_ > 0)
    --in_flight_;
  completed_.emplace_back(std::move(request), std::move(response));
}

std::vector<std::pair<HttpRequest, HttpResponse>> Network::TakeCompleted() {
  std::vector<std::pair<HttpRequest, HttpResponse>> done;
  done.swap(completed_);
  return done;
}

}  // namespace reclaim::client
