#pragma once

#include "model/ModelConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// How one weight matrix is to be quantized: per input column a bit-width, a group size and
/// the quantizer, with what the allocator predicted. Plain data: it can be shown, saved, edited
/// by hand and applied later (stored in result.json, docs/result-folder.md; edited by hand through
/// override files, docs/override.md).
struct MatrixPlan {
    std::string tensor;               ///< Hugging Face tensor name
    int64_t layer = 0;
    std::string linear;               ///< "q_proj" … "down_proj"
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<uint8_t> columnBits;  ///< one entry per input column, each in 1..8
    int64_t groupSize = -1;           ///< -1: one grid per output channel
    std::string quantizer = "gptq";   ///< rtn | gptq | hqq | ggml (llama.cpp type in diagnostics, docs/gguf.md)
    double predictedCost = -1;        ///< allocator's predicted error; negative when none
    double storageBits = -1;          ///< allocator's predicted storage in bits; negative when none
    std::string diagnostics;          ///< allocator's own record as a JSON object (e.g. training curves)

    /// The single bit-width when all columns agree, else -1.
    int uniformBits() const;
    double averageBits() const;
};

struct AllocationPlan {
    std::string method;               ///< who made it: "uniform", "mgptq", "mxq", …
    std::vector<MatrixPlan> matrices;

    /// Every linear of every decoder layer at `bits` with `groupSize`.
    static AllocationPlan uniform(const ModelConfig& c, int bits, int64_t groupSize,
                                  const std::string& quantizer);
    /// nullptr when the tensor has no entry.
    const MatrixPlan* find(const std::string& tensor) const;
    /// Code bits per weight over all planned matrices (weighted by size).
    double averageCodeBits() const;
    /// Checks bit-widths (1..8), column counts and group sizes. Throws mpq::Error.
    void validate(const std::string& source) const;

    std::string toJson() const;
    /// Throws mpq::Error naming `source` on malformed input.
    static AllocationPlan fromJson(const std::string& text, const std::string& source);
};

} // namespace mpq
