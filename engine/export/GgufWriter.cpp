// GGUF v3 serialisation (docs/gguf.md).
#include "export/detail/GgufWriter.h"

#include "core/Error.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mpq::detail {

namespace {

void putU32(std::vector<uint8_t>& b, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        b.push_back(uint8_t(v >> (8 * i)));
}
void putU64(std::vector<uint8_t>& b, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        b.push_back(uint8_t(v >> (8 * i)));
}
void putF32(std::vector<uint8_t>& b, float f)
{
    uint32_t v;
    std::memcpy(&v, &f, 4);
    putU32(b, v);
}
void putString(std::vector<uint8_t>& b, const std::string& s)
{
    putU64(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}
uint64_t alignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

} // namespace

void GgufWriter::key(const std::string& k, ValueType t)
{
    if (std::find(m_keys.begin(), m_keys.end(), k) != m_keys.end())
        throw Error("GGUF: metadata key \"" + k + "\" set twice");
    m_keys.push_back(k);
    putString(m_kv, k);
    putU32(m_kv, uint32_t(t));
    ++m_kvCount;
}

void GgufWriter::setU32(const std::string& k, uint32_t v)
{
    key(k, ValueType::U32);
    putU32(m_kv, v);
}
void GgufWriter::setI32(const std::string& k, int32_t v)
{
    key(k, ValueType::I32);
    putU32(m_kv, uint32_t(v));
}
void GgufWriter::setF32(const std::string& k, float v)
{
    key(k, ValueType::F32);
    putF32(m_kv, v);
}
void GgufWriter::setBool(const std::string& k, bool v)
{
    key(k, ValueType::Bool);
    m_kv.push_back(v ? 1 : 0);
}
void GgufWriter::setString(const std::string& k, const std::string& v)
{
    key(k, ValueType::String);
    putString(m_kv, v);
}
void GgufWriter::setStringArray(const std::string& k, const std::vector<std::string>& v)
{
    key(k, ValueType::Array);
    putU32(m_kv, uint32_t(ValueType::String));
    putU64(m_kv, v.size());
    for (const auto& s : v)
        putString(m_kv, s);
}
void GgufWriter::setF32Array(const std::string& k, const std::vector<float>& v)
{
    key(k, ValueType::Array);
    putU32(m_kv, uint32_t(ValueType::F32));
    putU64(m_kv, v.size());
    for (float f : v)
        putF32(m_kv, f);
}
void GgufWriter::setI32Array(const std::string& k, const std::vector<int32_t>& v)
{
    key(k, ValueType::Array);
    putU32(m_kv, uint32_t(ValueType::I32));
    putU64(m_kv, v.size());
    for (int32_t x : v)
        putU32(m_kv, uint32_t(x));
}
void GgufWriter::setAlignment(uint32_t alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)))
        throw Error("GGUF: the alignment must be a power of two");
    setU32("general.alignment", alignment);
    m_alignment = alignment;
}

int64_t GgufWriter::tensorBytes(const std::vector<int64_t>& ne, ggml::Type type)
{
    if (ne.empty())
        throw Error("GGUF: a tensor needs at least one dimension");
    int64_t rows = 1;
    for (size_t i = 1; i < ne.size(); ++i)
        rows *= ne[i];
    if (!ggml::fitsRow(type, ne[0]))
        throw Error("GGUF: rows of " + std::to_string(ne[0]) + " cannot be stored as " + ggml::typeName(type));
    return rows * ggml::rowBytes(type, ne[0]);
}

void GgufWriter::addTensor(const std::string& name, const std::vector<int64_t>& ne, ggml::Type type,
                           std::function<std::vector<uint8_t>()> bytes)
{
    for (const auto& t : m_tensors)
        if (t.name == name)
            throw Error("GGUF: tensor \"" + name + "\" added twice");
    Tensor t{name, ne, type, tensorBytes(ne, type), 0, std::move(bytes)};
    uint64_t offset = 0;
    if (!m_tensors.empty())
        offset = alignUp(m_tensors.back().offset + uint64_t(m_tensors.back().bytes), m_alignment);
    t.offset = offset;
    m_tensors.push_back(std::move(t));
}

void GgufWriter::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const
{
    // Offsets were computed with the alignment at the time of each addTensor(); recompute them so
    // that a later setAlignment() is honoured too.
    std::vector<uint64_t> offsets(m_tensors.size());
    uint64_t end = 0;
    for (size_t i = 0; i < m_tensors.size(); ++i) {
        offsets[i] = alignUp(end, m_alignment);
        end = offsets[i] + uint64_t(m_tensors[i].bytes);
    }

    std::vector<uint8_t> head;
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    putU32(head, 3);
    putU64(head, m_tensors.size());
    putU64(head, m_kvCount);
    head.insert(head.end(), m_kv.begin(), m_kv.end());
    for (size_t i = 0; i < m_tensors.size(); ++i) {
        const Tensor& t = m_tensors[i];
        putString(head, t.name);
        putU32(head, uint32_t(t.ne.size()));
        for (int64_t d : t.ne)
            putU64(head, uint64_t(d));
        putU32(head, uint32_t(t.type));
        putU64(head, offsets[i]);
    }
    head.resize(size_t(alignUp(head.size(), m_alignment)), 0);

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
    } guard{path};
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(path + ": cannot create the file");
    out.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
    uint64_t pos = 0;
    const std::vector<char> zeros(m_alignment, 0);
    for (size_t i = 0; i < m_tensors.size(); ++i) {
        if (progress)
            progress(i, m_tensors.size());
        const Tensor& t = m_tensors[i];
        out.write(zeros.data(), std::streamsize(offsets[i] - pos));
        const std::vector<uint8_t> data = t.produce();
        if (int64_t(data.size()) != t.bytes)
            throw Error("GGUF: tensor " + t.name + " produced " + std::to_string(data.size()) + " bytes, " +
                        std::to_string(t.bytes) + " expected");
        out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
        pos = offsets[i] + uint64_t(t.bytes);
        if (!out)
            throw Error(path + ": write failed (disk full?)");
    }
    out.close();
    if (!out)
        throw Error(path + ": write failed");
    guard.keep = true;
}

} // namespace mpq::detail
