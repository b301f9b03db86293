// "hf" export: a Hugging Face LLaMA folder with the dequantized weights (docs/export-formats.md).
#include "export/detail/ExportFolder.h"
#include "export/detail/FormatWriters.h"
#include "export/detail/RunTensors.h"
#include "model/detail/WeightLoader.h"

namespace mpq::detail {

void writeHfExport(const QuantizedRun& run, const ModelSource& source, const ExportParams& params,
                   const std::string& dir, JobContext& ctx, ExportReport& report)
{
    const at::ScalarType dtype = parseExportDtype(params.dtype);
    ShardedWeights weights(dir, params.maxShardBytes);
    const at::Device cpu(at::kCPU);
    report.quantizedMatrices = visitRunTensors(
        run, source, ctx,
        [&](const std::string& name, const QuantizedWeight* q) {
            // Ŵ is computed in fp32 and rounded once to the export dtype; other tensors are read
            // in fp32 (llama2.c's q/k rotary order undone) and rounded the same way.
            weights.add(name, q ? (q->dequant.defined() ? q->dequant : q->dequantize()).to(at::kFloat).to(dtype) : loadTensor(source, name, dtype, cpu));
        },
        report.warnings);
    report.tensors = weights.tensors();
    report.files = weights.finish();
    writeTextFile(dir, "config.json", exportConfigJson(source, torchDtypeName(dtype)));
    report.files.push_back("config.json");
    for (const std::string& f : copyTokenizerFiles(source, dir, report.warnings))
        report.files.push_back(f);
}

} // namespace mpq::detail
