#pragma once

// The records of a quantization run that every store keeps (result folders, sessions) and every
// reader returns: per matrix its measured figures, per decoder layer its timings. Plain C++.

#include <cstdint>
#include <string>

namespace mpq {

struct MatrixReport {
    std::string tensor;
    int64_t layer = 0;
    std::string linear;
    int64_t rows = 0, cols = 0;
    std::string quantizer;
    double codeBits = 0;
    double bitsWithOverhead = 0;
    double outputError = 0;   ///< tr(ΔW H ΔWᵀ) on this layer's calibration inputs (-1: data-free)
    double frobeniusError = -1; ///< ‖W − Ŵ‖_F (data-free runs)
    double gptqLoss = 0;      ///< Σ GPTQ column losses (0 for RTN)
    double damping = 0;
    /// GPTQ's fallback for a Hessian that was not positive definite ("damping raised to …" or
    /// "RTN: …"); empty when none was needed.
    std::string fallback;
    double seconds = 0;
    int64_t calibrationTokens = -1; ///< tokens behind this matrix's Hessian input (routed ones for an expert); -1: data-free
    std::string hessianSource;      ///< "" (all calibration tokens), "routed" (an expert's own tokens) or
                                    ///< "all-tokens" (an expert below expertMinTokens: fallback)
};

struct LayerTiming {
    double hessianSeconds = 0;
    double quantizeSeconds = 0;
    double forwardSeconds = 0;
};

} // namespace mpq
