#pragma once

#include "core/JobContext.h"
#include "quant/detail/Grid.h"

#include <ATen/ATen.h>

namespace mpq::detail {

/// Largest accepted GptqOptions::dampPercent (λ = 100 · mean(diag H) already makes GPTQ's
/// updates negligible).
constexpr double kMaxDampPercent = 100;
/// How many times damping is raised tenfold before the RTN fallback.
constexpr int kDampRaises = 6;

struct GptqOptions {
    int64_t blockSize = 128;     ///< columns per lazy-batch block
    double dampPercent = 0.01;   ///< λ = dampPercent · mean(diag H)
    bool actOrder = false;       ///< process columns by decreasing diag H
    bool staticGroups = false;   ///< fit group grids on the original W before any update
    GridOptions grid;
};

/// GPTQ (Frantar et al. 2022, Algorithm 1) on W [rows, cols] with Hessian H [cols, cols] and a
/// bit-width per input column (`bits`, int [cols]). Dead inputs (H_jj = 0) are zeroed; damping
/// is raised tenfold (with a warning on ctx) while the Cholesky factorisation fails, at most
/// kDampRaises times, then the matrix falls back to RTN; QuantizedWeight::fallback says which
/// (empty when neither was needed). Throws mpq::Error naming the fault when W or H hold NaN or
/// Inf, or dampPercent is not in (0, kMaxDampPercent]. Groups are
/// consecutive in processing order (act-order permutes them) unless static. Within a group,
/// each bit-width present gets its own grid, fitted on that group's columns of that width.
/// Everything runs on W's device in fp32.
/// Act-order's column order: indices of the columns by decreasing H_jj, dead inputs (H_jj = 0)
/// counted as H_jj = 1, exactly as gptqQuantize orders them (so an allocator that plans in this
/// order sees GPTQ's). int64 on H's device.
at::Tensor actOrderPermutation(const at::Tensor& H);

QuantizedWeight gptqQuantize(const at::Tensor& W, const at::Tensor& H, const at::Tensor& bits,
                             const GptqOptions& opt, JobContext* ctx = nullptr);

} // namespace mpq::detail
