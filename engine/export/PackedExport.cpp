// "mpq-packed" export: the run's matrices with per-column bit-widths, densely packed, and a
// manifest that references the base model for everything that is not quantized.
#include "export/detail/ExportFolder.h"
#include "export/detail/FormatWriters.h"
#include "export/detail/PackedFormat.h"
#include "export/detail/RunTensors.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/SafetensorsFile.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace mpq::detail {

void writePackedExport(const QuantizedRun& run, const ModelSource& source, const ExportParams&,
                       const std::string& dir, JobContext& ctx, ExportReport& report)
{
    std::filesystem::create_directories(files::join(dir, "layers"));
    const ModelConfig& c = source.config();
    double codeBits = 0, weights = 0;
    std::vector<int64_t> layers;
    for (int64_t i : run.layers()) {
        ctx.checkCancelled();
        if (i < 0 || i >= c.numLayers)
            throw Error(run.describe() + ": stores decoder layer " + std::to_string(i) + " but the base model " +
                        source.path() + " has " + std::to_string(c.numLayers));
        SafetensorsWriter w;
        w.setMetadata("format", "mpq-packed-layer");
        w.setMetadata("layer", std::to_string(i));
        for (const auto& [name, q] : run.layer(i)) {
            if (!source.hasTensor(name) || source.tensor(name).shape != q.codes.sizes().vec())
                throw Error(run.describe() + ": matrix " + name + " is not a tensor of that shape in the base model " +
                            source.path());
            addPackedMatrix(w, name, q);
            codeBits += q.codeBits() * double(q.codes.numel());
            weights += double(q.codes.numel());
            ++report.quantizedMatrices;
        }
        w.write(files::join(files::join(dir, "layers"), layerFileName(i)));
        report.files.push_back("layers/" + layerFileName(i));
        layers.push_back(i);
        ctx.report(int64_t(layers.size()), int64_t(run.layers().size()), "layers", "layer " + std::to_string(i));
    }
    if (layers.empty())
        throw Error(run.describe() + ": the run stores no quantized layers; nothing to export");

    nlohmann::ordered_json base;
    base["path"] = source.path();
    base["format"] = source.format() == ModelFormat::HuggingFace ? "hf" : "llama2c";
    base["num_layers"] = c.numLayers;
    base["hidden_size"] = c.hiddenSize;
    base["intermediate_size"] = c.intermediateSize;
    base["vocab_size"] = c.vocabSize;
    nlohmann::ordered_json weightFiles = nlohmann::ordered_json::array();
    for (const std::string& f : source.weightFiles())
        weightFiles.push_back({{"file", f}, {"bytes", files::size(f)}});
    base["weight_files"] = weightFiles;

    nlohmann::ordered_json m;
    m["format"] = "mpq-packed";
    m["version"] = kPackedFormatVersion;
    m["base_model"] = base;
    m["source_run"] = run.describe();
    m["method"] = run.method();
    m["settings"] = nlohmann::ordered_json::parse(run.settingsJson());
    m["plan"] = nlohmann::ordered_json::parse(run.plan().toJson());
    m["layers"] = layers;
    m["matrices"] = report.quantizedMatrices;
    m["avg_code_bits"] = weights > 0 ? codeBits / weights : 0.0;
    writeTextFile(dir, packedManifestName(), m.dump(2) + "\n");
    report.files.insert(report.files.begin(), packedManifestName());
    // Count what was written rather than estimating it.
    report.tensors = 0;
    for (const std::string& f : report.files)
        if (f.rfind("layers/", 0) == 0)
            report.tensors += int64_t(readSafetensorsHeader(files::join(dir, f)).size());
}

} // namespace mpq::detail
