// Reads an mpq-packed export back as a stored quantization run (mpq eval, the GUI, re-export).
#include "export/detail/PackedFormat.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "core/Files.h"
#include "model/SafetensorsFile.h"
#include "model/detail/WeightLoader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace mpq::detail {

bool isPackedExport(const std::string& path)
{
    return files::isDirectory(path) && files::exists(files::join(path, packedManifestName()));
}

namespace {

class PackedRun final : public FolderRun {
public:
    explicit PackedRun(std::string dir) : FolderRun(std::move(dir))
    {
        const std::string file = files::join(m_dir, packedManifestName());
        m_planSource = file;
        try {
            const nlohmann::json j = nlohmann::json::parse(files::readAll(file));
            if (j.value("format", "") != "mpq-packed")
                throw Error(file + ": not an mpq-packed manifest (format field)");
            const int version = jsonIntOr<int>(j, "version", 0, file + ": field \"version\"");
            if (version < 1 || version > kPackedFormatVersion)
                throw Error(file + ": mpq-packed version " + std::to_string(version) +
                            " is not one this build understands (1)");
            m_model = j.at("base_model").at("path").get<std::string>();
            m_layers = jsonInts<int64_t>(j.at("layers"), file + ": field \"layers\"");
            m_method = j.value("method", std::string());
            if (j.contains("plan"))
                m_planJson = j["plan"].dump();
            if (j.contains("settings"))
                m_settings = j["settings"].dump();
            for (const auto& wf : j.at("base_model").at("weight_files")) {
                const std::string f = wf.at("file").get<std::string>();
                if (!files::exists(f))
                    throw Error(file + ": the base model's weight file " + f +
                                " is missing (the export references the base model for its unquantized tensors)");
                if (files::size(f) != jsonInt<uint64_t>(wf.at("bytes"), file + ": field \"bytes\""))
                    throw Error(file + ": the base model's weight file " + f +
                                " has changed size since the export was written");
            }
        } catch (const nlohmann::json::exception& e) {
            throw Error(file + ": malformed manifest (" + e.what() + ")");
        }
        if (m_layers.empty())
            throw Error(file + ": lists no quantized layers");
    }

    QuantizedLayer layer(int64_t index) const override
    {
        if (std::find(m_layers.begin(), m_layers.end(), index) == m_layers.end())
            throw Error(m_dir + ": decoder layer " + std::to_string(index) + " is not stored");
        const std::string file = files::join(files::join(m_dir, "layers"), layerFileName(index));
        if (!files::exists(file))
            throw Error(file + ": missing (listed in " + std::string(packedManifestName()) + ")");
        // Entries are "<tensor>.<part>", where <tensor> ends in ".weight".
        std::map<std::string, std::map<std::string, at::Tensor>> parts;
        for (const TensorEntry& e : readSafetensorsHeader(file)) {
            const auto weight = e.name.rfind(".weight.");
            if (weight == std::string::npos)
                throw Error(file + ": unexpected entry \"" + e.name + "\"");
            parts[e.name.substr(0, weight + 7)][e.name.substr(weight + 8)] = readEntry(e);
        }
        QuantizedLayer out;
        for (const auto& [tensor, p] : parts)
            out.emplace_back(tensor, readPackedMatrix(p, tensor, file));
        return out;
    }

};

} // namespace

std::unique_ptr<QuantizedRun> openPackedRun(const std::string& dir)
{
    return std::make_unique<PackedRun>(dir);
}

} // namespace mpq::detail
