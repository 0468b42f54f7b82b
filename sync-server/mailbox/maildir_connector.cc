#include "sync-server/mailbox/maildir_connector.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <set>
#include <system_error>
#include <utility>

#include "shared/message_id.h"

namespace reclaim {
namespace {

// The file name field that carries a move's tag. Dovecot's Maildir
// documentation lists S= and W= as the only fields it reads from a base.
constexpr std::string_view kTagField = "RECLAIM=";
constexpr size_t kMaxTagLength = 32;
// How many "_N" suffixes Move() tries when the planned name is taken.
constexpr int kMaxNameAttempts = 100;
// How often Move() looks the source up again when a mail client renames it
// between the look-up and the rename.
constexpr int kMaxSourceLookups = 3;
constexpr size_t kMaxHeaderBytes = 1 << 20;
constexpr size_t kReadChunkBytes = 16 * 1024;

// ---------------------------------------------------------------------------
// Text helpers

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool IsAsciiLetter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool IsInfoSeparator(char c) {
  return c == ':' || c == '!' || c == ';';
}

// Splits `text` at every `delimiter`; the result has at least one element.
std::vector<std::string_view> Split(std::string_view text, char delimiter) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t found = text.find(delimiter); found != std::string_view::npos;
       found = text.find(delimiter, start)) {
    parts.push_back(text.substr(start, found - start));
    start = found + 1;
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::string ErrnoText(int error) {
  return std::generic_category().message(error);
}

std::string Quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

Status InvalidTag(std::string_view tag) {
  return Status::Invalid(
      "tag", "move tag " + Quoted(tag) + " is invalid; use 1 to 32 ASCII letters and digits");
}

// ---------------------------------------------------------------------------
// File names

// Returns true when `name[pos]` is a separator that starts an info part:
// "2," (flags) or "1," (experimental info).
bool StartsInfoPart(std::string_view name, size_t pos) {
  if (!IsInfoSeparator(name[pos]))
    return false;
  const std::string_view rest = name.substr(pos + 1);
  return StartsWith(rest, "2,") || StartsWith(rest, "1,");
}

// Returns the position of the separator that starts the info part, or npos.
// The last candidate wins, so that in "x:2,:2,S" (flags appended twice by a
// faulty client) the flags that client meant are the ones read.
size_t FindInfoSeparator(std::string_view name) {
  for (size_t pos = name.size(); pos-- > 0;) {
    if (StartsInfoPart(name, pos))
      return pos;
  }
  return std::string_view::npos;
}

// Returns the base with any earlier info part cut off and other separators
// written as octal escapes (the Maildir convention for ':' in host names),
// so that the cleaned name has exactly one separator. Clears `valid` when
// there was anything to clean.
std::string CleanBase(std::string_view base, bool* valid) {
  std::string out;
  for (size_t pos = 0; pos < base.size(); ++pos) {
    if (!IsInfoSeparator(base[pos])) {
      out += base[pos];
      continue;
    }
    *valid = false;
    if (StartsInfoPart(base, pos))
      break;
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\%03o", static_cast<unsigned char>(base[pos]));
    out += escaped;
  }
  return out;
}

std::optional<uint64_t> SizeField(const std::vector<std::string>& fields) {
  for (const std::string& field : fields) {
    if (!StartsWith(field, "S="))
      continue;
    uint64_t size = 0;
    const char* first = field.data() + 2;
    const char* last = field.data() + field.size();
    const auto [end, error] = std::from_chars(first, last, size);
    if (error == std::errc() && end == last && first != last)
      return size;
  }
  return std::nullopt;
}

// Returns the letters of a "2," info part in ASCII order without repeats.
// Clears `valid` when the part contains anything else.
std::string SortedFlags(std::string_view letters, bool* valid) {
  std::set<char> flags;
  for (char c : letters) {
    if (IsAsciiLetter(c)) {
      flags.insert(c);
    } else {
      *valid = false;
    }
  }
  return std::string(flags.begin(), flags.end());
}

bool HasFlagsInfo(const MaildirFileName& name) {
  return StartsWith(name.info, "2,");
}

// Returns the name a move with `tag` gives the file. Attempt 1 is the
// planned name; later attempts add "_<attempt>" to the tag field.
std::string MovedFileName(const MaildirFileName& name, std::string_view tag, int attempt) {
  std::string out = name.unique;
  for (const std::string& field : name.fields) {
    if (StartsWith(field, "U=") || StartsWith(field, kTagField))
      continue;
    out += ",";
    out += field;
  }
  out += ",";
  out += kTagField;
  out += tag;
  if (attempt > 1)
    out += "_" + std::to_string(attempt);
  if (name.separator != '\0') {
    out += name.separator;
    out += HasFlagsInfo(name) ? "2," + name.flags : name.info;
  }
  return out;
}

bool CarriesTag(const MaildirFileName& name, std::string_view tag) {
  for (const std::string& field : name.fields) {
    if (!StartsWith(field, kTagField))
      continue;
    const std::string_view value = std::string_view(field).substr(kTagField.size());
    if (value == tag || StartsWith(value, std::string(tag) + "_"))
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Folders and locations

bool IsInbox(std::string_view folder) {
  return ToLowerAscii(folder) == "inbox";
}

std::string CanonicalFolder(const std::string& folder) {
  return IsInbox(folder) ? "INBOX" : folder;
}

// Returns the Maildir++ directory of `folder` relative to the mailbox root:
// "" for INBOX, ".A.B" for "A/B".
Result<std::string> FolderDirectory(const std::string& folder) {
  if (IsInbox(folder))
    return std::string();
  const auto invalid = [&folder](const std::string& why) {
    return Status::Invalid("folder", "folder name " + Quoted(folder) + " " + why);
  };
  if (folder.empty())
    return invalid("is empty; name a folder such as \"Reclaim-Hold\"");
  if (folder.front() == '/' || folder.back() == '/' || folder.find("//") != std::string::npos)
    return invalid("has an empty level; separate levels with one '/', as in \"Archive/2024\"");
  if (folder.find('.') != std::string::npos)
    return invalid("contains '.', which Maildir++ uses between levels; use '/' to nest folders");
  const bool has_control = std::any_of(folder.begin(), folder.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (has_control)
    return invalid("contains a control character; remove it");
  std::string directory = "." + folder;
  std::replace(directory.begin(), directory.end(), '/', '.');
  return directory;
}

std::string FolderFromDirectory(std::string_view directory) {
  std::string folder(directory.substr(1));
  std::replace(folder.begin(), folder.end(), '.', '/');
  return folder;
}

// StoredLocation::file taken apart: "[.Folder/]cur|new/name".
struct LocationPath {
  std::string folder_directory;  // "" for INBOX
  std::string subdir;            // "cur" or "new"
  std::string name;

  std::string Directory() const {
    return folder_directory.empty() ? subdir : folder_directory + "/" + subdir;
  }
  std::string File() const { return Directory() + "/" + name; }
};

// Checks that `file` names a message file inside the mailbox, so that a
// location can never reach outside it ("../") or into tmp/.
Result<LocationPath> SplitLocationFile(const std::string& file) {
  const std::vector<std::string_view> parts = Split(file, '/');
  LocationPath location;
  bool valid = parts.size() == 2 || parts.size() == 3;
  if (valid && parts.size() == 3) {
    location.folder_directory = std::string(parts[0]);
    valid = parts[0].size() > 1 && parts[0][0] == '.' && parts[0] != "..";
  }
  if (valid) {
    location.subdir = std::string(parts[parts.size() - 2]);
    location.name = std::string(parts.back());
    valid = (location.subdir == "cur" || location.subdir == "new") && !location.name.empty() &&
            location.name[0] != '.' && location.name.find('\0') == std::string::npos;
  }
  if (!valid) {
    return Status::Invalid("file", "location file " + Quoted(file) +
                                       " is not \"[.Folder/]cur/<name>\" or \"[.Folder/]new/"
                                       "<name>\" relative to the mailbox; use a location from "
                                       "ListMessages()");
  }
  return location;
}

// Splits the location's file and checks that it lies in the location's
// folder, which catches a caller mixing up records.
Result<LocationPath> CheckLocation(const StoredLocation& location) {
  Result<LocationPath> path = SplitLocationFile(location.file);
  if (!path.ok() || location.folder.empty())
    return path;
  const Result<std::string> directory = FolderDirectory(location.folder);
  if (!directory.ok())
    return directory.status();
  if (*directory != path->folder_directory) {
    return Status::Invalid("file", "location file " + Quoted(location.file) + " is not in folder " +
                                       Quoted(location.folder) +
                                       "; pass the folder and file of one ListMessages() entry");
  }
  return path;
}

StoredLocation PlannedLocation(const LocationPath& from, const std::string& folder,
                               const std::string& folder_directory, const std::string& tag,
                               int attempt) {
  const MaildirFileName name = ParseMaildirFileName(from.name);
  LocationPath to;
  to.folder_directory = folder_directory;
  to.subdir = from.subdir;
  to.name = MovedFileName(name, tag, attempt);
  StoredLocation planned;
  planned.folder = CanonicalFolder(folder);
  planned.file = to.File();
  planned.flags = name.flags;
  return planned;
}

// ---------------------------------------------------------------------------
// File system helpers. Those that return int return 0 or an errno value.

struct DirectoryEntry {
  std::string name;
  bool is_directory = false;
  bool is_regular = false;
};

// Lists the entries of `path` except "." and "..". Symbolic links count as
// what they point to.
int ListDirectory(const std::string& path, std::vector<DirectoryEntry>* entries) {
  DIR* directory = opendir(path.c_str());
  if (directory == nullptr)
    return errno;
  int error = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(directory);
    if (entry == nullptr) {
      error = errno;
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..")
      continue;
    DirectoryEntry item;
    item.name = std::string(name);
    item.is_directory = entry->d_type == DT_DIR;
    item.is_regular = entry->d_type == DT_REG;
    if (entry->d_type == DT_UNKNOWN || entry->d_type == DT_LNK) {
      struct stat status {};
      if (fstatat(dirfd(directory), entry->d_name, &status, 0) == 0) {
        item.is_directory = S_ISDIR(status.st_mode);
        item.is_regular = S_ISREG(status.st_mode);
      }
    }
    entries->push_back(std::move(item));
  }
  closedir(directory);
  return error;
}

int StatPath(const std::string& path, struct stat* status) {
  return stat(path.c_str(), status) == 0 ? 0 : errno;
}

bool IsDirectory(const std::string& path) {
  struct stat status {};
  return StatPath(path, &status) == 0 && S_ISDIR(status.st_mode);
}

bool IsMaildir(const std::string& path) {
  return IsDirectory(path + "/cur") && IsDirectory(path + "/new");
}

int FsyncDirectory(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  const int error = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  return error;
}

// Gives a new file or directory the permissions and, when the server runs
// as root, the owner of `model`, so that the mail server can still use it.
int CopyOwnership(const std::string& path, const struct stat& model, mode_t mode_mask) {
  if (chmod(path.c_str(), model.st_mode & mode_mask) != 0)
    return errno;
  if (geteuid() == 0 && chown(path.c_str(), model.st_uid, model.st_gid) != 0)
    return errno;
  return 0;
}

int MakeDirectoryLike(const std::string& path, const struct stat& model) {
  if (mkdir(path.c_str(), model.st_mode & 07777) == 0)
    return CopyOwnership(path, model, 07777);
  if (errno != EEXIST)
    return errno;
  return IsDirectory(path) ? 0 : ENOTDIR;
}

int MakeEmptyFileLike(const std::string& path, const struct stat& model) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno == EEXIST ? 0 : errno;
  close(fd);
  return CopyOwnership(path, model, 0666);
}

bool IsSameFile(const std::string& a, const std::string& b) {
  struct stat status_a {};
  struct stat status_b {};
  return StatPath(a, &status_a) == 0 && StatPath(b, &status_b) == 0 &&
         status_a.st_dev == status_b.st_dev && status_a.st_ino == status_b.st_ino;
}

// Renames `from` to `to` unless `to` exists (EEXIST). File systems without
// RENAME_NOREPLACE get link(2) then unlink(2). Between the two calls the
// file has both names, and the fsync in between makes sure that a crash
// leaves at least the new name, never neither.
// NOTE: the tests run on file systems with RENAME_NOREPLACE and so never
// reach the link(2) path. Only its crash state is tested.
int RenameNoReplace(const std::string& from, const std::string& to,
                    const std::string& to_directory) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return errno;
  if (link(from.c_str(), to.c_str()) != 0)
    return errno;
  if (const int error = FsyncDirectory(to_directory); error != 0) {
    unlink(to.c_str());  // back to one name; if this fails, the next Move() completes it
    return error;
  }
  return unlink(from.c_str()) == 0 ? 0 : errno;
}

// Reads the whole file into `*content`, replacing what it contained. The
// file's size from fstat(2) sizes the buffer, so a message takes one read(2)
// and reuses the capacity of `*content`, but a file that grows or shrinks
// while it is read is still read to its end.
int ReadWholeFile(const std::string& path, std::string* content) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  struct stat file_status {};
  if (fstat(fd, &file_status) != 0) {
    const int error = errno;
    close(fd);
    return error;
  }

  // One byte more than the size, so that reaching the end of the file needs
  // no second read(2) to see the end.
  size_t capacity = static_cast<size_t>(file_status.st_size) + 1;
  size_t length = 0;
  int error = 0;
  for (;;) {
    if (length == capacity)
      capacity += kReadChunkBytes;
    if (content->size() < capacity)
      content->resize(capacity);
    const ssize_t count = read(fd, content->data() + length, capacity - length);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      error = errno;
    if (count <= 0)
      break;
    length += static_cast<size_t>(count);
  }
  close(fd);

  content->resize(length);
  return error;
}

// Returns the position just past the blank line that ends the header block,
// or npos.
size_t HeaderBlockEnd(std::string_view text) {
  const size_t lf = text.find("\n\n");
  const size_t crlf = text.find("\n\r\n");
  if (lf == std::string_view::npos && crlf == std::string_view::npos)
    return std::string_view::npos;
  return lf < crlf ? lf + 2 : crlf + 3;
}

// Reads the header block of a message, at most kMaxHeaderBytes of it.
int ReadHeaderBlock(const std::string& path, std::string* header) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  char buffer[kReadChunkBytes];
  int error = 0;
  while (header->size() < kMaxHeaderBytes) {
    const ssize_t count = read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      error = errno;
    if (count <= 0)
      break;
    header->append(buffer, static_cast<size_t>(count));
    const size_t end = HeaderBlockEnd(*header);
    if (end != std::string::npos) {
      header->resize(end);
      break;
    }
  }
  close(fd);
  return error;
}

bool IsFieldName(std::string_view line_name, std::string_view wanted) {
  while (!line_name.empty() && (line_name.back() == ' ' || line_name.back() == '\t'))
    line_name.remove_suffix(1);
  return ToLowerAscii(line_name) == ToLowerAscii(wanted);
}

// Returns the raw values of every Message-ID field, continuation lines
// included. Header names are compared without case, and a message may carry
// the field twice.
std::vector<std::string> MessageIdValues(std::string_view header) {
  std::vector<std::string> values;
  std::string* current = nullptr;
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find('\n', start);
    if (end == std::string_view::npos)
      end = header.size();
    const std::string_view line = header.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (current != nullptr)
        *current += "\n" + std::string(line);
      continue;
    }
    current = nullptr;
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && IsFieldName(line.substr(0, colon), "Message-ID")) {
      values.emplace_back(line.substr(colon + 1));
      current = &values.back();
    }
  }
  return values;
}

// ---------------------------------------------------------------------------
// One user's mailbox

class MaildirSession : public MailboxSession {
 public:
  using PendingSyncs = MaildirConnector::PendingSyncs;
  MaildirSession(std::string address, std::string root, std::shared_ptr<PendingSyncs> pending)
      : address_(std::move(address)), root_(std::move(root)), pending_(std::move(pending)) {}

  Result<std::vector<std::string>> ListFolders() override;
  Result<std::vector<StoredLocation>> ListMessages(const std::string& folder) override;
  Result<std::string> FolderVersion(const std::string& folder) override;
  Result<std::string> Fetch(const StoredLocation& location) override;
  Status FetchInto(const StoredLocation& location, std::string* content) override;
  Result<StoredLocation> Move(const StoredLocation& location, const std::string& folder,
                              const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindTagged(const std::string& folder,
                                                 const std::string& tag) override;
  Result<std::vector<StoredLocation>> FindByMessageId(const std::string& folder,
                                                      const std::string& message_id) override;
  Status ClearTag(const StoredLocation& location, const std::string& tag) override;
  void SetDeferredSync(bool deferred) override { deferred_sync_ = deferred; }
  Status SyncMoves() override;

 private:
  std::string PathOf(const std::string& relative) const {
    return relative.empty() ? root_ : root_ + "/" + relative;
  }
  Status FileError(const std::string& action, const std::string& path, int error) const;
  Result<std::vector<std::string>> ListFolderFiles(const std::string& folder,
                                                   const std::string& folder_directory) const;
  Result<std::vector<std::string>> ListFolderFilesOrNone(const std::string& folder) const;
  Result<LocationPath> FindCurrentFile(const LocationPath& location) const;
  Status EnsureFolder(const std::string& folder_directory);
  Result<StoredLocation> RenameToPlan(const LocationPath& from, const std::string& folder,
                                      const std::string& folder_directory,
                                      const std::string& tag) const;
  Status SyncDirectories(const LocationPath& from, const std::string& to_file);
  Result<bool> HasMessageId(const std::string& file, const std::string& key) const;

  std::string address_;
  bool deferred_sync_ = false;
  std::string root_;  // the mailbox directory, `<root>/<domain>/<local>`
  std::shared_ptr<PendingSyncs> pending_;  // directories to fsync in SyncMoves()
};

Status MaildirSession::FileError(const std::string& action, const std::string& path,
                                 int error) const {
  std::string fix = "check that the server may read and write " + root_;
  if (error == EXDEV)
    fix = "keep every folder of " + root_ + " on one file system, so that rename(2) works";
  if (error == ENOSPC || error == EDQUOT)
    fix = "free space or raise the quota on the file system of " + root_;
  return Status::Internal("failed to " + action + " " + path + ": " + ErrnoText(error) + "; " +
                          fix);
}

Result<std::vector<std::string>> MaildirSession::ListFolders() {
  std::vector<DirectoryEntry> entries;
  if (const int error = ListDirectory(root_, &entries); error != 0)
    return FileError("list the folders in", root_, error);
  std::vector<std::string> folders;
  for (const DirectoryEntry& entry : entries) {
    if (entry.is_directory && entry.name.size() > 1 && entry.name[0] == '.' &&
        IsDirectory(PathOf(entry.name) + "/cur")) {
      folders.push_back(FolderFromDirectory(entry.name));
    }
  }
  std::sort(folders.begin(), folders.end());
  folders.insert(folders.begin(), "INBOX");
  return folders;
}

// Returns the message files of a folder relative to the mailbox root,
// sorted. A folder without `new/` or `cur/` has no messages there.
Result<std::vector<std::string>> MaildirSession::ListFolderFiles(
    const std::string& folder, const std::string& folder_directory) const {
  const std::string folder_path = PathOf(folder_directory);
  if (!IsDirectory(folder_path)) {
    return Status::NotFound("folder", "folder " + Quoted(folder) + " not found in mailbox " +
                                          address_ + ": " + folder_path +
                                          " is not a directory; list the folders again");
  }
  std::vector<std::string> files;
  for (const std::string subdir : {"cur", "new"}) {
    const std::string relative =
        folder_directory.empty() ? subdir : folder_directory + "/" + subdir;
    std::vector<DirectoryEntry> entries;
    const int error = ListDirectory(PathOf(relative), &entries);
    if (error == ENOENT)
      continue;
    if (error != 0)
      return FileError("list", PathOf(relative), error);
    for (const DirectoryEntry& entry : entries) {
      if (entry.is_regular && entry.name[0] != '.')
        files.push_back(relative + "/" + entry.name);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Lists a folder for the Find functions, where a missing folder simply
// contains nothing.
Result<std::vector<std::string>> MaildirSession::ListFolderFilesOrNone(
    const std::string& folder) const {
  const Result<std::string> directory = FolderDirectory(folder);
  if (!directory.ok())
    return directory.status();
  Result<std::vector<std::string>> files = ListFolderFiles(folder, *directory);
  if (!files.ok() && files.status().code() == StatusCode::kNotFound)
    return std::vector<std::string>();
  return files;
}

Result<std::vector<StoredLocation>> MaildirSession::ListMessages(const std::string& folder) {
  const Result<std::string> directory = FolderDirectory(folder);
  if (!directory.ok())
    return directory.status();
  const Result<std::vector<std::string>> files = ListFolderFiles(folder, *directory);
  if (!files.ok())
    return files.status();
  std::vector<StoredLocation> locations;
  for (const std::string& file : *files) {
    StoredLocation location;
    location.folder = CanonicalFolder(folder);
    location.file = file;
    location.flags = ParseMaildirFileName(file).flags;
    locations.push_back(std::move(location));
  }
  return locations;
}

// Every delivery, deletion and rename (a flag change) in a Maildir folder
// changes the modification time of its new/ or cur/ directory. The
// version is both directories' inode and modification time. Two changes
// within one tick of the file system's clock can leave the time as it
// was. So a directory changed in the last kSettleSeconds gives no
// version, and the folder is listed.
Result<std::string> MaildirSession::FolderVersion(const std::string& folder) {
  constexpr time_t kSettleSeconds = 2;
  const Result<std::string> directory = FolderDirectory(folder);
  if (!directory.ok())
    return directory.status();
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  std::string version;
  for (const char* subdir : {"new", "cur"}) {
    const std::string path = PathOf(directory->empty() ? subdir : *directory + "/" + subdir);
    struct stat info {};
    if (stat(path.c_str(), &info) != 0 || info.st_mtim.tv_sec + kSettleSeconds > now.tv_sec)
      return std::string();
    version += std::to_string(info.st_ino) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
               std::to_string(info.st_mtim.tv_nsec) + ";";
  }
  return version;
}

// Returns `location` when its file exists. Otherwise a mail client may have
// renamed it to change flags or to move it from new/ to cur/, which keeps
// the base, so the folder's file with the same base is returned.
Result<LocationPath> MaildirSession::FindCurrentFile(const LocationPath& location) const {
  const std::string path = PathOf(location.File());
  struct stat status {};
  if (lstat(path.c_str(), &status) == 0) {
    if (S_ISREG(status.st_mode))
      return location;
    return Status::NotFound("file", "no message at " + path +
                                        ": it is not a regular file; pass a location from "
                                        "ListMessages()");
  }
  if (errno != ENOENT)
    return FileError("read", path, errno);

  const std::string base = ParseMaildirFileName(location.name).base;
  const std::string folder =
      location.folder_directory.empty() ? "INBOX" : FolderFromDirectory(location.folder_directory);
  const Result<std::vector<std::string>> files = ListFolderFiles(folder, location.folder_directory);
  if (!files.ok() && files.status().code() != StatusCode::kNotFound)
    return files.status();
  if (files.ok()) {
    for (const std::string& file : *files) {
      if (ParseMaildirFileName(file).base == base)
        return SplitLocationFile(file);
    }
  }
  return Status::NotFound("file", "message " + location.File() + " not found in mailbox " +
                                      address_ + " (" + path +
                                      "); list the folder again or search by Message-ID");
}

Result<std::string> MaildirSession::Fetch(const StoredLocation& location) {
  std::string content;
  if (Status status = FetchInto(location, &content); !status.ok())
    return status;
  return content;
}

Status MaildirSession::FetchInto(const StoredLocation& location, std::string* content) {
  const Result<LocationPath> requested = CheckLocation(location);
  if (!requested.ok())
    return requested.status();
  const Result<LocationPath> current = FindCurrentFile(*requested);
  if (!current.ok())
    return current.status();
  const std::string path = PathOf(current->File());
  const int error = ReadWholeFile(path, content);
  if (error == ENOENT) {
    return Status::NotFound("file", "message " + current->File() + " vanished from mailbox " +
                                        address_ + " while being read; list the folder again");
  }
  if (error != 0)
    return FileError("read", path, error);
  return Status::Ok();
}

// Creates the folder's directories where missing, then fsyncs their parents
// even when nothing was created, because a process killed after an earlier
// mkdir(2) may have left the new entry unsynced. A file renamed into an
// unsynced directory would be lost with it in a power cut.
Status MaildirSession::EnsureFolder(const std::string& folder_directory) {
  struct stat model {};
  if (const int error = StatPath(root_, &model); error != 0)
    return FileError("read", root_, error);

  const std::string folder_path = PathOf(folder_directory);
  std::vector<std::string> directories;
  if (!folder_directory.empty())
    directories.push_back(folder_path);
  for (const char* subdir : {"/cur", "/new", "/tmp"})
    directories.push_back(folder_path + subdir);
  for (const std::string& directory : directories) {
    if (const int error = MakeDirectoryLike(directory, model); error != 0)
      return FileError("create the directory", directory, error);
  }

  if (!folder_directory.empty()) {
    // Courier and Dovecot mark a Maildir++ subfolder with this empty file.
    const std::string marker = folder_path + "/maildirfolder";
    if (const int error = MakeEmptyFileLike(marker, model); error != 0)
      return FileError("create", marker, error);
  }
  if (deferred_sync_) {
    std::lock_guard<std::mutex> lock(pending_->mutex);
    pending_->directories.push_back(folder_path);
    if (!folder_directory.empty()) pending_->directories.push_back(root_);
    return Status::Ok();
  }
  if (const int error = FsyncDirectory(folder_path); error != 0)
    return FileError("fsync", folder_path, error);
  if (!folder_directory.empty()) {
    if (const int error = FsyncDirectory(root_); error != 0)
      return FileError("fsync", root_, error);
  }
  return Status::Ok();
}

// Makes the move durable: first the new name, then the removal of the old
// one. A power cut in between then leaves the file under both names rather
// than neither. Those are two links to one file, which a retried Move()
// with the same tag resolves.
Status MaildirSession::SyncDirectories(const LocationPath& from, const std::string& to_file) {
  const std::string to_directory = PathOf(SplitLocationFile(to_file)->Directory());
  const std::string from_directory = PathOf(from.Directory());
  std::vector<std::string> directories = {to_directory};
  if (from_directory != to_directory)
    directories.push_back(from_directory);
  if (deferred_sync_) {
    // Destination directories first, as below, when SyncMoves() runs.
    std::lock_guard<std::mutex> lock(pending_->mutex);
    for (const std::string& directory : directories) pending_->directories.push_back(directory);
    return Status::Ok();
  }
  for (const std::string& directory : directories) {
    if (const int error = FsyncDirectory(directory); error != 0) {
      return Status::Internal("moved the message to " + to_file + " but failed to fsync " +
                              directory + ": " + ErrnoText(error) +
                              "; the move may not survive a power cut. Check the file system, "
                              "then confirm the location with FindTagged()");
    }
  }
  return Status::Ok();
}

// Above this many directories, SyncMoves() syncs the whole file system.
constexpr size_t kMaxDirectorySyncs = 4;

Status MaildirSession::SyncMoves() {
  std::vector<std::string> pending;
  {
    std::lock_guard<std::mutex> lock(pending_->mutex);
    pending.swap(pending_->directories);
  }
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& directory : pending) {
    if (seen.insert(directory).second) unique.push_back(directory);
  }
  if (unique.size() > kMaxDirectorySyncs) {
    // One syncfs(2) costs about as much as a few directory fsyncs, and a
    // batch over many mailboxes touches many directories.
    int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int error = fd < 0 ? errno : (syncfs(fd) == 0 ? 0 : errno);
    if (fd >= 0) close(fd);
    if (error != 0) {
      return Status::Internal("failed to sync the file system of " + root_ +
                              " after moving messages: " + ErrnoText(error) +
                              "; check the file system");
    }
    return Status::Ok();
  }
  // Each directory once, in the order the moves needed them.
  for (const std::string& directory : unique) {
    if (const int error = FsyncDirectory(directory); error != 0) {
      return Status::Internal("failed to fsync " + directory + " after moving messages: " +
                              ErrnoText(error) + "; check the file system");
    }
  }
  return Status::Ok();
}

// Renames `from` to its planned name, or to the next free variant.
// kNotFound when `from` is gone.
Result<StoredLocation> MaildirSession::RenameToPlan(const LocationPath& from,
                                                    const std::string& folder,
                                                    const std::string& folder_directory,
                                                    const std::string& tag) const {
  const std::string source = PathOf(from.File());
  for (int attempt = 1; attempt <= kMaxNameAttempts; ++attempt) {
    StoredLocation planned = PlannedLocation(from, folder, folder_directory, tag, attempt);
    const std::string target = PathOf(planned.file);
    const std::string target_directory = PathOf(SplitLocationFile(planned.file)->Directory());
    // The file already has the name from an earlier move with this tag.
    // Handling it as a second link below would unlink its only name.
    if (target == source)
      return planned;
    const int error = RenameNoReplace(source, target, target_directory);
    if (error == 0)
      return planned;
    if (error == EEXIST && IsSameFile(source, target)) {
      // An earlier link(2) fallback stopped before unlink(2).
      if (unlink(source.c_str()) != 0)
        return FileError("remove the old link", source, errno);
      spdlog::warn("maildir: mailbox {}: completed an interrupted move of {} to {}", address_,
                   from.File(), planned.file);
      return planned;
    }
    if (error == EEXIST)
      continue;
    if (error == ENOENT && !IsDirectory(target_directory))
      return FileError("move the message into", target_directory, error);
    if (error == ENOENT) {
      return Status::NotFound("file", "message " + from.File() + " not found in mailbox " +
                                          address_ + " (" + source + ")");
    }
    return FileError("move " + source + " to", target, error);
  }
  return Status::Internal("failed to move " + source + ": " + std::to_string(kMaxNameAttempts) +
                          " names for tag " + tag + " in " + PathOf(folder_directory) +
                          " are taken; remove the stray files or use another tag");
}

Result<StoredLocation> MaildirSession::Move(const StoredLocation& location,
                                            const std::string& folder, const std::string& tag) {
  const Result<LocationPath> requested = CheckLocation(location);
  if (!requested.ok())
    return requested.status();
  // Planning checks the tag and the folder before anything is created.
  if (const Result<StoredLocation> plan = PlanMaildirMove(location, folder, tag); !plan.ok())
    return plan.status();
  const std::string folder_directory = FolderDirectory(folder).value();
  if (const Status status = EnsureFolder(folder_directory); !status.ok())
    return status;

  Status last_error;
  for (int lookup = 0; lookup < kMaxSourceLookups; ++lookup) {
    const Result<LocationPath> current = FindCurrentFile(*requested);
    if (!current.ok())
      return current.status();
    const Result<StoredLocation> moved = RenameToPlan(*current, folder, folder_directory, tag);
    if (moved.ok()) {
      if (!ParseMaildirFileName(current->name).valid) {
        spdlog::warn("maildir: mailbox {}: malformed file name {} moved as {}", address_,
                     current->File(), moved->file);
      }
      if (const Status status = SyncDirectories(*current, moved->file); !status.ok())
        return status;
      return moved;
    }
    if (moved.status().code() != StatusCode::kNotFound)
      return moved.status();
    last_error = moved.status();  // renamed by a client since the look-up: look again
  }
  return last_error;
}

Result<std::vector<StoredLocation>> MaildirSession::FindTagged(const std::string& folder,
                                                               const std::string& tag) {
  if (!IsValidMoveTag(tag))
    return InvalidTag(tag);
  const Result<std::vector<std::string>> files = ListFolderFilesOrNone(folder);
  if (!files.ok())
    return files.status();
  std::vector<StoredLocation> found;
  for (const std::string& file : *files) {
    const MaildirFileName name = ParseMaildirFileName(file);
    if (!CarriesTag(name, tag))
      continue;
    StoredLocation location;
    location.folder = CanonicalFolder(folder);
    location.file = file;
    location.flags = name.flags;
    found.push_back(std::move(location));
  }
  return found;
}

// Returns whether the message in `file` carries a Message-ID with `key`.
// A file renamed by a client since the listing is read under its new name.
Result<bool> MaildirSession::HasMessageId(const std::string& file, const std::string& key) const {
  std::string header;
  int error = ReadHeaderBlock(PathOf(file), &header);
  if (error == ENOENT) {
    const Result<LocationPath> current = FindCurrentFile(SplitLocationFile(file).value());
    if (!current.ok())
      return false;
    header.clear();
    error = ReadHeaderBlock(PathOf(current->File()), &header);
  }
  if (error == ENOENT)
    return false;
  if (error != 0)
    return FileError("read", PathOf(file), error);
  for (const std::string& value : MessageIdValues(header)) {
    const Result<MessageId> id = NormalizeMessageId(value);
    if (id.ok() && MessageIdKey(*id) == key)
      return true;
  }
  return false;
}

Result<std::vector<StoredLocation>> MaildirSession::FindByMessageId(const std::string& folder,
                                                                    const std::string& message_id) {
  const Result<MessageId> wanted = NormalizeMessageId(message_id, "message_id");
  if (!wanted.ok())
    return wanted.status();
  const std::string key = MessageIdKey(*wanted);
  const Result<std::vector<std::string>> files = ListFolderFilesOrNone(folder);
  if (!files.ok())
    return files.status();
  std::vector<StoredLocation> found;
  for (const std::string& file : *files) {
    const Result<bool> matches = HasMessageId(file, key);
    if (!matches.ok())
      return matches.status();
    if (!*matches)
      continue;
    StoredLocation location;
    location.folder = CanonicalFolder(folder);
    location.file = file;
    location.flags = ParseMaildirFileName(file).flags;
    found.push_back(std::move(location));
  }
  return found;
}

Status MaildirSession::ClearTag(const StoredLocation& /*location*/, const std::string& /*tag*/) {
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

MaildirFileName ParseMaildirFileName(std::string_view path) {
  MaildirFileName name;
  const size_t slash = path.rfind('/');
  const std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (slash != std::string_view::npos) {
    const std::string_view parent = path.substr(0, slash);
    const size_t parent_slash = parent.rfind('/');
    name.subdir = std::string(
        parent_slash == std::string_view::npos ? parent : parent.substr(parent_slash + 1));
  }

  const size_t separator = FindInfoSeparator(file);
  name.base = std::string(file.substr(0, separator));
  if (separator != std::string_view::npos) {
    name.separator = file[separator];
    name.info = std::string(file.substr(separator + 1));
    if (HasFlagsInfo(name))
      name.flags = SortedFlags(std::string_view(name.info).substr(2), &name.valid);
  }

  const std::string cleaned = CleanBase(name.base, &name.valid);
  const std::vector<std::string_view> parts = Split(cleaned, ',');
  name.unique = std::string(parts.front());
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!parts[i].empty())
      name.fields.emplace_back(parts[i]);
  }
  name.size = SizeField(name.fields);
  return name;
}

bool IsValidMoveTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength)
    return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return IsAsciiLetter(c) || (c >= '0' && c <= '9'); });
}

Result<StoredLocation> PlanMaildirMove(const StoredLocation& from, const std::string& folder,
                                       const std::string& tag) {
  if (!IsValidMoveTag(tag))
    return InvalidTag(tag);
  const Result<LocationPath> source = SplitLocationFile(from.file);
  if (!source.ok())
    return source.status();
  const Result<std::string> folder_directory = FolderDirectory(folder);
  if (!folder_directory.ok())
    return folder_directory.status();
  return PlannedLocation(*source, folder, *folder_directory, tag, 1);
}

MaildirConnector::MaildirConnector(MaildirSettings settings) : settings_(std::move(settings)) {
  for (std::string& domain : settings_.domains)
    domain = ToLowerAscii(domain);
  std::sort(settings_.domains.begin(), settings_.domains.end());
  settings_.domains.erase(std::unique(settings_.domains.begin(), settings_.domains.end()),
                          settings_.domains.end());
}

Result<std::vector<std::string>> MaildirConnector::ListMailboxes() {
  if (!IsDirectory(settings_.root)) {
    return Status::Unavailable("Maildir root " + settings_.root + " of connection " +
                               Quoted(settings_.name) +
                               " is not a readable directory; check the root setting and that "
                               "its file system is mounted");
  }
  std::vector<std::string> addresses;
  for (const std::string& domain : settings_.domains) {
    const std::string domain_path = settings_.root + "/" + domain;
    std::vector<DirectoryEntry> entries;
    const int error = ListDirectory(domain_path, &entries);
    if (error != 0) {
      spdlog::warn("maildir: connection {}: skipping domain {}: cannot list {}: {}", settings_.name,
                   domain, domain_path, ErrnoText(error));
      continue;
    }
    for (const DirectoryEntry& entry : entries) {
      if (!entry.is_directory || entry.name[0] == '.')
        continue;
      if (entry.name != ToLowerAscii(entry.name)) {
        spdlog::warn(
            "maildir: connection {}: skipping {}/{}: mailbox directories must be lower "
            "case",
            settings_.name, domain_path, entry.name);
        continue;
      }
      if (IsMaildir(domain_path + "/" + entry.name))
        addresses.push_back(entry.name + "@" + domain);
    }
  }
  std::sort(addresses.begin(), addresses.end());
  return addresses;
}

Result<std::unique_ptr<MailboxSession>> MaildirConnector::Open(const std::string& address) {
  const std::string lowered = ToLowerAscii(address);
  const size_t at = lowered.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == lowered.size()) {
    return Status::Invalid("address",
                           "address " + Quoted(address) + " is not of the form local@domain");
  }
  const std::string local = lowered.substr(0, at);
  const std::string domain = lowered.substr(at + 1);
  if (local[0] == '.' || local.find('/') != std::string::npos ||
      local.find('\0') != std::string::npos) {
    return Status::Invalid("address", "local part " + Quoted(local) + " of " + Quoted(address) +
                                          " cannot name a Maildir directory (it starts with '.' "
                                          "or contains '/')");
  }
  if (!std::binary_search(settings_.domains.begin(), settings_.domains.end(), domain)) {
    return Status::NotFound("address", "Maildir connection " + Quoted(settings_.name) +
                                           " does not serve domain " + domain + " of " + address +
                                           "; add the domain to its domains or use the connection "
                                           "that serves it");
  }
  if (!IsDirectory(settings_.root)) {
    return Status::Unavailable("Maildir root " + settings_.root + " of connection " +
                               Quoted(settings_.name) +
                               " is not a readable directory; check the root setting and that "
                               "its file system is mounted");
  }
  const std::string mailbox = settings_.root + "/" + domain + "/" + local;
  if (!IsMaildir(mailbox)) {
    return Status::NotFound("address", "no mailbox for user " + lowered + ": " + mailbox +
                                           " is not a Maildir with cur/ and new/; create it or "
                                           "check the connection's root");
  }
  return std::unique_ptr<MailboxSession>(
      std::make_unique<MaildirSession>(lowered, mailbox, pending_));
}

}  // namespace reclaim
