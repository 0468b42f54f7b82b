// reclaim-server: the sync server and its command line.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include "shared/incident_export.h"
#include "shared/query_params.h"
#include "sync-server/app/app.h"
#include "sync-server/demo/demo.h"
#include "sync-server/http/api_server.h"

namespace {

using namespace reclaim;

UnixSeconds WallClock() { return static_cast<UnixSeconds>(std::time(nullptr)); }

struct CommonOptions {
  std::string config_path;
  std::string data_dir = "data";
};

Result<ServerConfig> LoadServerConfig(const CommonOptions& options) {
  if (!options.config_path.empty()) return LoadConfig(options.config_path);
  return DefaultConfig(options.data_dir);
}

Result<std::unique_ptr<App>> OpenApp(const CommonOptions& options, App::Access access) {
  Result<ServerConfig> config = LoadServerConfig(options);
  if (!config.ok()) return config.status();
  return App::Open(*config, WallClock, access);
}

int Fail(const Status& status) {
  std::cerr << "reclaim-server: " << (status.field().empty() ? "" : status.field() + ": ")
            << status.message() << "\n";
  return 1;
}

// Runs periodic work (indexing, the retention purge) until stopped.
class Scheduler {
 public:
  explicit Scheduler(App* app) : app_(app) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Scheduler() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    const int interval = app_->config().index_interval_seconds;
    UnixSeconds next_purge = app_->Now() + kSecondsPerDay;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      int wait = interval > 0 ? interval : 3600;
      if (wake_.wait_for(lock, std::chrono::seconds(wait), [this] { return stopping_; })) return;
      if (interval > 0) {
        app_->jobs().Submit(JobKind::kIndex, "", [this](JobControl*) {
          app_->IndexNow();
          return Status::Ok();
        });
      }
      if (app_->Now() >= next_purge) {
        next_purge = app_->Now() + kSecondsPerDay;
        (void)app_->PurgeExpired();
        (void)app_->RefreshStore();
      }
    }
  }

  App* app_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

struct DemoChoice {
  bool disabled = false;  // --no-demo
  std::string eml_dir;    // --demo-eml
};

void PrintDemoSummary(const DemoSummary& summary) {
  std::printf("Demo organisation: %d users, %d ordinary and %d malicious messages in %d mailbox"
              " copies, %d incidents\n",
              summary.users, summary.ordinary_messages, summary.threats,
              summary.delivered_copies, summary.incidents);
  std::fflush(stdout);
}

// Creates the demo organisation on the first start in data-folder mode,
// before the server opens the database.
Status CreateDemoIfFresh(const CommonOptions& options, const ServerConfig& config,
                         const DemoChoice& demo) {
  if (!options.config_path.empty() || demo.disabled) return Status::Ok();
  Result<bool> fresh = IsFreshDataFolder(config);
  if (!fresh.ok()) return fresh.status();
  if (!*fresh) {
    if (!demo.eml_dir.empty()) {
      spdlog::warn("demo: {} already contains data, so --demo-eml {} is not used", config.data_dir,
                   demo.eml_dir);
    }
    return Status::Ok();
  }
  DemoOptions demo_options;
  demo_options.eml_dir = demo.eml_dir;
  Result<DemoSummary> summary = CreateDemoOrganisation(config, demo_options, WallClock());
  if (!summary.ok()) return summary.status();
  if (summary->created) PrintDemoSummary(*summary);
  return Status::Ok();
}

int Serve(const CommonOptions& options, const std::string& address_option, int port_option,
          const std::string& web_root_option, const DemoChoice& demo) {
  // Signals go to one waiting thread, so the server threads never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Result<ServerConfig> config = LoadServerConfig(options);
  if (!config.ok()) return Fail(config.status());
  if (!address_option.empty()) config->listen_address = address_option;
  if (port_option >= 0) config->port = port_option;
  if (!web_root_option.empty()) config->web_root = web_root_option;
  if (!config->web_root.empty() && !std::filesystem::is_directory(config->web_root)) {
    spdlog::warn("server: web root {} is not a folder; the browser console is not served",
                 config->web_root);
  }
  if (Status s = CreateDemoIfFresh(options, *config, demo); !s.ok()) return Fail(s);
  Result<std::unique_ptr<App>> app = App::Open(*config, WallClock);
  if (!app.ok()) return Fail(app.status());

  (*app)->jobs().Submit(JobKind::kIndex, "", [raw = app->get()](JobControl*) {
    raw->IndexNow();
    return Status::Ok();
  });
  ApiServer server(app->get());
  Result<int> port = server.Bind(config->listen_address, config->port);
  if (!port.ok()) return Fail(port.status());
  std::string scheme = config->tls_certificate.empty() ? "http" : "https";
  spdlog::info("server: listening on {}://{}:{}", scheme, config->listen_address, *port);
  std::printf("Reclaim is listening on %s://%s:%d\n", scheme.c_str(),
              config->listen_address.c_str(), *port);
  std::fflush(stdout);

  Scheduler scheduler(app->get());
  std::thread waiter([&] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("server: signal {} received, stopping", received);
    server.Stop();
  });
  server.Run();
  // The running job stops at its next journalled point; queued jobs wait
  // for the next start.
  (*app)->jobs().Stop();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  spdlog::info("server: stopped listening on {}:{}", config->listen_address, *port);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to standard error, so that standard output carries only what a
  // command prints: CSV, token secrets and the listening address.
  spdlog::set_default_logger(spdlog::stderr_color_mt("reclaim"));
  CLI::App cli{"Reclaim sync server: email threat remediation"};
  cli.require_subcommand(1);
  CommonOptions common;
  CLI::Option* config_option =
      cli.add_option("--config", common.config_path,
                     "Configuration file (JSON); see docs/configuration.md")
          ->check(CLI::ExistingFile);
  // The file names its own data folder (dataDir), so the two together
  // would leave one of them silently unused.
  cli.add_option("--data-dir", common.data_dir,
                 "Data folder when no configuration file is given (default: data); with"
                 " --config, set dataDir in the file instead")
      ->excludes(config_option);

  std::string address;
  int port = -1;
  CLI::App* serve = cli.add_subcommand("serve", "Start the HTTP server");
  serve->add_option("--address", address, "Listening address (default 127.0.0.1)");
  serve->add_option("--port", port, "Listening port (default 8080; 0 picks a free port)")
      ->check(CLI::Range(0, 65535));
  DemoChoice demo;
  serve->add_flag("--no-demo", demo.disabled,
                  "Start empty: do not create the demo organisation in a fresh data folder");
  serve->add_option("--demo-eml", demo.eml_dir,
                    "Deliver the .eml files of this folder as the demo's malicious mail");

  std::string demo_eml;
  CLI::App* demo_command = cli.add_subcommand(
      "demo", "Create the demo organisation in the data folder (once; later runs do nothing)");
  demo_command->add_option("--eml", demo_eml,
                           "Deliver the .eml files of this folder as the malicious mail, in"
                           " place of the generated set");

  std::string web_root;
  serve->add_option("--web-root", web_root,
                    "Folder of the built browser console to serve at / (overrides webRoot)");

  CLI::App* token = cli.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  std::string token_name;
  std::string token_role = "viewer";
  CLI::App* token_create = token->add_subcommand("create", "Create a token and print its secret");
  token_create->add_option("name", token_name, "Name of the token, such as soar-playbook")
      ->required();
  token_create->add_option("--role", token_role, "viewer, remediator or admin (default viewer)")
      ->check(CLI::IsMember({"viewer", "remediator", "admin"}));
  CLI::App* token_list = token->add_subcommand("list", "List tokens (never their secrets)");
  std::string token_id;
  CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  token_revoke->add_option("id", token_id, "Token id from `token list`")->required();

  CLI::App* index = cli.add_subcommand("index", "Read new mail into the message index now");

  RemediationRequest request;
  bool notify_only = false;
  std::string start_text;
  std::string end_text;
  CLI::App* remediate = cli.add_subcommand("remediate", "Remove every copy of a message");
  remediate->add_option("identifier", request.identifier,
                        "Attachment SHA-256 or MD5, or the Message-ID")->required();
  remediate->add_option("--reason", request.reason, "Why the message is removed")->required();
  remediate->add_option("--from", request.from, "Only copies from this sender");
  remediate->add_option("--to", request.to, "Only the copy of this recipient");
  remediate->add_option("--start", start_text, "Delivery window start, ISO 8601 (default: 30 days ago)");
  remediate->add_option("--end", end_text, "Delivery window end, ISO 8601 (default: now)");
  remediate->add_flag("--notify-only", notify_only, "Identify the copies but move nothing");

  std::string restore_incident;
  std::string restore_reason;
  CLI::App* restore = cli.add_subcommand("restore", "Restore the removed copies of an incident");
  restore->add_option("incident", restore_incident, "Incident code (TR-...) or id")->required();
  restore->add_option("--reason", restore_reason, "Why the copies are restored");

  std::string export_query;
  std::string export_output;
  CLI::App* export_command = cli.add_subcommand("export", "Export the incident queue as CSV");
  export_command->add_option("--query", export_query,
                             "Query parameters as in the API, e.g. range=last_30_days&types=manual");
  export_command->add_option("--output", export_output, "Output file (default: standard output)");

  CLI11_PARSE(cli, argc, argv);

  if (serve->parsed()) return Serve(common, address, port, web_root, demo);
  if (demo_command->parsed()) {
    if (!common.config_path.empty()) {
      return Fail(Status::Invalid("config", "the demo is created in a data folder: use"
                                            " --data-dir in place of --config"));
    }
    DemoOptions demo_options;
    demo_options.eml_dir = demo_eml;
    Result<DemoSummary> summary =
        CreateDemoOrganisation(DefaultConfig(common.data_dir), demo_options, WallClock());
    if (!summary.ok()) return Fail(summary.status());
    if (summary->created) {
      PrintDemoSummary(*summary);
    } else {
      std::printf("The demo organisation already exists in %s: nothing to do\n",
                  common.data_dir.c_str());
    }
    return 0;
  }

  // The token and export commands only read incidents and manage tokens,
  // which is safe beside a running server; the others move copies.
  const bool tool = token_create->parsed() || token_list->parsed() || token_revoke->parsed() ||
                    export_command->parsed();
  Result<std::unique_ptr<App>> app =
      OpenApp(common, tool ? App::Access::kTool : App::Access::kOwner);
  if (!app.ok()) return Fail(app.status());
  App& server = **app;

  if (token_create->parsed()) {
    TokenInfo info;
    Result<std::string> secret = server.WithDatabase([&](Database&, IncidentRepository&,
                                                         TokenStore& tokens) {
      return tokens.Create(token_name, *RoleFromApiName(token_role), server.Now(), &info);
    });
    if (!secret.ok()) return Fail(secret.status());
    std::printf("token %s (%s, role %s):\n%s\n", info.id.c_str(), info.name.c_str(),
                token_role.c_str(), secret->c_str());
    return 0;
  }
  if (token_list->parsed()) {
    Result<std::vector<TokenInfo>> tokens = server.WithDatabase(
        [](Database&, IncidentRepository&, TokenStore& store) { return store.List(); });
    if (!tokens.ok()) return Fail(tokens.status());
    for (const TokenInfo& t : *tokens) {
      std::printf("%s  %-10s  %-20s  %s%s\n", t.id.c_str(), std::string(ApiName(t.role)).c_str(),
                  t.name.c_str(), FormatIso8601(t.created).c_str(), t.revoked ? "  revoked" : "");
    }
    return 0;
  }
  if (token_revoke->parsed()) {
    Status s = server.WithDatabase(
        [&](Database&, IncidentRepository&, TokenStore& store) { return store.Revoke(token_id); });
    if (!s.ok()) return Fail(s);
    std::printf("token %s revoked\n", token_id.c_str());
    return 0;
  }
  if (index->parsed()) {
    IndexStats stats = server.IndexNow();
    std::printf("%d mailboxes, %d messages added, %d gone, %d unreadable, %d folders unchanged\n",
                stats.mailboxes, stats.added, stats.gone, stats.failed, stats.unchanged);
    for (const std::string& error : stats.errors) std::fprintf(stderr, "%s\n", error.c_str());
    return stats.errors.empty() ? 0 : 1;
  }
  if (remediate->parsed()) {
    request.type = notify_only ? IncidentType::kNotifyOnly : IncidentType::kManual;
    for (auto [text, field, target] : {std::tuple{&start_text, "start", &request.start},
                                       std::tuple{&end_text, "end", &request.end}}) {
      if (text->empty()) continue;
      Result<UnixSeconds> time = ParseIso8601(*text, field);
      if (!time.ok()) return Fail(time.status());
      *target = *time;
    }
    server.IndexNow();
    Result<RemediationResult> result = server.Remediate(request, !notify_only);
    if (!result.ok()) return Fail(result.status());
    if (!result->job_id.empty()) server.jobs().WaitIdle(24 * 3600 * 1000);
    (void)server.RefreshStore();
    Result<Incident> done = server.WithDatabase(
        [&](Database&, IncidentRepository& r, TokenStore&) { return r.Get(result->incident.id); });
    if (!done.ok()) return Fail(done.status());
    std::printf("%s: %u identified, %u removed, %u failed\n",
                FormatIncidentCode(done->code).c_str(), done->counts.identified,
                done->counts.removed, done->counts.failed);
    return 0;
  }
  if (restore->parsed()) {
    Result<RemediationResult> result = server.Restore(restore_incident, {}, restore_reason);
    if (!result.ok()) return Fail(result.status());
    server.jobs().WaitIdle(24 * 3600 * 1000);
    Result<Incident> done = server.WithDatabase(
        [&](Database&, IncidentRepository& r, TokenStore&) { return r.Get(result->incident.id); });
    if (!done.ok()) return Fail(done.status());
    std::printf("%s: %u restored, %u failed\n", FormatIncidentCode(done->code).c_str(),
                done->counts.restored, done->counts.failed);
    return 0;
  }
  if (export_command->parsed()) {
    Result<QueryParams> params = DecodeQueryParams(export_query);
    if (!params.ok()) return Fail(params.status());
    Result<QueryForm> form = QueryFormFromParams(*params, server.Now());
    if (!form.ok()) return Fail(form.status());
    std::string csv = server.ReadStore([&](const IncidentStore& store) {
      Result<std::vector<uint32_t>> rows = AllMatches(store, form->query);
      return ExportIncidentsCsv(store, *rows, AllIncidentColumns(), CsvOptions{});
    });
    if (export_output.empty()) {
      bool written = std::fwrite(csv.data(), 1, csv.size(), stdout) == csv.size();
      if (std::fflush(stdout) != 0 || !written) {
        return Fail(Status::Unavailable("writing the export to standard output failed: " +
                                        std::string(std::strerror(errno))));
      }
      return 0;
    }
    std::ofstream out(export_output, std::ios::binary);
    out << csv;
    out.close();
    if (!out) {
      return Fail(Status::Invalid("output", "cannot write " + export_output + ": " +
                                                std::strerror(errno) +
                                                "; check the folder exists and is writable"));
    }
    return 0;
  }
  return 0;
}
