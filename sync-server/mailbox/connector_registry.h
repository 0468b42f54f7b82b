// Map from recipient domain to the connector that serves it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync-server/mailbox/connector.h"

namespace reclaim {

class ConnectorRegistry {
 public:
  // Takes ownership; `domains` are matched case-insensitively. A domain
  // served by two connectors is an error naming both.
  Status Add(std::unique_ptr<Connector> connector, const std::vector<std::string>& domains);

  // The connector for an address's domain, or null when none is configured.
  Connector* ForAddress(const std::string& address) const;
  Connector* ByName(const std::string& name) const;
  std::vector<Connector*> All() const;

 private:
  std::vector<std::unique_ptr<Connector>> connectors_;
  std::map<std::string, Connector*> by_domain_;
};

// Lower-cases ASCII letters; addresses and domains are compared this way.
std::string LowerAscii(std::string text);
// The part after the last '@', lower case; empty when there is none.
std::string DomainOf(const std::string& address);

}  // namespace reclaim
