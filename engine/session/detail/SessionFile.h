#pragma once

// The session file as a whole: validation on open, the journal folder beside it, the writers'
// lock, and atomic replacement (write a temporary, sync, rename). docs/session-format.md.

#include "session/detail/H5.h"

#include <functional>
#include <set>
#include <string>

namespace mpq::session::detail {

constexpr const char* kFormat = "mpq-session";
constexpr const char* kWriter = "mpq-workbench 0.1";

/// Now, as ISO 8601 UTC with milliseconds ("2025-05-01T12:00:00.123Z").
std::string nowIso();

/// Opens a session read-only and checks it: HDF5 signature, format attribute, schema version.
/// Throws mpq::Error with one clear message for each kind of bad file.
h5::Id openSessionFile(const std::string& path);

/// "<session>.journal": the folder beside the session with the writers' lock and the journals
/// of running (or killed) jobs.
std::string journalRoot(const std::string& sessionPath);
/// "<session>.journal/<run>".
std::string journalDir(const std::string& sessionPath, const std::string& run);

/// An exclusive advisory lock (flock) on a file, released by the destructor or by the death of
/// the process. Blocks until it is granted unless `wait` is false (then held() tells).
class FileLock {
public:
    FileLock(const std::string& path, bool wait = true);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    bool held() const { return m_fd >= 0; }

private:
    int m_fd = -1;
};

/// True when some process holds `path` locked (a shared lock can not be taken).
bool isLocked(const std::string& path);

/// The lock every writer of `sessionPath` takes while it replaces the file.
std::string sessionLockPath(const std::string& sessionPath);

/// Replaces `sessionPath` atomically: a fresh file is written next to it (root attributes, then
/// every group of the current file except the paths in `drop`, e.g. "/runs/gptq-1"), `edit`
/// adds to it, then it is synced and renamed over the session and the folder is synced. Creates
/// the session when it does not exist. The caller holds the session lock.
void rewriteSession(const std::string& sessionPath, const std::set<std::string>& drop,
                    const std::function<void(const h5::Id& fresh, const h5::Id* old)>& edit);

/// Writes a file through `write` to "<path>.tmp-<pid>", syncs it and renames it to `path`,
/// syncing the folder: `path` is either absent, the old file, or complete.
void writeFileAtomically(const std::string& path, const std::function<void(const h5::Id& file)>& write);

/// fsync of a folder (after a rename in it).
void syncFolder(const std::string& dir);

} // namespace mpq::session::detail
