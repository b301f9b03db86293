#pragma once

#include <cstdint>

namespace mpq {

/// Settings of HQQ (half-quadratic quantization, Badri & Shaji 2023). The defaults are the public
/// hqq project's (`optimize_weights_proximal`: lp_norm 0.7, beta 10, kappa 1.01, 20 iterations,
/// early stop) with scale and zero quantized to 8 bits in groups of 128 (MXQ's setting).
/// docs/mxq.md describes each step and where this implementation departs from hqq.
struct HqqOptions {
    double lpNorm = 0.7;      ///< p of the ℓp error that the zero-point step minimises (0 < p ≤ 1)
    double beta = 10.0;       ///< β: initial weight of the half-quadratic coupling term
    double kappa = 1.01;      ///< κ: β is multiplied by κ after every iteration (> 1)
    int iterations = 20;      ///< zero-point updates at most
    bool earlyStop = true;    ///< stop when mean |W − Ŵ| stops falling, keeping the best zero
    int metaBits = 8;         ///< bits of the quantized scales and zeros; 0 keeps them in fp32
    int64_t metaGroupSize = 128; ///< scales (and zeros) per meta group, in row-major slot order
};

/// What one HQQ call did, for reports and benchmarks.
struct HqqStats {
    int iterations = 0;        ///< zero-point updates performed (of the full groups)
    int bestIteration = 0;     ///< updates before the zero that was kept (0: the min-max start)
    double initialError = 0;   ///< mean |W − Ŵ| of the min-max start
    double finalError = 0;     ///< mean |W − Ŵ| at the chosen zero, before its meta-quantization
};

} // namespace mpq
