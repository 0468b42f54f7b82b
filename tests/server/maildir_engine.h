// The remove/restore engine over a MaildirOrg, for tests: example.com and
// example.org have a Maildir connection, any other domain has none.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/maildir_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/maildir_org.h"

namespace reclaim::testing {

inline constexpr UnixSeconds kNow = 1796399754;  // 2026-12-04T15:55:54Z

struct Engine {
  explicit Engine(MaildirOrg* org_in) : org(org_in) {
    InitMimeParser();
    Result<std::unique_ptr<Database>> opened = Database::Open(org->database());
    REQUIRE(opened.ok());
    db = std::move(*opened);
    MaildirSettings settings{"local", org->mail_root(), {"example.com", "example.org"}};
    REQUIRE(registry.Add(std::make_unique<MaildirConnector>(settings), settings.domains).ok());
    int next = 0;
    repository = std::make_unique<IncidentRepository>(
        db.get(), "ACME", [next]() mutable { return "inc" + std::to_string(++next); });
    RemediatorOptions options;
    options.clock = [] { return kNow; };
    remediator = std::make_unique<Remediator>(db.get(), &registry, repository.get(), options);
  }

  void Index() {
    MessageIndex index(db.get());
    IndexStats stats = IndexConnector(*registry.All().front(), &index, kNow);
    INFO("index errors: " << (stats.errors.empty() ? "" : stats.errors.front()));
    REQUIRE(stats.errors.empty());
  }

  Incident Remove(const RemediationRequest& request) {
    Result<Incident> incident = remediator->Identify(request);
    INFO("identify: " << incident.status().field() << " " << incident.status().message());
    REQUIRE(incident.ok());
    JobControl control;
    REQUIRE(remediator->Remove(incident->id, {}, &control).ok());
    return *repository->Get(incident->id);
  }

  std::map<std::string, StoredRow> RowsByRecipient(const std::string& incident_id) {
    std::map<std::string, StoredRow> rows;
    Result<std::vector<StoredRow>> all = repository->Rows(incident_id);
    REQUIRE(all.ok());
    for (const StoredRow& row : *all) rows[row.view.recipient] = row;
    return rows;
  }

  MaildirOrg* org;
  std::unique_ptr<Database> db;
  ConnectorRegistry registry;
  std::unique_ptr<IncidentRepository> repository;
  std::unique_ptr<Remediator> remediator;
};

}  // namespace reclaim::testing
