#pragma once

#include "quant/GgmlQuants.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mpq::detail {

/// Writes a GGUF file, format version 3 (ggml's docs/gguf.md; our notes in docs/gguf.md):
///
///     "GGUF" u32 version=3 | u64 tensor count | u64 metadata count
///     metadata: string key | u32 value type | value      (strings: u64 length + bytes)
///     tensor infos: string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset
///     padding to `alignment` | tensor data, each tensor starting at a multiple of `alignment`
///
/// All integers little-endian. Tensors are declared first (name, ggml shape, type) and their
/// bytes produced while writing, one at a time, so a model never needs to be in memory whole.
/// Not thread-safe.
class GgufWriter {
public:
    /// GGUF value types.
    enum class ValueType : uint32_t {
        U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9,
        U64 = 10, I64 = 11, F64 = 12,
    };

    void setU32(const std::string& key, uint32_t v);
    void setI32(const std::string& key, int32_t v);
    void setF32(const std::string& key, float v);
    void setBool(const std::string& key, bool v);
    void setString(const std::string& key, const std::string& v);
    void setStringArray(const std::string& key, const std::vector<std::string>& v);
    void setF32Array(const std::string& key, const std::vector<float>& v);
    void setI32Array(const std::string& key, const std::vector<int32_t>& v);
    /// general.alignment (default 32); must be a power of two.
    void setAlignment(uint32_t alignment);

    /// Declares a tensor of ggml shape `ne` (ne[0] = the contiguous dimension, i.e. the columns
    /// of a [rows, cols] matrix) and type `type`; `bytes` is called once while writing and must
    /// return exactly the tensor's size. Throws mpq::Error on a duplicate name or a shape the
    /// type cannot hold.
    void addTensor(const std::string& name, const std::vector<int64_t>& ne, ggml::Type type,
                   std::function<std::vector<uint8_t>()> bytes);

    /// Bytes of a tensor of this shape and type.
    static int64_t tensorBytes(const std::vector<int64_t>& ne, ggml::Type type);

    /// Writes the file (replacing `path`). `progress(i, n)` is called before tensor i of n; it
    /// may throw (cancellation) and the partial file is then removed. Throws mpq::Error on I/O
    /// failures.
    void write(const std::string& path, const std::function<void(size_t, size_t)>& progress = {}) const;

    size_t tensorCount() const { return m_tensors.size(); }
    size_t metadataCount() const { return m_kvCount; }

private:
    struct Tensor {
        std::string name;
        std::vector<int64_t> ne;
        ggml::Type type;
        int64_t bytes = 0;
        uint64_t offset = 0;
        std::function<std::vector<uint8_t>()> produce;
    };
    void key(const std::string& k, ValueType t);

    std::vector<uint8_t> m_kv;  ///< serialized metadata
    size_t m_kvCount = 0;
    std::vector<std::string> m_keys;
    uint32_t m_alignment = 32;
    std::vector<Tensor> m_tensors;
};

} // namespace mpq::detail
