// CUDA implementation of GPTQ's per-block inner loop (see detail/GptqBlock.h): one thread per
// output row walks the block's columns; the block's Hinv tile lives in shared memory, and the
// row's working values are kept transposed ([count, rows]) so that a warp's accesses coalesce.
#include "quant/detail/GptqBlock.h"

#include <ATen/cuda/CUDAContext.h>

namespace mpq::detail {

namespace {

__global__ void gptqBlockKernel(float* __restrict__ wT, const float* __restrict__ hinv,
                                const float* __restrict__ scaleT, const float* __restrict__ zeroT,
                                const float* __restrict__ maxq, float* __restrict__ codesT,
                                float* __restrict__ qT, float* __restrict__ errT, int rows, int count)
{
    extern __shared__ float h[]; // count x count
    for (int k = threadIdx.x; k < count * count; k += blockDim.x)
        h[k] = hinv[k];
    __syncthreads();
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows)
        return;
    for (int i = 0; i < count; ++i) {
        const int k = i * rows + r;
        const float x = wT[k];
        const float s = scaleT[k], z = zeroT[k];
        // Explicit round-to-nearest intrinsics: no FMA contraction, so the arithmetic is the
        // CPU implementation's, operation for operation.
        const float code = fminf(fmaxf(__fadd_rn(rintf(__fdiv_rn(x, s)), z), 0.0f), maxq[i]);
        const float deq = __fmul_rn(s, __fsub_rn(code, z));
        const float err = __fdiv_rn(__fsub_rn(x, deq), h[i * count + i]);
        codesT[k] = code;
        qT[k] = deq;
        errT[k] = err;
        for (int j = i + 1; j < count; ++j)
            wT[j * rows + r] = __fsub_rn(wT[j * rows + r], __fmul_rn(err, h[i * count + j]));
    }
}

} // namespace

void gptqBlockCuda(at::Tensor& W1, const at::Tensor& Hinv1, const at::Tensor& scale, const at::Tensor& zero,
                   const at::Tensor& maxq, at::Tensor& codes, at::Tensor& Q, at::Tensor& Err)
{
    const int rows = int(W1.size(0)), count = int(W1.size(1));
    TORCH_CHECK(count <= 128, "GPTQ CUDA block kernel supports blocks of at most 128 columns");
    at::Tensor wT = W1.t().contiguous();
    const at::Tensor sT = scale.t().contiguous(), zT = zero.t().contiguous();
    at::Tensor cT = at::empty_like(wT), qT = at::empty_like(wT), eT = at::empty_like(wT);
    const int threads = 128;
    const int blocks = (rows + threads - 1) / threads;
    const size_t shared = size_t(count) * size_t(count) * sizeof(float);
    auto stream = at::cuda::getCurrentCUDAStream();
    if (shared > 48 * 1024)
        cudaFuncSetAttribute(gptqBlockKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared));
    gptqBlockKernel<<<blocks, threads, shared, stream>>>(
        wT.data_ptr<float>(), Hinv1.data_ptr<float>(), sT.data_ptr<float>(), zT.data_ptr<float>(),
        maxq.data_ptr<float>(), cT.data_ptr<float>(), qT.data_ptr<float>(), eT.data_ptr<float>(), rows, count);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    W1.copy_(wT.t());
    codes.copy_(cT.t());
    Q.copy_(qT.t());
    Err.copy_(eT.t());
}

} // namespace mpq::detail
