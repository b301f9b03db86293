#include "pipeline/detail/ResultStore.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "core/Files.h"
#include "model/SafetensorsFile.h"
#include "model/SafetensorsWriter.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/ResultFolder.h"
#include "pipeline/detail/QuantizedRun.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

namespace mpq {

using detail::jsonInt;
using detail::jsonIntOr;
using detail::jsonInts;
using detail::jsonValue;

bool isResultFolder(const std::string& path)
{
    return files::isDirectory(path) && files::exists(files::join(path, "result.json"));
}

std::string readResultJson(const std::string& dir)
{
    return files::readAll(files::join(dir, "result.json"));
}

std::string resultModelPath(const std::string& dir)
{
    const std::string file = files::join(dir, "result.json");
    try {
        const auto j = nlohmann::json::parse(files::readAll(file));
        if (j.value("format", "") != "mpq-result")
            throw Error(file + ": not an MPQ result (format field)");
        const int version = jsonIntOr<int>(j, "version", 0, file + ": field \"version\"");
        if (version > 1)
            throw Error(file + ": result version " + std::to_string(version) +
                        " is newer than this build understands (1)");
        return j.at("model").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(file + ": malformed result description (" + e.what() + ")");
    }
}

namespace detail {

namespace {

template <typename T>
std::string bytesOf(const at::Tensor& t)
{
    const at::Tensor c = t.cpu().contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<T>()), size_t(c.numel()) * sizeof(T));
}

std::string layerFile(const std::string& dir, int64_t layer)
{
    return files::join(files::join(dir, "layers"), layerFileName(layer));
}

} // namespace

void writeLayerResult(const std::string& dir, int64_t layer,
                      const std::vector<std::pair<std::string, QuantizedWeight>>& matrices)
{
    std::filesystem::create_directories(files::join(dir, "layers"));
    SafetensorsWriter w;
    w.setMetadata("format", "mpq-layer");
    w.setMetadata("layer", std::to_string(layer));
    for (const auto& [name, q] : matrices) {
        w.add(name + ".codes", "U8", q.codes.sizes().vec(), bytesOf<uint8_t>(q.codes.to(at::kByte)));
        w.add(name + ".scales", "F32", q.scales.sizes().vec(), bytesOf<float>(q.scales.to(at::kFloat)));
        w.add(name + ".zeros", "F32", q.zeros.sizes().vec(), bytesOf<float>(q.zeros.to(at::kFloat)));
        w.add(name + ".slot_of_column", "I32", q.slotOfColumn.sizes().vec(),
              bytesOf<int32_t>(q.slotOfColumn.to(at::kInt)));
        const at::Tensor slotBits = at::tensor(std::vector<int32_t>(q.slotBits.begin(), q.slotBits.end()),
                                               at::TensorOptions().dtype(at::kInt));
        w.add(name + ".slot_bits", "I32", {int64_t(q.slotBits.size())}, bytesOf<int32_t>(slotBits));
        if (q.groupSize > 0)
            w.setMetadata(name + ".group_size", std::to_string(q.groupSize));
    }
    w.write(layerFile(dir, layer));
}

std::vector<std::pair<std::string, QuantizedWeight>> readLayerResult(const std::string& file)
{
    std::map<std::string, std::map<std::string, at::Tensor>> parts;
    for (const TensorEntry& e : readSafetensorsHeader(file)) {
        const auto dot = e.name.rfind('.', e.name.size() - 1);
        // Names are "<tensor>.<part>" where <tensor> itself ends in ".weight".
        const auto weight = e.name.rfind(".weight.");
        if (weight == std::string::npos || dot == std::string::npos)
            throw Error(file + ": unexpected entry \"" + e.name + "\"");
        parts[e.name.substr(0, weight + 7)][e.name.substr(weight + 8)] = readEntry(e);
    }
    std::vector<std::pair<std::string, QuantizedWeight>> out;
    for (auto& [name, p] : parts) {
        for (const char* key : {"codes", "scales", "zeros", "slot_of_column", "slot_bits"})
            if (!p.count(key))
                throw Error(file + ": matrix " + name + " lacks its " + key);
        QuantizedWeight q;
        q.codes = p["codes"];
        q.scales = p["scales"];
        q.zeros = p["zeros"];
        q.slotOfColumn = p["slot_of_column"];
        const at::Tensor sb = p["slot_bits"];
        q.slotBits.assign(sb.data_ptr<int32_t>(), sb.data_ptr<int32_t>() + sb.numel());
        const int64_t rows = q.codes.size(0), cols = q.codes.size(1), slots = int64_t(q.slotBits.size());
        if (q.scales.dim() != 2 || q.scales.size(0) != rows || q.scales.size(1) != slots ||
            q.zeros.sizes() != q.scales.sizes() || q.slotOfColumn.numel() != cols)
            throw Error(file + ": matrix " + name + " has inconsistent shapes");
        const at::Tensor s = q.slotOfColumn;
        if (s.numel() && (s.min().item<int>() < 0 || s.max().item<int>() >= slots))
            throw Error(file + ": matrix " + name + " refers to a slot that does not exist");
        q.dequant = q.dequantize();
        out.emplace_back(name, std::move(q));
    }
    return out;
}

} // namespace detail
} // namespace mpq
