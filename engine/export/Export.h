#pragma once

#include "core/JobContext.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// Checkpoint formats a stored quantization run can be exported to (docs/export-formats.md).
enum class ExportFormat {
    HuggingFace, ///< "hf": dequantized weights (fp16 by default), loads in transformers
    Gptq,        ///< "gptq": qweight/qzeros/scales/g_idx, GPTQ v1 packing, per-module bits
    MpqPacked,   ///< "mpq-packed": per-column bit-widths, densely bit-packed; mpq eval reads it
    Gguf,        ///< "gguf": one GGUF v3 file for llama.cpp (outDir is the file; docs/gguf.md)
};

/// "hf" | "gptq" | "mpq-packed" | "gguf". Throws mpq::Error naming the accepted values otherwise.
ExportFormat parseExportFormat(const std::string& name);
const char* exportFormatName(ExportFormat f);

/// What to export and where.
struct ExportParams {
    std::string input;          ///< a stored run: result folder, "SESSION#RUN" or an mpq-packed export
    ExportFormat format = ExportFormat::HuggingFace;
    std::string outDir;         ///< created; must not exist or be empty unless `force`
    bool force = false;         ///< replace a non-empty outDir
    /// Precision of dense tensors in hf/gptq exports: "fp16" (default), "bf16" or "fp32". GPTQ
    /// scales are always fp16 (the format's). Ignored by mpq-packed (its tensors are exact).
    std::string dtype = "fp16";
    int64_t maxShardBytes = int64_t(2) << 30; ///< hf/gptq: weights split into shards of at most this
};

struct ExportReport {
    std::string outDir;                  ///< absolute path of the finished export
    std::string format;                  ///< exportFormatName()
    std::string baseModel;               ///< the run's base model
    int64_t quantizedMatrices = 0;       ///< matrices taken from the run
    int64_t tensors = 0;                 ///< tensors written in all
    int64_t bytes = 0;                   ///< bytes of the files written
    std::vector<std::string> files;      ///< file names inside outDir
    std::vector<std::string> warnings;
    double seconds = 0;
};

/// Exports a stored quantization run. Everything is written into "<outDir>.partial" and renamed
/// to outDir at the end, so a failure or cancellation leaves nothing under outDir (and removes
/// the partial folder). Progress is reported per decoder layer; cancellation is checked between
/// layers (throws mpq::Cancelled). Runs on the calling thread on the CPU.
///
/// Throws mpq::Error with a message naming the input, the matrix or the file: unreadable run,
/// non-empty outDir without `force`, or a run the format cannot carry (GPTQ: per-column
/// bit-widths, non-integer zero points, widths other than 2/3/4/8).
ExportReport exportRun(const ExportParams& params, JobContext& ctx);

} // namespace mpq
