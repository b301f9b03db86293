// The layer files of a result folder (docs/result-folder.md): per quantized matrix <tensor>.codes,
// .scales, .zeros, .slot_of_column and .slot_bits, read and written here only.
#include "runs/detail/ResultFolderFiles.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/LlamaArch.h"
#include "model/SafetensorsFile.h"
#include "model/SafetensorsWriter.h"
#include "model/detail/WeightLoader.h"

#include <filesystem>
#include <map>

namespace mpq {

namespace {

template <typename T>
std::string bytesOf(const at::Tensor& t)
{
    const at::Tensor c = t.cpu().contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<T>()), size_t(c.numel()) * sizeof(T));
}

} // namespace

std::vector<StoredColumnBits> readLayerColumnBits(const std::string& path)
{
    const std::vector<TensorEntry> entries = readSafetensorsHeader(path);
    std::map<std::string, const TensorEntry*> byName;
    for (const auto& e : entries)
        byName[e.name] = &e;
    const auto readInts = [&](const TensorEntry& e) {
        if (e.type != StorageType::I32)
            throw Error(path + ": " + e.name + " is not I32");
        std::vector<int32_t> v(e.bytes / 4);
        files::readAt(path, e.offset, e.bytes, v.data());
        return v;
    };
    static const std::string suffix = ".slot_of_column";
    std::vector<StoredColumnBits> out;
    for (const auto& e : entries) {
        if (e.name.size() <= suffix.size() || e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string tensor = e.name.substr(0, e.name.size() - suffix.size());
        const auto bitsEntry = byName.find(tensor + ".slot_bits");
        const auto codesEntry = byName.find(tensor + ".codes");
        if (bitsEntry == byName.end() || codesEntry == byName.end() || codesEntry->second->shape.size() != 2)
            throw Error(path + ": " + tensor + " lacks slot_bits or codes");
        const std::vector<int32_t> slotOf = readInts(e);
        const std::vector<int32_t> slotBits = readInts(*bitsEntry->second);
        StoredColumnBits m;
        m.tensor = tensor;
        m.rows = codesEntry->second->shape[0];
        m.cols = codesEntry->second->shape[1];
        if (int64_t(slotOf.size()) != m.cols)
            throw Error(path + ": " + tensor + ".slot_of_column has " + std::to_string(slotOf.size()) +
                        " entries for " + std::to_string(m.cols) + " columns");
        m.columnBits.resize(slotOf.size());
        for (size_t c = 0; c < slotOf.size(); ++c) {
            const int32_t s = slotOf[c];
            if (s < 0 || size_t(s) >= slotBits.size())
                throw Error(path + ": " + tensor + ": slot index out of range");
            m.columnBits[c] = uint8_t(slotBits[size_t(s)]);
        }
        // "model.layers.3.mlp.down_proj.weight" → layer 3, down_proj; experts keep their index
        // ("model.layers.3.mlp.experts.7.up_proj.weight" → experts.7.up_proj).
        m.layer = llama::layerOf(tensor);
        if (m.layer >= 0)
            m.linear = llama::shortNameOf(tensor);
        out.push_back(std::move(m));
    }
    return out;
}

namespace detail {

void writeLayerFile(const std::string& file, int64_t layer, const QuantizedLayer& matrices)
{
    std::filesystem::create_directories(files::parent(file));
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
    w.write(file);
}

QuantizedLayer readLayerFile(const std::string& file)
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
    QuantizedLayer out;
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
