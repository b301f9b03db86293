#pragma once

// A small RAII layer over HDF5's C API (HighFive is not in Debian 12): handles close in
// destructors, every failure becomes an mpq::Error naming the file, and HDF5's own error
// printing is switched off. Only engine/session uses it.

#include "core/Error.h"
#include "core/SettingError.h"

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace mpq::h5 {

/// HDF5 (Debian's serial build) is not thread-safe: every use in the engine holds this lock.
std::recursive_mutex& libraryMutex();

/// One HDF5 identifier of any kind (file, group, dataset, attribute, space, type, list), closed
/// by H5Idec_ref when the last copy goes.
class Id {
public:
    Id() = default;
    Id(hid_t id, std::string file) : m_id(id), m_file(std::move(file)) {}
    Id(const Id& o);
    Id& operator=(const Id& o);
    Id(Id&& o) noexcept;
    Id& operator=(Id&& o) noexcept;
    ~Id();

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    /// The file it belongs to, for messages.
    const std::string& file() const { return m_file; }

private:
    void release();
    hid_t m_id = -1;
    std::string m_file;
};

/// Stored bytes that fail their checksum (Fletcher-32 of a dataset's chunks, SHA-256 of a text):
/// the file was damaged after it was written. It may name the settings that repair the damage
/// (e.g. "resume": resuming the run recomputes a damaged layer), as a SettingError does.
class ChecksumError : public SettingError {
public:
    explicit ChecksumError(const std::string& message, std::vector<std::string> settings = {})
        : SettingError(std::move(settings), message) {}
};

/// Rethrows `e` (keeping ChecksumError a ChecksumError) with "<file>: <context>: " in front of
/// its message, where a leading "<file>: " of the original is dropped.
[[noreturn]] void rethrowIn(const Error& e, const std::string& file, const std::string& context);

/// Throws mpq::Error "<file>: <what>: <HDF5's innermost message>" when status < 0.
void check(int64_t status, const std::string& file, const std::string& what);

/// Files. Creating truncates; opening checks that the file is HDF5 at all.
Id createFile(const std::string& path);
Id openFile(const std::string& path, bool writable = false);
/// Flushes and closes `file`, then fsyncs it: after this the bytes are on disk.
void closeAndSync(Id& file, const std::string& path);

/// Groups ("a/b" paths relative to `loc`).
bool exists(const Id& loc, const std::string& path);
Id openGroup(const Id& loc, const std::string& path);
Id createGroup(const Id& loc, const std::string& name);
Id openOrCreateGroup(const Id& loc, const std::string& name);
/// Names of the links directly below a group, in name order.
std::vector<std::string> children(const Id& group);
/// Deep copy of an object (group or dataset) from one place to another, across files.
void copy(const Id& srcLoc, const std::string& srcName, const Id& dstLoc, const std::string& dstName);
/// A second name for an existing object in the same file.
void hardLink(const Id& loc, const std::string& target, const std::string& name);

/// Attributes (scalars and strings). Readers take a default for a missing attribute.
void setAttr(const Id& obj, const std::string& name, const std::string& value);
void setAttr(const Id& obj, const std::string& name, int64_t value);
void setAttr(const Id& obj, const std::string& name, double value);
inline void setAttr(const Id& obj, const std::string& name, const char* value) { setAttr(obj, name, std::string(value)); }
inline void setAttr(const Id& obj, const std::string& name, int value) { setAttr(obj, name, int64_t(value)); }
inline void setAttr(const Id& obj, const std::string& name, bool value) { setAttr(obj, name, int64_t(value)); }
bool hasAttr(const Id& obj, const std::string& name);
std::string attrString(const Id& obj, const std::string& name, const std::string& fallback = {});
int64_t attrInt(const Id& obj, const std::string& name, int64_t fallback = 0);
double attrDouble(const Id& obj, const std::string& name, double fallback = 0);

/// Numeric datasets: element types uint8, int32, int64, float, double; dims in row-major order.
template <typename T>
void writeArray(const Id& loc, const std::string& name, const T* data, const std::vector<int64_t>& dims);
template <typename T>
void writeArray(const Id& loc, const std::string& name, const std::vector<T>& data)
{
    writeArray(loc, name, data.data(), {int64_t(data.size())});
}
/// Reads a whole dataset (converted to T); `dims` receives its shape. Throws when missing, and
/// ChecksumError when a chunk fails its Fletcher-32 checksum.
template <typename T>
std::vector<T> readArray(const Id& loc, const std::string& name, std::vector<int64_t>* dims = nullptr);
/// Text of any length (JSON, names) as a scalar string dataset.
void writeText(const Id& loc, const std::string& name, const std::string& text);
/// Throws ChecksumError when the text no longer matches its stored SHA-256.
std::string readText(const Id& loc, const std::string& name, const std::string& fallback = {});
/// Reads every dataset below `group` (recursively), so that each checksum is verified. Throws
/// ChecksumError (or mpq::Error for other damage) naming the file and dataset.
void verifyTree(const Id& group);

} // namespace mpq::h5
