#include "session/detail/SessionFile.h"

#include "core/Error.h"
#include "core/Files.h"
#include "session/Session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace mpq::session {

namespace detail {

std::string nowIso()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char buf[48]; // room for any int the compiler cannot bound (no truncation warning)
    std::snprintf(buf, sizeof buf, "%s.%03dZ", date, int(ms));
    return buf;
}

h5::Id openSessionFile(const std::string& path)
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    if (!files::exists(path))
        throw Error(path + ": no such session file");
    if (files::isDirectory(path))
        throw Error(path + ": is a folder, not a session file");
    if (!isHdf5File(path))
        throw Error(path + ": not a session file (not HDF5 at all: no HDF5 signature at its start)");
    h5::Id f;
    try {
        f = h5::openFile(path);
    } catch (const Error& e) {
        throw Error(path + ": damaged or truncated HDF5 file, cannot be read as a session (" + e.what() + ")");
    }
    const h5::Id root = h5::openGroup(f, "/");
    const std::string format = h5::attrString(root, "format");
    if (format != kFormat)
        throw Error(path + ": an HDF5 file, but not an MPQ session (its root has no format = \"" +
                    std::string(kFormat) + "\" attribute" + (format.empty() ? "" : "; it says \"" + format + "\"") +
                    ")");
    const int64_t version = h5::attrInt(root, "version", -1);
    if (version < 1)
        throw Error(path + ": MPQ session without a valid schema version attribute");
    if (version > kSchemaVersion)
        throw Error(path + ": session schema version " + std::to_string(version) +
                    " is newer than this build understands (" + std::to_string(kSchemaVersion) +
                    "); open it with a newer MPQ Workbench");
    return f;
}

std::string journalRoot(const std::string& sessionPath)
{
    return sessionPath + ".journal";
}

std::string journalDir(const std::string& sessionPath, const std::string& run)
{
    return files::join(journalRoot(sessionPath), run);
}

std::string sessionLockPath(const std::string& sessionPath)
{
    std::filesystem::create_directories(journalRoot(sessionPath));
    return files::join(journalRoot(sessionPath), "session.lock");
}

FileLock::FileLock(const std::string& path, bool wait)
{
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error(path + ": cannot create the lock file (" + std::strerror(errno) + ")");
    while (::flock(m_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno == EINTR && wait)
            continue;
        ::close(m_fd);
        m_fd = -1;
        if (errno == EWOULDBLOCK || errno == EINTR)
            return;
        throw Error(path + ": cannot lock (" + std::strerror(errno) + ")");
    }
}

FileLock::~FileLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // closing releases the flock
}

bool isLocked(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
}

void syncFolder(const std::string& dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void writeFileAtomically(const std::string& path, const std::function<void(const h5::Id& file)>& write)
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    struct Remove {
        std::string path;
        bool keep = false;
        ~Remove()
        {
            if (!keep) {
                std::error_code ec;
                std::filesystem::remove(path, ec);
            }
        }
    } cleanup{tmp};
    h5::Id f = h5::createFile(tmp);
    write(f);
    h5::closeAndSync(f, tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        throw Error(path + ": cannot replace it (" + ec.message() + ")");
    cleanup.keep = true;
    syncFolder(files::parent(files::absolute(path)));
}

void rewriteSession(const std::string& sessionPath, const std::set<std::string>& drop,
                    const std::function<void(const h5::Id& fresh, const h5::Id* old)>& edit)
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    // Temporaries are only written under the session lock, which the caller holds: any left
    // beside the session belong to a writer that was killed.
    {
        const std::filesystem::path p = std::filesystem::absolute(sessionPath);
        const std::string prefix = p.filename().string() + ".tmp-";
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(p.parent_path(), ec))
            if (e.path().filename().string().rfind(prefix, 0) == 0)
                std::filesystem::remove(e.path(), ec);
    }
    h5::Id old;
    if (files::exists(sessionPath))
        old = openSessionFile(sessionPath);
    writeFileAtomically(sessionPath, [&](const h5::Id& fresh) {
        const h5::Id root = h5::openGroup(fresh, "/");
        h5::setAttr(root, "format", kFormat);
        h5::setAttr(root, "version", int64_t(kSchemaVersion));
        h5::setAttr(root, "writer", kWriter);
        h5::setAttr(root, "updated", nowIso());
        if (old.valid()) {
            const h5::Id oldRoot = h5::openGroup(old, "/");
            h5::setAttr(root, "created", h5::attrString(oldRoot, "created", nowIso()));
            // Two levels: top-level groups are recreated, their members copied unless dropped,
            // so that replacing one run or sweep leaves no dead space in the new file.
            for (const std::string& top : h5::children(oldRoot)) {
                if (drop.count("/" + top))
                    continue;
                const auto below = drop.lower_bound("/" + top + "/");
                if (below == drop.end() || below->rfind("/" + top + "/", 0) != 0) {
                    h5::copy(oldRoot, top, root, top); // nothing dropped inside: copy it whole
                    continue;
                }
                const h5::Id src = h5::openGroup(oldRoot, top);
                const h5::Id dst = h5::createGroup(root, top);
                for (const std::string& child : h5::children(src))
                    if (!drop.count("/" + top + "/" + child))
                        h5::copy(src, child, dst, child);
            }
        } else {
            h5::setAttr(root, "created", nowIso());
        }
        edit(fresh, old.valid() ? &old : nullptr);
    });
}

} // namespace detail

bool isHdf5File(const std::string& path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (!files::exists(path) || files::isDirectory(path))
        return false;
    std::ifstream in(path, std::ios::binary);
    unsigned char head[8] = {};
    in.read(reinterpret_cast<char*>(head), 8);
    return in.gcount() == 8 && std::memcmp(head, sig, 8) == 0;
}

std::pair<std::string, std::string> splitRunSpec(const std::string& spec)
{
    const auto hash = spec.rfind('#');
    if (hash == std::string::npos)
        return {spec, {}};
    return {spec.substr(0, hash), spec.substr(hash + 1)};
}

void checkRunName(const std::string& name)
{
    bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
    for (char c : name)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    if (!ok)
        throw Error("run name \"" + name + "\": use 1-64 characters of A-Z a-z 0-9 . _ - (not starting with '.')");
}

const char* statusName(RunStatus s)
{
    switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::Cancelled: return "cancelled";
    case RunStatus::Failed: return "failed";
    case RunStatus::Complete: return "complete";
    }
    return "unknown";
}

} // namespace mpq::session
