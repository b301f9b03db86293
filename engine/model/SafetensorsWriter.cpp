#include "model/SafetensorsWriter.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

namespace mpq {

void SafetensorsWriter::add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
                            std::string data)
{
    m_items.push_back({name, dtype, std::move(shape), std::move(data)});
}

void SafetensorsWriter::setMetadata(const std::string& key, const std::string& value)
{
    m_metadata.emplace_back(key, value);
}

void SafetensorsWriter::write(const std::string& path) const
{
    nlohmann::ordered_json header;
    if (!m_metadata.empty()) {
        nlohmann::ordered_json meta;
        for (const auto& [k, v] : m_metadata)
            meta[k] = v;
        header["__metadata__"] = meta;
    }
    uint64_t offset = 0;
    for (const auto& it : m_items) {
        header[it.name] = {{"dtype", it.dtype}, {"shape", it.shape},
                           {"data_offsets", {offset, offset + it.data.size()}}};
        offset += it.data.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' '); // keep the data section 8-byte aligned
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error(tmp + ": cannot create");
        uint64_t n = text.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i)
            len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(text.data(), std::streamsize(text.size()));
        for (const auto& it : m_items)
            out.write(it.data.data(), std::streamsize(it.data.size()));
        out.flush();
        if (!out)
            throw Error(tmp + ": write failed (disk full?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw Error(path + ": cannot rename the temporary file into place");
}

} // namespace mpq
