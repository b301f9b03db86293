#include "core/Files.h"

#include "core/Error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace mpq::files {

uint64_t size(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw Error(path + ": not a regular file");
    return static_cast<uint64_t>(st.st_size);
}

bool exists(const std::string& path)
{
    std::error_code ec;
    return fs::exists(path, ec);
}

bool isDirectory(const std::string& path)
{
    std::error_code ec;
    return fs::is_directory(path, ec);
}

std::string readAll(const std::string& path)
{
    const uint64_t n = size(path);
    std::string data(n, '\0');
    if (n > 0)
        readAt(path, 0, n, data.data());
    return data;
}

void readAt(const std::string& path, uint64_t offset, uint64_t n, void* dst)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(path + ": " + std::strerror(errno));
    auto* out = static_cast<char*>(dst);
    uint64_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            const std::string why = got < 0 ? std::strerror(errno) : "unexpected end of file";
            ::close(fd);
            throw Error(path + ": read of " + std::to_string(n) + " bytes at offset " +
                        std::to_string(offset) + " failed: " + why);
        }
        done += static_cast<uint64_t>(got);
    }
    ::close(fd);
}

bool adviseWillNeed(const std::string& path, uint64_t offset, uint64_t n)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const int rc = ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(n), POSIX_FADV_WILLNEED);
    ::close(fd);
    return rc == 0;
}

std::string join(const std::string& dir, const std::string& name)
{
    return (fs::path(dir) / name).string();
}

std::string parent(const std::string& path)
{
    const fs::path p = fs::path(path).parent_path();
    return p.empty() ? std::string(".") : p.string();
}

std::string absolute(const std::string& path)
{
    std::error_code ec;
    const fs::path p = fs::absolute(path, ec);
    return (ec ? fs::path(path) : p).lexically_normal().string();
}

namespace {

thread_local std::string t_removeError; // nftw's callback has no user argument

int removeEntry(const char* path, const struct stat*, int type, struct FTW*)
{
    const int rc = type == FTW_DP ? ::rmdir(path) : ::unlink(path);
    if (rc != 0 && errno != ENOENT) {
        t_removeError = std::string(path) + ": " + std::strerror(errno);
        return 1; // stops the walk
    }
    return 0;
}

} // namespace

bool removeAll(const std::string& path, std::string* error)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return true;
        if (error)
            *error = path + ": " + std::strerror(errno);
        return false;
    }
    t_removeError.clear();
    // Depth first (contents before their folder), without following links or crossing mounts.
    const int rc = ::nftw(path.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (rc != 0) {
        if (error)
            *error = t_removeError.empty() ? path + ": " + std::strerror(errno) : t_removeError;
        return false;
    }
    return true;
}

} // namespace mpq::files
