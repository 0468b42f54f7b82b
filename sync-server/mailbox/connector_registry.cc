#include "sync-server/mailbox/connector_registry.h"

namespace reclaim {

std::string LowerAscii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos || at + 1 >= address.size()) return {};
  return LowerAscii(address.substr(at + 1));
}

Status ConnectorRegistry::Add(std::unique_ptr<Connector> connector,
                              const std::vector<std::string>& domains) {
  for (const std::string& domain : domains) {
    auto found = by_domain_.find(LowerAscii(domain));
    if (found != by_domain_.end()) {
      return Status::Invalid("domains", "domain '" + domain + "' is served by both '" +
                                            found->second->name() + "' and '" +
                                            connector->name() + "': give each domain one connection");
    }
  }
  for (const std::string& domain : domains) by_domain_[LowerAscii(domain)] = connector.get();
  connectors_.push_back(std::move(connector));
  return Status::Ok();
}

Connector* ConnectorRegistry::ForAddress(const std::string& address) const {
  auto found = by_domain_.find(DomainOf(address));
  return found == by_domain_.end() ? nullptr : found->second;
}

Connector* ConnectorRegistry::ByName(const std::string& name) const {
  for (const auto& connector : connectors_) {
    if (connector->name() == name) return connector.get();
  }
  return nullptr;
}

std::vector<Connector*> ConnectorRegistry::All() const {
  std::vector<Connector*> all;
  for (const auto& connector : connectors_) all.push_back(connector.get());
  return all;
}

}  // namespace reclaim
