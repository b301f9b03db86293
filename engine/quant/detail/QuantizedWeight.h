#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace mpq::detail {

/// A quantized matrix W ≈ Ŵ, in any of the engine's quantizers (RTN, GPTQ, HQQ).
///
/// Each input column j is quantized on one grid "slot": slot s = slotOfColumn[j] has a bit-width
/// slotBits[s] and, per output row r, a scale scales[r, s] and zero zeros[r, s], so that
///     Ŵ[r, j] = scales[r, s] · (codes[r, j] − zeros[r, s]).
/// Per-channel uniform quantization has one slot; group size g gives one slot per group (as
/// GPTQ's g_idx); per-column bit-widths give one slot per (group, bit-width) present.
struct QuantizedWeight {
    at::Tensor codes;        ///< uint8 [rows, cols], 0 ≤ code < 2^bits of the column's slot
    at::Tensor scales;       ///< fp32 [rows, slots]
    at::Tensor zeros;        ///< fp32 [rows, slots] (integer-valued for min-max grids)
    at::Tensor slotOfColumn; ///< int32 [cols]
    std::vector<int> slotBits;
    int64_t groupSize = -1;  ///< -1: per output channel
    at::Tensor dequant;      ///< fp32 [rows, cols], Ŵ
    at::Tensor columnLoss;   ///< fp32 [cols], GPTQ's per-column loss (empty for RTN/HQQ)
    at::Tensor permutation;  ///< int64 [cols], act-order processing order (empty without)
    double damping = 0;      ///< λ actually used (GPTQ)
    /// GPTQ's fallback when H was not positive definite: "damping raised to …" or "RTN: …";
    /// empty when none was needed (docs/quantization.md).
    std::string fallback;

    /// Recomputes Ŵ from codes, scales, zeros and slots.
    at::Tensor dequantize() const;
    /// Code bits per weight (mean of the columns' bit-widths).
    double codeBits() const;
    /// Bits per weight with scales and zeros counted: each slot costs 16 bits of scale plus a
    /// zero of the slot's bit-width per row (GPTQ's checkpoint format), or 16 for symmetric.
    double bitsWithOverhead(bool symmetric) const;
};

} // namespace mpq::detail
