#pragma once

#include "core/JobContext.h"
#include "pipeline/QuantizeJob.h"

#include <cstdint>
#include <string>

namespace mpq {

/// A synthetic LLaMA-shaped model for quantization benchmarks: random weights generated on the
/// device layer by layer (seeded), random calibration tokens; nothing read from disk.
struct SyntheticModelSpec {
    int64_t layers = 32;
    int64_t hidden = 4096;
    int64_t intermediate = 11008;
    int64_t heads = 32;
    int64_t kvHeads = 32;
    int64_t vocab = 32000;
    uint64_t seed = 0;
    /// LLaMA-7B's shape (the default); "llama-70b" LLaMA-70B's (80 layers, hidden 8192,
    /// intermediate 28672, 64 heads / 8 KV heads, vocab 128256); "tiny" a 2-layer model for smoke tests.
    static SyntheticModelSpec preset(const std::string& name);
};

/// Runs the sequential pipeline (no output written) on the synthetic model with the job's
/// method, bits, group size, act-order, nsamples and seqlen; device and dtype as given.
QuantizeReport benchmarkQuantization(const SyntheticModelSpec& spec, const QuantizeParams& params,
                                     JobContext& ctx);

} // namespace mpq
