#pragma once

#include "core/Device.h"
#include "core/JobContext.h"

#include <cstdint>
#include <string>

namespace mpq {

struct ForwardBenchParams {
    std::string model;
    std::string device = "cpu";
    DType dtype = DType::F32;
    int64_t seqlen = 2048;   ///< capped at the model's maximum
    int64_t batchSize = 1;
    int iterations = 3;
    int warmup = 1;
};

struct ForwardBenchResult {
    double tokensPerSecond = 0;      ///< forward pass including lm_head and log-softmax
    double secondsPerIteration = 0;
    int64_t tokensPerIteration = 0;
    double loadSeconds = 0;
    std::string deviceName;
};

/// Times full forward passes (with the NLL head) on seeded random token ids.
ForwardBenchResult benchmarkForward(const ForwardBenchParams& params, JobContext& ctx);

} // namespace mpq
