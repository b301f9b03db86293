#include "quant/detail/GptqBlock.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace mpq::detail {

namespace {

/// torch.round: half to even.
inline float roundHalfEven(float x)
{
    return std::nearbyint(x);
}

void gptqBlockCpu(at::Tensor& W1, const at::Tensor& Hinv1, const at::Tensor& scale, const at::Tensor& zero,
                  const at::Tensor& maxq, at::Tensor& codes, at::Tensor& Q, at::Tensor& Err)
{
    const int64_t rows = W1.size(0), count = W1.size(1);
    float* w = W1.data_ptr<float>();
    const float* h = Hinv1.data_ptr<float>();
    const float* s = scale.data_ptr<float>();
    const float* z = zero.data_ptr<float>();
    const float* m = maxq.data_ptr<float>();
    float* c = codes.data_ptr<float>();
    float* q = Q.data_ptr<float>();
    float* e = Err.data_ptr<float>();
    at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            float* wr = w + r * count;
            for (int64_t i = 0; i < count; ++i) {
                const int64_t k = r * count + i;
                const float x = wr[i];
                const float code = std::fmin(std::fmax(roundHalfEven(x / s[k]) + z[k], 0.0f), m[i]);
                const float deq = s[k] * (code - z[k]);
                const float err = (x - deq) / h[i * count + i];
                c[k] = code;
                q[k] = deq;
                e[k] = err;
                const float* hi = h + i * count;
                for (int64_t j = i + 1; j < count; ++j)
                    wr[j] -= err * hi[j];
            }
        }
    });
}

} // namespace

void gptqBlock(at::Tensor& W1, const at::Tensor& Hinv1, const at::Tensor& scale, const at::Tensor& zero,
               const at::Tensor& maxq, at::Tensor& codes, at::Tensor& Q, at::Tensor& Err)
{
    TORCH_CHECK(W1.is_contiguous() && Hinv1.is_contiguous() && scale.is_contiguous() && zero.is_contiguous() &&
                    maxq.is_contiguous() && codes.is_contiguous() && Q.is_contiguous() && Err.is_contiguous(),
                "gptqBlock needs contiguous tensors");
#ifdef MPQ_WITH_CUDA_KERNELS
    if (W1.is_cuda())
        return gptqBlockCuda(W1, Hinv1, scale, zero, maxq, codes, Q, Err);
#endif
    if (!W1.is_cpu()) {
        // A device without our kernel: run the block on the CPU (correct, slower).
        at::Tensor w = W1.cpu(), c = codes.cpu(), q = Q.cpu(), e = Err.cpu();
        gptqBlockCpu(w, Hinv1.cpu().contiguous(), scale.cpu(), zero.cpu(), maxq.cpu(), c, q, e);
        W1.copy_(w);
        codes.copy_(c);
        Q.copy_(q);
        Err.copy_(e);
        return;
    }
    gptqBlockCpu(W1, Hinv1, scale, zero, maxq, codes, Q, Err);
}

} // namespace mpq::detail
