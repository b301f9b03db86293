#include "quant/detail/Gptq.h"

#include "core/Error.h"

#include "quant/detail/GptqBlock.h"
#include "quant/detail/GptqFactor.h"

#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

namespace mpq::detail {

namespace {

/// The grids of the group being processed: one per bit-width present, each with its slot.
struct GroupGrids {
    std::map<int, std::pair<Grid, int>> byBits; // bits -> (grid, slot id)
};

/// Fits one grid per bit-width over the columns `cols` of `values` (columns indexed 0..n-1
/// relative to `firstCol`), appending slots.
GroupGrids fitGroup(const at::Tensor& values, int64_t firstCol, const std::vector<int>& bitsP,
                    bool symmetric, std::vector<Grid>& slots)
{
    GroupGrids g;
    std::map<int, std::vector<int64_t>> byBits;
    for (int64_t k = 0; k < values.size(1); ++k)
        byBits[bitsP[size_t(firstCol + k)]].push_back(k);
    for (const auto& [b, idx] : byBits) {
        const at::Tensor index = at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(values.device());
        Grid grid = fitGrid(values.index_select(1, index), b, symmetric);
        g.byBits[b] = {grid, int(slots.size())};
        slots.push_back(grid);
    }
    return g;
}

} // namespace

at::Tensor actOrderPermutation(const at::Tensor& H)
{
    const at::Tensor d = H.diagonal().to(at::kFloat);
    return at::argsort(at::where(d == 0, at::ones_like(d), d), /*dim=*/0, /*descending=*/true);
}

QuantizedWeight gptqQuantize(const at::Tensor& Win, const at::Tensor& Hin, const at::Tensor& bitsIn,
                             const GptqOptions& opt, JobContext* ctx)
{
    const int64_t cols = Win.size(1);
    TORCH_CHECK(Hin.size(0) == cols && Hin.size(1) == cols, "Hessian must be [cols, cols]");
    TORCH_CHECK(bitsIn.numel() == cols, "one bit-width per column expected");
    if (!std::isfinite(opt.dampPercent) || opt.dampPercent <= 0 || opt.dampPercent > kMaxDampPercent)
        throw Error("GPTQ: the damping setting (damp percent) must be a number in (0, " +
                    std::to_string(int(kMaxDampPercent)) + "], got " + std::to_string(opt.dampPercent));
    if (!at::isfinite(Win).all().item<bool>())
        throw Error("GPTQ: the weights hold NaN or Inf");
    if (!at::isfinite(Hin).all().item<bool>())
        throw Error("GPTQ: the Hessian holds NaN or Inf (non-finite calibration activations)");
    const auto dev = Win.device();
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(dev);
    at::Tensor W = Win.to(at::kFloat).clone();
    at::Tensor H = Hin.to(dev, at::kFloat).clone();

    // Dead inputs never fire: their weights cannot matter, so they are zeroed.
    const at::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1.0);
    W.masked_fill_(dead.unsqueeze(0), 0.0);

    std::vector<int> bits(static_cast<size_t>(cols));
    {
        const at::Tensor b = bitsIn.to(at::kInt).cpu().contiguous();
        std::copy(b.data_ptr<int>(), b.data_ptr<int>() + cols, bits.begin());
    }
    const int64_t g = opt.grid.groupSize;
    std::vector<Grid> slots;
    std::vector<int> slotOfProcessed(static_cast<size_t>(cols), -1);

    // Static groups: grids from the original W, in original column order.
    std::vector<GroupGrids> staticGrids;
    if (g > 0 && opt.staticGroups)
        for (int64_t c0 = 0; c0 < cols; c0 += g)
            staticGrids.push_back(fitGroup(W.slice(1, c0, std::min(cols, c0 + g)), c0, bits,
                                           opt.grid.symmetric, slots));

    at::Tensor perm;
    std::vector<int64_t> permCpu(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j)
        permCpu[size_t(j)] = j;
    if (opt.actOrder) {
        perm = actOrderPermutation(H); // dead inputs already have H_jj = 1
        W = W.index_select(1, perm);
        H = H.index_select(0, perm).index_select(1, perm);
        const at::Tensor p = perm.cpu().contiguous();
        std::copy(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + cols, permCpu.begin());
    }
    std::vector<int> bitsP(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j)
        bitsP[size_t(j)] = bits[size_t(permCpu[size_t(j)])];

    // The upper Cholesky factor U of H⁻¹ (GPTQ's Hinv, detail/GptqFactor.h). The fallback
    // (docs/quantization.md, "When H is not positive definite"): while either factorisation
    // fails or is not finite, damping is raised tenfold, at most kDampRaises times; after that
    // the matrix is quantized by RTN. Either is recorded in QuantizedWeight::fallback.
    const double requestedDamp = opt.dampPercent * H.diagonal().mean().item<double>();
    double damp = requestedDamp;
    at::Tensor U;
    // H is damped in place (its own diagonal kept for the retries): one n×n matrix fewer than
    // H + λI beside H, which the memory plan (model/MemoryPlan.cpp) counts on.
    const at::Tensor diagonal = H.diagonal().clone();
    for (int attempt = 0;; ++attempt) {
        H.diagonal().copy_(diagonal + damp);
        U = gptqHinv(H);
        if (U.defined())
            break;
        std::ostringstream msg;
        if (attempt >= kDampRaises || !std::isfinite(damp * 10)) {
            msg << "RTN: the Hessian is not positive definite even with damping " << damp << " ("
                << damp / requestedDamp << "x the requested " << requestedDamp << ")";
            if (ctx)
                ctx->warn("GPTQ: " + msg.str() + "; this matrix is quantized by RTN instead");
            QuantizedWeight rtn = rtnQuantize(Win.to(at::kFloat), bitsIn, opt.grid);
            rtn.damping = damp;
            rtn.fallback = msg.str();
            return rtn;
        }
        if (ctx) {
            msg << "GPTQ: Cholesky factorisation failed with damping " << damp << "; raising it tenfold";
            ctx->warn(msg.str());
        }
        damp *= 10;
    }
    H.reset(); // only U from here on

    // Per-channel: one grid per bit-width over all columns, fitted once up front.
    GroupGrids current;
    if (g <= 0)
        current = fitGroup(W, 0, bitsP, opt.grid.symmetric, slots);

    at::Tensor Q = at::zeros_like(W);
    at::Tensor codes = at::zeros_like(W);
    at::Tensor losses = at::zeros_like(W);
    // Every dynamic group must start at a block start, so that its grid can be fitted on the
    // current weights before the block runs; blocks only change rounding, not the algorithm.
    int64_t B = opt.blockSize;
    if (g > 0 && !opt.staticGroups)
        B = std::gcd(B, g);
    const at::Tensor maxqAll = at::tensor(std::vector<float>(bitsP.begin(), bitsP.end()), f32.device(at::kCPU))
                                   .exp2_()
                                   .sub_(1)
                                   .to(dev);
    for (int64_t i1 = 0; i1 < cols; i1 += B) {
        const int64_t i2 = std::min(cols, i1 + B);
        at::Tensor W1 = W.slice(1, i1, i2).contiguous();
        if (g > 0 && !opt.staticGroups && i1 % g == 0) {
            // Dynamic group: fitted on the current, error-compensated weights.
            const int64_t end = std::min(cols, i1 + g);
            at::Tensor values = end > i2 ? at::cat({W1, W.slice(1, i2, end)}, 1) : W1;
            current = fitGroup(values, i1, bitsP, opt.grid.symmetric, slots);
        }
        // Each column's grid (scale, zero) as [rows, count] for the block kernel.
        std::vector<at::Tensor> sc, zc;
        for (int64_t col = i1; col < i2; ++col) {
            if (g > 0 && opt.staticGroups)
                current = staticGrids[size_t(permCpu[size_t(col)] / g)];
            const auto& [grid, slot] = current.byBits.at(bitsP[size_t(col)]);
            slotOfProcessed[size_t(col)] = slot;
            sc.push_back(grid.scale);
            zc.push_back(grid.zero);
        }
        const at::Tensor scale = at::cat(sc, 1).contiguous(), zero = at::cat(zc, 1).contiguous();
        const at::Tensor Hinv1 = U.slice(0, i1, i2).slice(1, i1, i2).contiguous();
        at::Tensor c1 = at::empty_like(W1), Q1 = at::empty_like(W1), Err1 = at::empty_like(W1);
        gptqBlock(W1, Hinv1, scale, zero, maxqAll.slice(0, i1, i2).contiguous(), c1, Q1, Err1);
        codes.slice(1, i1, i2).copy_(c1);
        Q.slice(1, i1, i2).copy_(Q1);
        losses.slice(1, i1, i2).copy_(Err1.square().mul_(0.5)); // (w − q)² / Hinv_ii² / 2
        // Lazy batch update of all later columns.
        if (i2 < cols)
            W.slice(1, i2).sub_(at::matmul(Err1, U.slice(0, i1, i2).slice(1, i2)));
        if (ctx)
            ctx->checkCancelled();
    }

    QuantizedWeight out;
    out.groupSize = g;
    out.damping = damp;
    if (damp != requestedDamp) {
        std::ostringstream msg;
        msg << "damping raised to " << damp << " (" << damp / requestedDamp << "x the requested " << requestedDamp
            << "): the Hessian was not positive definite";
        out.fallback = msg.str();
    }
    std::vector<at::Tensor> scales, zeros;
    for (const Grid& s : slots) {
        scales.push_back(s.scale);
        zeros.push_back(s.zero);
        out.slotBits.push_back(s.bits);
    }
    out.scales = at::cat(scales, 1);
    out.zeros = at::cat(zeros, 1);
    at::Tensor slotTensor = at::empty({cols}, at::TensorOptions().dtype(at::kInt));
    for (int64_t j = 0; j < cols; ++j)
        slotTensor.data_ptr<int>()[permCpu[size_t(j)]] = slotOfProcessed[size_t(j)];
    out.slotOfColumn = slotTensor.to(dev);
    if (opt.actOrder) {
        const at::Tensor inv = at::argsort(perm);
        Q = Q.index_select(1, inv);
        codes = codes.index_select(1, inv);
        losses = losses.index_select(1, inv);
        out.permutation = perm;
    }
    if (!at::isfinite(Q).all().item<bool>())
        throw Error("GPTQ: the quantized weights came out NaN or Inf (scales or zeros not finite)");
    out.codes = codes.to(at::kByte);
    out.dequant = Q;
    out.columnLoss = losses.sum(0);
    return out;
}

} // namespace mpq::detail
