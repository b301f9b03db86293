#pragma once

#include <ATen/ATen.h>

namespace mpq::detail {

#ifdef MPQ_WITH_CUDA_KERNELS
/// hqq's zero-point iterations (Hqq.cpp, optimiseZero) for all groups at once in one CUDA
/// kernel: each group stays in registers of a few threads for every iteration, so W is read
/// once instead of several times per iteration, and no iteration waits for the host.
///
/// V [n, g] fp32 groups as rows (g ≤ kHqqZeroCudaMaxGroup), s and z0 [n] or [n, 1] the stored
/// scales and starting zeros; maxq = 2^bits − 1; e = 2 − p; tau0 = β^(−1/e); tauDecay =
/// κ^(−1/e). Runs all `iterations` updates without stopping and returns, per iteration
/// k = 0..iterations and group, the zero before update k (zHist [iterations + 1, n]) and that
/// zero's s·Σ|W/s + z − q| (errHist, same shape), from which the caller replays hqq's early
/// stop exactly. Deterministic.
void hqqZeroCuda(const at::Tensor& V, const at::Tensor& s, const at::Tensor& z0, double maxq, double e,
                 double tau0, double tauDecay, int iterations, at::Tensor& zHist, at::Tensor& errHist);
constexpr int64_t kHqqZeroCudaMaxGroup = 512;
#endif

} // namespace mpq::detail
