#pragma once

#include "core/JobContext.h"
#include "quant/detail/Grid.h"

#include <ATen/ATen.h>

namespace mpq::detail {

struct GptqOptions {
    int64_t blockSize = 128;     ///< columns per lazy-batch block
    double dampPercent = 0.01;   ///< λ = dampPercent · mean(diag H)
    bool actOrder = false;       ///< process columns by decreasing diag H
    bool staticGroups = false;   ///< fit group grids on the original W before any update
    GridOptions grid;
};

/// GPTQ (Frantar et al. 2022, Algorithm 1) on W [rows, cols] with Hessian H [cols, cols] and a
/// bit-width per input column (`bits`, int [cols]). Dead inputs (H_jj = 0) are zeroed; damping
/// is raised tenfold (with a warning on ctx) while the Cholesky factorisation fails. Groups are
/// consecutive in processing order (act-order permutes them) unless static. Within a group,
/// each bit-width present gets its own grid, fitted on that group's columns of that width.
/// Everything runs on W's device in fp32. Throws mpq::Error if H cannot be factorised.
QuantizedWeight gptqQuantize(const at::Tensor& W, const at::Tensor& H, const at::Tensor& bits,
                             const GptqOptions& opt, JobContext* ctx = nullptr);

} // namespace mpq::detail
