#pragma once

#include <ATen/ATen.h>

namespace mpq::detail {

/// GPTQ's inner loop over one block of columns (Algorithm 1, lines 5–11): for i = 0..count−1,
/// quantize column i of W1 on its grid, err = (w − q) / Hinv1[i,i], and compensate the later
/// columns of the block, W1[:, i+1:] −= err ⊗ Hinv1[i, i+1:]. Rows are independent, so one
/// thread (CPU task or CUDA thread) walks one row through the block.
///
/// W1 [rows, count] fp32 (updated in place); Hinv1 [count, count] upper triangular; scale and
/// zero [rows, count] per column; maxq [count] (2^bits − 1). Outputs: codes, Q (dequantized),
/// Err [rows, count]. All on one device.
void gptqBlock(at::Tensor& W1, const at::Tensor& Hinv1, const at::Tensor& scale, const at::Tensor& zero,
               const at::Tensor& maxq, at::Tensor& codes, at::Tensor& Q, at::Tensor& Err);

#ifdef MPQ_WITH_CUDA_KERNELS
/// The CUDA implementation (GptqBlock.cu).
void gptqBlockCuda(at::Tensor& W1, const at::Tensor& Hinv1, const at::Tensor& scale, const at::Tensor& zero,
                   const at::Tensor& maxq, at::Tensor& codes, at::Tensor& Q, at::Tensor& Err);
#endif

} // namespace mpq::detail
