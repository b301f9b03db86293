#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// Writes a .safetensors file (8-byte header length, JSON header, raw little-endian data).
/// The file is written to "<path>.tmp" and renamed into place, so a crash never leaves a
/// half-written file under the final name.
class SafetensorsWriter {
public:
    /// dtype: "F32", "F16", "BF16", "U8", "I32" or "I64"; `data` holds the raw bytes.
    void add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
             std::string data);
    void setMetadata(const std::string& key, const std::string& value);
    /// Throws mpq::Error naming the file on failure.
    void write(const std::string& path) const;

private:
    struct Item {
        std::string name, dtype;
        std::vector<int64_t> shape;
        std::string data;
    };
    std::vector<Item> m_items;
    std::vector<std::pair<std::string, std::string>> m_metadata;
};

} // namespace mpq
