#include "alloc/mgptq/detail/MgptqGraph.h"

#include "core/Error.h"
#include "quant/detail/GptqFactor.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>
#include <string>

namespace mpq::detail {

at::Tensor HessianGraph::propagate(const at::Tensor& X) const
{
    if (dense)
        return at::matmul(adjacency, X);
    // Gather-based sparse product: row i sums value[i, m] · X[index[i, m]] over its k+1 entries.
    const int64_t d = X.size(1);
    const at::Tensor gathered = X.index_select(0, index.reshape({-1})).view({nodes, k + 1, d});
    return (gathered * value.unsqueeze(-1)).sum(1);
}

at::Tensor hessianCoupling(const at::Tensor& H, double dampPercent, double* damping)
{
    TORCH_CHECK(H.dim() == 2 && H.size(0) == H.size(1), "MG-PTQ graph: H must be square, got ", H.sizes());
    const int64_t n = H.size(0);
    double lambda = 0;
    {
        at::Tensor Hd = H.to(at::kFloat).clone();
        at::Tensor diag = Hd.diagonal();
        diag.masked_fill_(diag == 0, 1); // dead inputs, as GPTQ treats them
        lambda = dampPercent * diag.mean().item<double>();
    }
    if (!(lambda > 0))
        lambda = 1e-8;
    // At n = 28672 (LLaMA-70B's down projection) each n × n fp32 temporary is 3.1 GiB: each
    // attempt damps a fresh copy of H and hands it to gptqHinv, which lets it go once factorised.
    for (int attempt = 0; attempt < 5; ++attempt, lambda *= 10) {
        at::Tensor damped = H.to(at::kFloat).clone();
        at::Tensor diag = damped.diagonal();
        diag.masked_fill_(diag == 0, 1);
        diag.add_(lambda);
        // U: upper Cholesky factor of the damped H⁻¹ — the factor GPTQ's compensation uses
        // (the same computation: quant/detail/GptqFactor.h).
        at::Tensor U = gptqHinv(std::move(damped));
        if (!U.defined())
            continue;
        if (damping)
            *damping = lambda;
        // Row i of U / U_ii are GPTQ's update coefficients: rounding column i moves column j > i
        // by err_i · U_ij / U_ii. Their magnitude is the coupling of i and j.
        U.abs_();
        U.div_(U.diagonal().clone().unsqueeze(1));
        U.triu_(1);
        return U + U.t();
    }
    throw Error("MG-PTQ graph: the damped Hessian (" + std::to_string(n) +
                " columns) is not positive definite even with 10^4 times the damping");
}

HessianGraph normalizedGraph(const at::Tensor& A, int64_t k)
{
    const int64_t n = A.size(0);
    HessianGraph g;
    g.nodes = n;
    at::Tensor a = A.abs(); // a new tensor: A is not changed
    a.diagonal().zero_();
    if (k <= 0 || k >= n - 1) {
        // Â = D^-½ (|A| + I) D^-½ (Kipf & Welling, eq. 2)
        a.diagonal().fill_(1);
        const at::Tensor dinv = a.sum(1).rsqrt();
        g.adjacency = dinv.unsqueeze(1) * a * dinv.unsqueeze(0);
        g.dense = true;
        return g;
    }
    // Row by row blocks of about 2^26 entries: topk's sort buffers over a whole 28672² matrix
    // would be several times its size.
    const int64_t rowsPerBlock = std::max<int64_t>(1, (int64_t(1) << 26) / n);
    std::vector<at::Tensor> valBlocks, idxBlocks;
    for (int64_t r0 = 0; r0 < n; r0 += rowsPerBlock) {
        auto [v, i] = at::topk(a.slice(0, r0, std::min(n, r0 + rowsPerBlock)), k, 1);
        valBlocks.push_back(v);
        idxBlocks.push_back(i);
    }
    a.reset();
    const at::Tensor vals = at::cat(valBlocks, 0);
    const at::Tensor idx = at::cat(idxBlocks, 0);
    const at::Tensor self = at::arange(n, idx.options()).unsqueeze(1);
    g.index = at::cat({self, idx}, 1).contiguous();
    const at::Tensor v = at::cat({at::ones({n, 1}, vals.options()), vals}, 1);
    const at::Tensor dinv = v.sum(1).rsqrt(); // degrees of the kept rows
    g.value = (v * dinv.unsqueeze(1) * dinv.index_select(0, g.index.reshape({-1})).view({n, k + 1})).contiguous();
    g.dense = false;
    g.k = k;
    return g;
}

HessianGraph buildHessianGraph(const at::Tensor& H, const MgptqOptions& opt)
{
    double damping = 0;
    const at::Tensor A = hessianCoupling(H, opt.dampPercent, &damping);
    const int64_t n = H.size(0);
    HessianGraph g = normalizedGraph(A, n > opt.denseLimit ? opt.topK : 0);
    g.damping = damping;
    return g;
}

at::Tensor nodeFeatures(const at::Tensor& W, const at::Tensor& H, const at::Tensor& ownError,
                        int64_t featureDim, uint64_t seed)
{
    TORCH_CHECK(W.dim() == 2 && H.size(0) == W.size(1), "MG-PTQ features: W ", W.sizes(), " and H ", H.sizes(),
                " do not match");
    const int64_t rows = W.size(0);
    const auto opts = W.options().dtype(at::kFloat);
    const at::Tensor Wf = W.to(at::kFloat);
    std::vector<at::Tensor> parts;
    if (featureDim > 0) {
        // A fixed Gaussian projection (Johnson–Lindenstrauss) of each column's d_out weights,
        // seeded on the CPU so that every device sees the same matrix.
        auto gen = at::detail::createCPUGenerator(seed);
        const at::Tensor P = (at::randn({rows, featureDim}, gen) / std::sqrt(double(rows))).to(opts.device());
        const at::Tensor scale = Wf.pow(2).mean().sqrt().clamp_min(1e-12);
        parts.push_back(at::matmul(Wf.t(), P) / scale);
    }
    const double eps = 1e-20;
    const at::Tensor norm = Wf.norm(2, {0});
    const at::Tensor maxAbs = std::get<0>(Wf.abs().max(0));
    const at::Tensor hd = H.diagonal().to(at::kFloat).clamp_min(0);
    parts.push_back(at::stack({(norm + eps).log(), (maxAbs + eps).log(), (hd + eps).log(),
                               (hd * norm.pow(2) + eps).log()},
                              1));
    parts.push_back((ownError.to(at::kFloat).clamp_min(0) + eps).log());
    at::Tensor X = at::cat(parts, 1);
    const at::Tensor mu = X.mean(0, true);
    const at::Tensor sd = (X - mu).pow(2).mean(0, true).sqrt();
    return ((X - mu) / (sd + 1e-6)).contiguous();
}

} // namespace mpq::detail
