#include "model/SafetensorsFile.h"

#include "core/Error.h"
#include "core/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace mpq {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20; // the format's own limit

StorageType parseDtype(const std::string& d, const std::string& file, const std::string& name)
{
    if (d == "F32")
        return StorageType::F32;
    if (d == "F16")
        return StorageType::F16;
    if (d == "BF16")
        return StorageType::BF16;
    if (d == "U8")
        return StorageType::U8;
    if (d == "I32")
        return StorageType::I32;
    throw Error(file + ": tensor \"" + name + "\" has dtype " + d +
                ", which is not supported (F32, F16, BF16, U8 and I32 are)");
}

} // namespace

std::vector<TensorEntry> readSafetensorsHeader(const std::string& file)
{
    const uint64_t fileSize = files::size(file);
    if (fileSize < 8)
        throw Error(file + ": too short to be a safetensors file (" + std::to_string(fileSize) + " bytes)");
    unsigned char lengthBytes[8];
    files::readAt(file, 0, 8, lengthBytes);
    uint64_t headerLength = 0;
    for (int i = 7; i >= 0; --i)
        headerLength = (headerLength << 8) | lengthBytes[i];
    if (headerLength > kMaxHeaderBytes)
        throw Error(file + ": header length " + std::to_string(headerLength) +
                    " bytes exceeds the safetensors limit of 100 MB (corrupt file?)");
    if (headerLength > fileSize - 8)
        throw Error(file + ": header length " + std::to_string(headerLength) +
                    " bytes runs past the end of the file (" + std::to_string(fileSize) + " bytes)");

    std::string header(headerLength, '\0');
    files::readAt(file, 8, headerLength, header.data());

    // nlohmann keeps the last of duplicate keys silently; a parser callback sees every key.
    std::set<std::string> seen;
    std::string duplicate;
    json::parser_callback_t onEvent = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1) {
            const auto key = parsed.get<std::string>();
            if (!seen.insert(key).second && duplicate.empty())
                duplicate = key;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(header, onEvent);
    } catch (const json::exception& e) {
        throw Error(file + ": header is not valid JSON (" + e.what() + ")");
    }
    if (!duplicate.empty())
        throw Error(file + ": tensor \"" + duplicate + "\" appears twice in the header");
    if (!j.is_object())
        throw Error(file + ": header is not a JSON object");

    const uint64_t dataStart = 8 + headerLength;
    const uint64_t dataSize = fileSize - dataStart;
    std::vector<TensorEntry> entries;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__")
            continue;
        const json& t = it.value();
        auto bad = [&](const std::string& what) {
            return Error(file + ": tensor \"" + name + "\": " + what);
        };
        if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
            throw bad("entry must have dtype, shape and data_offsets");
        if (!t["dtype"].is_string() || !t["shape"].is_array() || !t["data_offsets"].is_array() ||
            t["data_offsets"].size() != 2)
            throw bad("malformed dtype, shape or data_offsets");
        TensorEntry e;
        e.name = name;
        e.file = file;
        e.type = parseDtype(t["dtype"].get<std::string>(), file, name);
        uint64_t elements = 1;
        for (const json& d : t["shape"]) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                throw bad("shape entries must be non-negative integers");
            const auto dim = d.get<uint64_t>();
            if (dim != 0 && elements > (uint64_t(1) << 48) / dim)
                throw bad("shape is implausibly large");
            elements *= dim;
            e.shape.push_back(static_cast<int64_t>(dim));
        }
        const json& off = t["data_offsets"];
        if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw bad("data_offsets must be non-negative integers");
        const auto begin = off[0].get<uint64_t>();
        const auto end = off[1].get<uint64_t>();
        if (begin > end || end > dataSize)
            throw bad("data range [" + std::to_string(begin) + ", " + std::to_string(end) +
                      ") lies outside the data section (" + std::to_string(dataSize) + " bytes)");
        e.bytes = end - begin;
        if (e.bytes != elements * storageTypeSize(e.type))
            throw bad("data range holds " + std::to_string(e.bytes) + " bytes but the shape needs " +
                      std::to_string(elements * storageTypeSize(e.type)));
        e.offset = dataStart + begin;
        entries.push_back(std::move(e));
    }

    std::vector<const TensorEntry*> byOffset;
    for (const auto& e : entries)
        if (e.bytes > 0)
            byOffset.push_back(&e);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorEntry* a, const TensorEntry* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < byOffset.size(); ++i)
        if (byOffset[i - 1]->offset + byOffset[i - 1]->bytes > byOffset[i]->offset)
            throw Error(file + ": tensors \"" + byOffset[i - 1]->name + "\" and \"" +
                        byOffset[i]->name + "\" overlap in the data section");
    return entries;
}

} // namespace mpq
