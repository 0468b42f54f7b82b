// A small organisation of Maildir mailboxes on disk for engine tests:
// `<root>/<domain>/<user>/` trees under a fresh temporary folder, removed
// when the object is destroyed.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace reclaim::testing {

class MaildirOrg {
 public:
  MaildirOrg() {
    char pattern[] = "/tmp/reclaim-org-XXXXXX";
    root_ = mkdtemp(pattern);
  }
  ~MaildirOrg() { std::filesystem::remove_all(root_); }
  MaildirOrg(const MaildirOrg&) = delete;
  MaildirOrg& operator=(const MaildirOrg&) = delete;

  const std::string& root() const { return root_; }
  std::string mail_root() const { return root_ + "/mail"; }
  std::string database() const { return root_ + "/reclaim.db"; }

  // Creates the Maildir of `local@domain`.
  void AddUser(const std::string& local, const std::string& domain) {
    std::string base = UserDir(local, domain);
    for (const char* sub : {"cur", "new", "tmp"}) {
      std::filesystem::create_directories(base + "/" + sub);
    }
  }

  std::string UserDir(const std::string& local, const std::string& domain) const {
    return mail_root() + "/" + domain + "/" + local;
  }

  // Delivers `raw` as an MTA would: written in tmp/, then renamed into new/
  // (or cur/ with `flags`, as a client that has read it leaves it).
  // Returns the path relative to the user's Maildir.
  std::string Deliver(const std::string& local, const std::string& domain, const std::string& raw,
                      const std::string& flags = "", const std::string& folder = "") {
    std::string dir = UserDir(local, domain) + (folder.empty() ? "" : "/." + folder);
    for (const char* sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(dir + "/" + sub);
    std::string unique = "1700000000.M" + std::to_string(++counter_) + "P1.test,S=" +
                         std::to_string(raw.size());
    std::string tmp = dir + "/tmp/" + unique;
    std::ofstream(tmp, std::ios::binary) << raw;
    std::string relative = (folder.empty() ? "" : "." + folder + "/") +
                           (flags.empty() ? "new/" + unique : "cur/" + unique + ":2," + flags);
    std::filesystem::rename(tmp, UserDir(local, domain) + "/" + relative);
    return relative;
  }

  // Paths (relative to the user's Maildir) of every message file whose
  // content contains `needle`, in any folder.
  std::vector<std::string> FilesContaining(const std::string& local, const std::string& domain,
                                           const std::string& needle) const {
    std::vector<std::string> found;
    std::string base = UserDir(local, domain);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(base)) {
      if (!entry.is_regular_file()) continue;
      std::string parent = entry.path().parent_path().filename();
      if (parent != "cur" && parent != "new") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (content.find(needle) != std::string::npos) {
        found.push_back(entry.path().string().substr(base.size() + 1));
      }
    }
    return found;
  }

 private:
  std::string root_;
  int counter_ = 0;
};

// A message with a PDF attachment whose decoded bytes hash to
// SHA-256 8b08c7d3224935ee42aab02320a72647fdc74e37d9be9e9454f6922f11d11075
// (MD5 96b6ed64bef6eb934a5c1f9d66fa68fd), 68 bytes.
inline std::string InvoiceMessage(const std::string& message_id, const std::string& to,
                                  const std::string& extra_headers = "") {
  return "From: \"Billing\" <billing@invoices.example.net>\r\n"
         "To: " + to + "\r\n" + extra_headers +
         "Subject: Invoice 4471 overdue\r\n"
         "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
         "Message-ID: " + message_id + "\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
         "\r\n"
         "--b1\r\n"
         "Content-Type: text/plain; charset=us-ascii\r\n"
         "\r\n"
         "Please pay the attached invoice today.\r\n"
         "--b1\r\n"
         "Content-Type: application/pdf; name=\"invoice.pdf\"\r\n"
         "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n"
         "JVBERi0xLjQKJSBSZWNsYWltIHRlc3QgaW52b2ljZQoxIDAgb2JqPDw+PmVuZG9iagp0cmFpbGVyPDw+PgolJUVPRgo=\r\n"
         "--b1--\r\n";
}

constexpr const char* kInvoiceSha256 =
    "8b08c7d3224935ee42aab02320a72647fdc74e37d9be9e9454f6922f11d11075";
constexpr const char* kInvoiceMd5 = "96b6ed64bef6eb934a5c1f9d66fa68fd";

}  // namespace reclaim::testing
