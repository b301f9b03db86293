#pragma once

#include "core/JobContext.h"
#include "data/Calibration.h"
#include "model/ModelSource.h"

#include <cstdint>
#include <string>

namespace mpq {

struct ModelSampleParams {
    int64_t windows = 16;
    int64_t seqlen = 512;
    uint64_t seed = 0;
    double temperature = 1.0;
    std::string device = "cpu"; ///< "cpu", "cuda" or "cuda:N"
};

/// Windows of text sampled from the unquantized model itself (docs/calibration.md): each window
/// starts as the model's documents start (its tokenizer's encoding of an empty text: BOS, or,
/// for a model without one, its end-of-text token), and each next token is drawn from
/// softmax(logits / temperature) by inverse transform sampling with Python's `random.random()`
/// stream of `seed`; after an end-of-text token a new document starts the same way. Decoded a
/// token at a time with a key/value cache (fp16 on CUDA, fp32 on the CPU). Deterministic for one
/// device and dtype; the CPU and a GPU may draw different texts, since their logits differ in the
/// last bits. Reports progress (stage "sampling calibration text", unit tokens) and checks
/// cancellation before each token. Throws mpq::Error.
CalibrationSet sampleFromModel(const ModelSource& source, const ModelSampleParams& params, JobContext& ctx);

/// What sampleFromModel holds, in bytes: the model with `elementBytes` per parameter (2 on CUDA,
/// 4 on the CPU), the key/value cache, a step's logits. It refuses to start above 90 % of the
/// device's memory (the host's on the CPU).
int64_t sampleFromModelBytes(const ModelConfig& c, int64_t windows, int64_t seqlen, int64_t elementBytes);

/// The windows of `params`: sampled from the model when the source is kSelfCalibration, else
/// sampleCalibration with the model's tokenizer (seqlen capped at the model's context either way).
CalibrationSet modelCalibration(const ModelSource& source, const CalibrationParams& params,
                                const std::string& device, JobContext& ctx);

} // namespace mpq
