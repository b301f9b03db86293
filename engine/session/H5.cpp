#include "session/detail/H5.h"

#include "core/Error.h"
#include "session/detail/Sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace mpq::h5 {

namespace {

/// Silences HDF5's automatic error printing (errors become exceptions instead).
void initLibrary()
{
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

/// The innermost message of HDF5's error stack, if any.
std::string hdf5Message()
{
    std::string msg;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
            auto* out = static_cast<std::string*>(data);
            if (n == 0 && e && e->desc)
                *out = e->desc;
            return 0;
        },
        &msg);
    H5Eclear2(H5E_DEFAULT);
    return msg;
}

template <typename T>
hid_t nativeType()
{
    if constexpr (std::is_same_v<T, uint8_t>)
        return H5T_NATIVE_UINT8;
    else if constexpr (std::is_same_v<T, int32_t>)
        return H5T_NATIVE_INT32;
    else if constexpr (std::is_same_v<T, int64_t>)
        return H5T_NATIVE_INT64;
    else if constexpr (std::is_same_v<T, float>)
        return H5T_NATIVE_FLOAT;
    else
        return H5T_NATIVE_DOUBLE;
}

/// A file access list without HDF5's own file locks: sessions are replaced by rename, never
/// written in place, and the session code takes its own lock for writers.
Id accessList(const std::string& path)
{
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), path);
    check(fapl.get(), path, "cannot create a file access list");
    check(H5Pset_file_locking(fapl.get(), false, true), path, "cannot configure file locking");
    return fapl;
}

Id stringType(size_t bytes, const std::string& file)
{
    Id t(H5Tcopy(H5T_C_S1), file);
    check(t.get(), file, "cannot create a string type");
    check(H5Tset_size(t.get(), std::max<size_t>(1, bytes)), file, "cannot size a string type");
    check(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), file, "cannot set string padding");
    check(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "cannot set the string character set");
    return t;
}

} // namespace

std::recursive_mutex& libraryMutex()
{
    static std::recursive_mutex m;
    static const bool once = (initLibrary(), true);
    (void)once;
    return m;
}

Id::Id(const Id& o) : m_id(o.m_id), m_file(o.m_file)
{
    if (m_id >= 0)
        H5Iinc_ref(m_id);
}

Id& Id::operator=(const Id& o)
{
    if (this != &o) {
        release();
        m_id = o.m_id;
        m_file = o.m_file;
        if (m_id >= 0)
            H5Iinc_ref(m_id);
    }
    return *this;
}

Id::Id(Id&& o) noexcept : m_id(o.m_id), m_file(std::move(o.m_file)) { o.m_id = -1; }

Id& Id::operator=(Id&& o) noexcept
{
    if (this != &o) {
        release();
        m_id = o.m_id;
        m_file = std::move(o.m_file);
        o.m_id = -1;
    }
    return *this;
}

Id::~Id() { release(); }

void Id::release()
{
    if (m_id >= 0) {
        std::lock_guard<std::recursive_mutex> lock(libraryMutex());
        H5Idec_ref(m_id);
        m_id = -1;
    }
}

void check(int64_t status, const std::string& file, const std::string& what)
{
    if (status < 0) {
        const std::string detail = hdf5Message();
        const std::string message = file + ": " + what + (detail.empty() ? "" : " (HDF5: " + detail + ")");
        if (detail.find("checksum") != std::string::npos)
            throw ChecksumError(message); // a metadata checksum (HDF5 1.8+ structures)
        throw Error(message);
    }
}

void rethrowIn(const Error& e, const std::string& file, const std::string& context)
{
    std::string what = e.what();
    if (what.rfind(file + ": ", 0) == 0)
        what.erase(0, file.size() + 2);
    const std::string message = file + ": " + context + ": " + what;
    if (dynamic_cast<const ChecksumError*>(&e))
        throw ChecksumError(message);
    throw Error(message);
}

Id createFile(const std::string& path)
{
    libraryMutex();
    Id fapl = accessList(path);
    // HDF5 1.8+ structures (superblock v2, object header v2, new-style groups): every piece of
    // metadata -- groups, attributes, dataset headers, compact data -- carries a Jenkins checksum
    // that HDF5 verifies on read. Raw data is covered by Fletcher-32 (writeArray) and text by
    // SHA-256 (writeText). Readable by HDF5 1.8 and newer.
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), path,
          "cannot choose the file format version");
    Id f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), path);
    check(f.get(), path, "cannot create the file");
    return f;
}

Id openFile(const std::string& path, bool writable)
{
    libraryMutex();
    Id fapl = accessList(path);
    Id f(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()), path);
    check(f.get(), path, "cannot open it as HDF5 (damaged or truncated?)");
    return f;
}

void closeAndSync(Id& file, const std::string& path)
{
    check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), path, "cannot flush");
    file = Id();
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
        if (fd >= 0)
            ::close(fd);
        throw Error(path + ": cannot sync to disk (" + std::strerror(errno) + ")");
    }
    ::close(fd);
}

bool exists(const Id& loc, const std::string& path)
{
    // H5Lexists checks one link at a time: walk the path.
    std::string prefix;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t slash = path.find('/', start);
        const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        prefix += (prefix.empty() ? "" : "/") + part;
        const htri_t e = H5Lexists(loc.get(), prefix.c_str(), H5P_DEFAULT);
        if (e <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    return true;
}

Id openGroup(const Id& loc, const std::string& path)
{
    Id g(H5Gopen2(loc.get(), path.c_str(), H5P_DEFAULT), loc.file());
    check(g.get(), loc.file(), "cannot open group \"" + path + "\"");
    return g;
}

Id createGroup(const Id& loc, const std::string& name)
{
    Id g(H5Gcreate2(loc.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), loc.file());
    check(g.get(), loc.file(), "cannot create group \"" + name + "\"");
    return g;
}

Id openOrCreateGroup(const Id& loc, const std::string& name)
{
    return exists(loc, name) ? openGroup(loc, name) : createGroup(loc, name);
}

std::vector<std::string> children(const Id& group)
{
    std::vector<std::string> names;
    check(H5Literate(
              group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
              [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
                  static_cast<std::vector<std::string>*>(data)->push_back(name);
                  return 0;
              },
              &names),
          group.file(), "cannot list a group");
    return names;
}

void copy(const Id& srcLoc, const std::string& srcName, const Id& dstLoc, const std::string& dstName)
{
    check(H5Ocopy(srcLoc.get(), srcName.c_str(), dstLoc.get(), dstName.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          dstLoc.file(), "cannot copy \"" + srcName + "\" from " + srcLoc.file());
}

void hardLink(const Id& loc, const std::string& target, const std::string& name)
{
    check(H5Lcreate_hard(loc.get(), target.c_str(), loc.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), loc.file(),
          "cannot link \"" + name + "\"");
}

namespace {

void writeAttr(const Id& obj, const std::string& name, hid_t type, const void* value)
{
    if (H5Aexists(obj.get(), name.c_str()) > 0)
        check(H5Adelete(obj.get(), name.c_str()), obj.file(), "cannot replace attribute " + name);
    Id space(H5Screate(H5S_SCALAR), obj.file());
    Id a(H5Acreate2(obj.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), obj.file());
    check(a.get(), obj.file(), "cannot create attribute " + name);
    check(H5Awrite(a.get(), type, value), obj.file(), "cannot write attribute " + name);
}

/// The attribute, or an invalid Id when it does not exist.
Id openAttr(const Id& obj, const std::string& name)
{
    const htri_t e = H5Aexists(obj.get(), name.c_str());
    check(e, obj.file(), "cannot look up attribute " + name);
    if (e == 0)
        return Id();
    Id a(H5Aopen(obj.get(), name.c_str(), H5P_DEFAULT), obj.file());
    check(a.get(), obj.file(), "cannot open attribute " + name);
    return a;
}

template <typename T>
T readScalarAttr(const Id& obj, const std::string& name, T fallback)
{
    Id a = openAttr(obj, name);
    if (!a.valid())
        return fallback;
    Id space(H5Aget_space(a.get()), obj.file());
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        throw Error(obj.file() + ": attribute " + name + " is not a single value");
    Id type(H5Aget_type(a.get()), obj.file());
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        throw Error(obj.file() + ": attribute " + name + " is not a number");
    T v{};
    check(H5Aread(a.get(), nativeType<T>(), &v), obj.file(), "cannot read attribute " + name);
    return v;
}

std::string readStringFrom(hid_t obj, bool isAttr, const std::string& file, const std::string& name)
{
    Id type(isAttr ? H5Aget_type(obj) : H5Dget_type(obj), file);
    check(type.get(), file, "cannot read the type of " + name);
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw Error(file + ": " + name + " is not text");
    if (H5Tis_variable_str(type.get()) > 0) {
        Id mem = stringType(1, file);
        check(H5Tset_size(mem.get(), H5T_VARIABLE), file, "cannot size a string type");
        char* p = nullptr;
        check(isAttr ? H5Aread(obj, mem.get(), &p) : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p), file,
              "cannot read " + name);
        std::string s = p ? p : "";
        H5free_memory(p);
        return s;
    }
    const size_t n = H5Tget_size(type.get());
    Id space(isAttr ? H5Aget_space(obj) : H5Dget_space(obj), file);
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        throw Error(file + ": " + name + " is not a single text");
    std::string s(n, '\0');
    Id mem = stringType(n, file);
    check(isAttr ? H5Aread(obj, mem.get(), s.data())
                 : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data()),
          file, "cannot read " + name);
    const size_t nul = s.find('\0');
    if (nul != std::string::npos)
        s.resize(nul);
    return s;
}

} // namespace

void setAttr(const Id& obj, const std::string& name, const std::string& value)
{
    Id t = stringType(value.size(), obj.file());
    std::string padded = value;
    padded.resize(std::max<size_t>(1, value.size()), '\0');
    writeAttr(obj, name, t.get(), padded.data());
}

void setAttr(const Id& obj, const std::string& name, int64_t value)
{
    writeAttr(obj, name, H5T_NATIVE_INT64, &value);
}

void setAttr(const Id& obj, const std::string& name, double value)
{
    writeAttr(obj, name, H5T_NATIVE_DOUBLE, &value);
}

bool hasAttr(const Id& obj, const std::string& name)
{
    return H5Aexists(obj.get(), name.c_str()) > 0;
}

std::string attrString(const Id& obj, const std::string& name, const std::string& fallback)
{
    Id a = openAttr(obj, name);
    if (!a.valid())
        return fallback;
    return readStringFrom(a.get(), true, obj.file(), "attribute " + name);
}

int64_t attrInt(const Id& obj, const std::string& name, int64_t fallback)
{
    return readScalarAttr<int64_t>(obj, name, fallback);
}

double attrDouble(const Id& obj, const std::string& name, double fallback)
{
    return readScalarAttr<double>(obj, name, fallback);
}

template <typename T>
void writeArray(const Id& loc, const std::string& name, const T* data, const std::vector<int64_t>& dims)
{
    std::vector<hsize_t> d(dims.begin(), dims.end());
    Id space(H5Screate_simple(int(d.size()), d.data(), nullptr), loc.file());
    check(space.get(), loc.file(), "cannot describe dataset " + name);
    size_t n = 1;
    for (hsize_t x : d)
        n *= size_t(x);
    // Non-empty arrays are chunked with HDF5's Fletcher-32 filter: a read of a chunk whose bytes
    // changed fails (checksumError() tells that failure apart). Chunks of whole rows, up to
    // ~4 MiB each, so that a damaged chunk costs one read and the checksum work stays cheap.
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), loc.file());
    check(dcpl.get(), loc.file(), "cannot create a dataset creation list");
    if (n > 0 && !d.empty()) {
        std::vector<hsize_t> chunk = d;
        size_t rowElems = 1;
        for (size_t i = 1; i < d.size(); ++i)
            rowElems *= size_t(d[i]);
        const size_t maxElems = std::max<size_t>(1, (size_t(4) << 20) / sizeof(T));
        chunk[0] = hsize_t(std::clamp<size_t>(maxElems / std::max<size_t>(1, rowElems), 1, size_t(d[0])));
        // HDF5 limits one chunk to 4 GiB; rows longer than that are split too.
        for (size_t i = 1; i < d.size() && size_t(chunk[0]) * rowElems > maxElems * 64; ++i) {
            rowElems /= size_t(d[i]);
            chunk[i] = hsize_t(std::clamp<size_t>(maxElems / std::max<size_t>(1, rowElems), 1, size_t(d[i])));
            rowElems *= size_t(chunk[i]);
        }
        check(H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()), loc.file(), "cannot chunk dataset " + name);
        check(H5Pset_fletcher32(dcpl.get()), loc.file(), "cannot add a checksum to dataset " + name);
    }
    Id ds(H5Dcreate2(loc.get(), name.c_str(), nativeType<T>(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
          loc.file());
    check(ds.get(), loc.file(), "cannot create dataset " + name);
    if (n > 0)
        check(H5Dwrite(ds.get(), nativeType<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), loc.file(),
              "cannot write dataset " + name);
}

template <typename T>
std::vector<T> readArray(const Id& loc, const std::string& name, std::vector<int64_t>* dims)
{
    Id ds(H5Dopen2(loc.get(), name.c_str(), H5P_DEFAULT), loc.file());
    check(ds.get(), loc.file(), "cannot open dataset " + name);
    Id type(H5Dget_type(ds.get()), loc.file());
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        throw Error(loc.file() + ": dataset " + name + " is not numeric");
    Id space(H5Dget_space(ds.get()), loc.file());
    const int rank = H5Sget_simple_extent_ndims(space.get());
    check(rank, loc.file(), "cannot read the shape of " + name);
    std::vector<hsize_t> d(size_t(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    size_t n = 1;
    for (hsize_t x : d)
        n *= size_t(x);
    std::vector<T> out(n);
    if (n > 0 && H5Dread(ds.get(), nativeType<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
        const std::string detail = hdf5Message();
        if (detail.find("checksum") != std::string::npos || detail.find("Fletcher") != std::string::npos ||
            detail.find("filter") != std::string::npos)
            throw ChecksumError(loc.file() + ": dataset " + name + " fails its checksum (its stored bytes changed)");
        throw Error(loc.file() + ": cannot read dataset " + name + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
    }
    if (dims)
        dims->assign(d.begin(), d.end());
    return out;
}

template void writeArray<uint8_t>(const Id&, const std::string&, const uint8_t*, const std::vector<int64_t>&);
template void writeArray<int32_t>(const Id&, const std::string&, const int32_t*, const std::vector<int64_t>&);
template void writeArray<int64_t>(const Id&, const std::string&, const int64_t*, const std::vector<int64_t>&);
template void writeArray<float>(const Id&, const std::string&, const float*, const std::vector<int64_t>&);
template void writeArray<double>(const Id&, const std::string&, const double*, const std::vector<int64_t>&);
template std::vector<uint8_t> readArray<uint8_t>(const Id&, const std::string&, std::vector<int64_t>*);
template std::vector<int32_t> readArray<int32_t>(const Id&, const std::string&, std::vector<int64_t>*);
template std::vector<int64_t> readArray<int64_t>(const Id&, const std::string&, std::vector<int64_t>*);
template std::vector<float> readArray<float>(const Id&, const std::string&, std::vector<int64_t>*);
template std::vector<double> readArray<double>(const Id&, const std::string&, std::vector<int64_t>*);

void writeText(const Id& loc, const std::string& name, const std::string& text)
{
    // Text is a scalar dataset (no chunks, so no Fletcher-32): its SHA-256 goes beside it as an
    // attribute, which the checksummed object header covers.
    Id t = stringType(text.size(), loc.file());
    Id space(H5Screate(H5S_SCALAR), loc.file());
    Id ds(H5Dcreate2(loc.get(), name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          loc.file());
    check(ds.get(), loc.file(), "cannot create text " + name);
    std::string padded = text;
    padded.resize(std::max<size_t>(1, text.size()), '\0');
    check(H5Dwrite(ds.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, padded.data()), loc.file(),
          "cannot write text " + name);
    setAttr(ds, "sha256", session::detail::sha256(text));
}

std::string readText(const Id& loc, const std::string& name, const std::string& fallback)
{
    if (!exists(loc, name))
        return fallback;
    Id ds(H5Dopen2(loc.get(), name.c_str(), H5P_DEFAULT), loc.file());
    check(ds.get(), loc.file(), "cannot open text " + name);
    std::string text = readStringFrom(ds.get(), false, loc.file(), name);
    const std::string want = attrString(ds, "sha256"); // absent in schema version 1 files
    if (!want.empty() && want != session::detail::sha256(text))
        throw ChecksumError(loc.file() + ": text " + name + " fails its checksum (its stored bytes changed)");
    return text;
}

void verifyTree(const Id& group)
{
    for (const std::string& name : children(group)) {
        H5O_info_t info{};
        check(H5Oget_info_by_name2(group.get(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), group.file(),
              "cannot inspect \"" + name + "\"");
        if (info.type == H5O_TYPE_GROUP) {
            try {
                verifyTree(openGroup(group, name));
            } catch (const Error& e) {
                rethrowIn(e, group.file(), name); // "<file>: q_proj: dataset codes fails ..."
            }
        } else if (info.type == H5O_TYPE_DATASET) {
            Id ds(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), group.file());
            check(ds.get(), group.file(), "cannot open dataset " + name);
            Id type(H5Dget_type(ds.get()), group.file());
            check(type.get(), group.file(), "cannot read the type of dataset " + name);
            if (H5Tget_class(type.get()) == H5T_STRING)
                readText(group, name);
            else
                readArray<double>(group, name);
        }
    }
}

} // namespace mpq::h5
