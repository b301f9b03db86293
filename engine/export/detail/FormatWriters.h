#pragma once

#include "export/Export.h"
#include "model/ModelSource.h"
#include "runs/detail/QuantizedRun.h"

#include <string>

namespace mpq::detail {

// One writer per export format (docs/export-formats.md). Each fills `dir` (an empty folder that
// exportRun() renames into place afterwards) and the report's counts, files and warnings.
// Progress and cancellation per decoder layer on `ctx`. Throw mpq::Error.

/// "hf": config.json, tokenizer files, dense weights (Ŵ for quantized matrices) in params.dtype.
void writeHfExport(const QuantizedRun& run, const ModelSource& source, const ExportParams& params,
                   const std::string& dir, JobContext& ctx, ExportReport& report);
/// "gptq": GPTQ v1 qweight/qzeros/scales/g_idx per quantized linear, quantization_config.
void writeGptqExport(const QuantizedRun& run, const ModelSource& source, const ExportParams& params,
                     const std::string& dir, JobContext& ctx, ExportReport& report);
/// "mpq-packed": mpq-packed.json and layers/layer-NNN.safetensors with bit-packed codes.
void writePackedExport(const QuantizedRun& run, const ModelSource& source, const ExportParams& params,
                       const std::string& dir, JobContext& ctx, ExportReport& report);

/// "gguf": one GGUF v3 file at params.outDir (docs/gguf.md); a whole export job of its own,
/// since it writes a file, not a folder.
ExportReport exportGguf(const ExportParams& params, JobContext& ctx);

} // namespace mpq::detail
