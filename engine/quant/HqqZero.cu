// CUDA implementation of hqq's zero-point iterations (see detail/HqqZero.h): a team of L threads
// holds one group of up to L·EPL values in registers for all iterations. A team's threads read
// consecutive values (element j lives on thread j mod L), and its sums are warp shuffles.
#include "quant/detail/HqqZero.h"

#include <ATen/cuda/CUDAContext.h>

namespace mpq::detail {

namespace {

template <int L, int EPL>
__global__ void hqqZeroKernel(const float* __restrict__ V, const float* __restrict__ s,
                              const float* __restrict__ z0, int64_t n, int g, float maxq, float e,
                              float tau0, float tauDecay, int iterations, float* __restrict__ zHist,
                              float* __restrict__ errHist)
{
    const int64_t team = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / L;
    const int lane = int(threadIdx.x % L);
    // Teams past the end compute on group 0 and write nothing: every thread of a warp must take
    // part in the shuffles.
    const bool live = team < n;
    const int64_t grp = live ? team : 0;
    const float sg = s[grp];
    float u[EPL];
    bool valid[EPL];
#pragma unroll
    for (int i = 0; i < EPL; ++i) {
        const int j = lane + L * i;
        valid[i] = j < g;
        u[i] = valid[i] ? __fdiv_rn(V[grp * g + j], sg) : 0.0f; // W/s, as V / s
    }
    float z = z0[grp];
    float tau = __fmul_rn(__frcp_rn(sg), tau0); // shrinkage threshold in code units
    const float count = float(g);
    for (int k = 0;; ++k) {
        float l1 = 0.0f, moved = 0.0f;
#pragma unroll
        for (int i = 0; i < EPL; ++i) {
            if (!valid[i])
                continue;
            const float x = __fadd_rn(u[i], z);
            const float d = __fsub_rn(x, rintf(fminf(fmaxf(x, 0.0f), maxq))); // (W − Ŵ)/s
            const float ad = fabsf(d);
            l1 = __fadd_rn(l1, ad);
            // d − W_e/s = d·min((τ/|d|)^(2−p), 1): a residual within τ is shrunk to W_e = 0.
            moved = __fadd_rn(moved, ad > tau ? __fmul_rn(d, powf(__fdiv_rn(tau, ad), e)) : d);
        }
#pragma unroll
        for (int off = L / 2; off > 0; off >>= 1) {
            l1 += __shfl_xor_sync(0xffffffffu, l1, off, L);
            moved += __shfl_xor_sync(0xffffffffu, moved, off, L);
        }
        if (live && lane == 0) {
            zHist[int64_t(k) * n + grp] = z;
            errHist[int64_t(k) * n + grp] = __fmul_rn(l1, sg);
        }
        if (k == iterations)
            break;
        z = __fsub_rn(z, __fdiv_rn(moved, count)); // z = mean_g(q − (W − W_e)/s)
        tau = __fmul_rn(tau, tauDecay);
    }
}

template <int L, int EPL>
void launch(const at::Tensor& V, const at::Tensor& s, const at::Tensor& z0, float maxq, float e, float tau0,
            float tauDecay, int iterations, at::Tensor& zHist, at::Tensor& errHist)
{
    const int64_t n = V.size(0);
    const int threads = 256;
    const int64_t teamsPerBlock = threads / L;
    const int64_t blocks = (n + teamsPerBlock - 1) / teamsPerBlock;
    TORCH_CHECK(blocks < (int64_t(1) << 31), "HQQ CUDA kernel: too many groups (", n, ")");
    hqqZeroKernel<L, EPL><<<unsigned(blocks), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        V.data_ptr<float>(), s.data_ptr<float>(), z0.data_ptr<float>(), n, int(V.size(1)), maxq, e, tau0,
        tauDecay, iterations, zHist.data_ptr<float>(), errHist.data_ptr<float>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
}

} // namespace

void hqqZeroCuda(const at::Tensor& V, const at::Tensor& s, const at::Tensor& z0, double maxq, double e,
                 double tau0, double tauDecay, int iterations, at::Tensor& zHist, at::Tensor& errHist)
{
    TORCH_CHECK(V.is_cuda() && V.dim() == 2 && V.scalar_type() == at::kFloat, "hqqZeroCuda: V must be fp32 [n, g] on CUDA");
    const int64_t n = V.size(0), g = V.size(1);
    TORCH_CHECK(g > 0 && g <= kHqqZeroCudaMaxGroup, "hqqZeroCuda: group size ", g, " is outside 1..",
                kHqqZeroCudaMaxGroup);
    TORCH_CHECK(s.numel() == n && z0.numel() == n, "hqqZeroCuda: one scale and zero per group");
    TORCH_CHECK(iterations >= 0, "hqqZeroCuda: negative iteration count");
    const at::Tensor Vc = V.contiguous();
    const at::Tensor sc = s.reshape({n}).to(at::kFloat).contiguous();
    const at::Tensor zc = z0.reshape({n}).to(at::kFloat).contiguous();
    zHist = at::empty({iterations + 1, n}, Vc.options());
    errHist = at::empty({iterations + 1, n}, Vc.options());
    if (n == 0)
        return;
    const float fm = float(maxq), fe = float(e), ft = float(tau0), fd = float(tauDecay);
    // Four values per thread where the group allows (short shuffles), more for long groups.
    if (g <= 4)
        launch<1, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 8)
        launch<2, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 16)
        launch<4, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 32)
        launch<8, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 64)
        launch<16, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 128)
        launch<32, 4>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else if (g <= 256)
        launch<32, 8>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
    else
        launch<32, 16>(Vc, sc, zc, fm, fe, ft, fd, iterations, zHist, errHist);
}

} // namespace mpq::detail
