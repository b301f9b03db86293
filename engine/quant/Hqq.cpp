#include "quant/detail/Hqq.h"
#include "quant/detail/HqqZero.h"

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <limits>

namespace mpq::detail {

at::Tensor metaQuantize(const at::Tensor& x, int bits, int64_t groupSize, const at::Tensor& atLeast)
{
    TORCH_CHECK(bits >= 1 && bits <= 16, "meta-quantization needs 1..16 bits, got ", bits);
    TORCH_CHECK(groupSize > 0, "meta-quantization group size must be positive, got ", groupSize);
    TORCH_CHECK(!atLeast.defined() || atLeast.sizes() == x.sizes(),
                "meta-quantization: the lower limits must have the values' shape");
    const int64_t n = x.numel();
    if (n == 0)
        return x.to(at::kFloat);
    const int64_t groups = (n + groupSize - 1) / groupSize;
    // Pads the flattened values to whole groups by repeating the last one: the last group's min
    // and max stay as they are.
    auto grouped = [&](const at::Tensor& t) {
        const at::Tensor flat = t.to(at::kFloat).reshape({-1});
        if (groups * groupSize == n)
            return flat.view({groups, groupSize});
        return at::cat({flat, flat.slice(0, n - 1, n).expand({groups * groupSize - n})})
            .view({groups, groupSize});
    };
    const at::Tensor v = grouped(x);
    const at::Tensor lo = v.amin(1, true);
    const at::Tensor hi = v.amax(1, true);
    const double maxq = std::ldexp(1.0, bits) - 1.0;
    const at::Tensor step = (hi - lo) / maxq;
    const at::Tensor safe = at::where(step > 0, step, at::ones_like(step));
    at::Tensor q = ((v - lo) / safe).round_();
    if (atLeast.defined())
        q = at::maximum(q, ((grouped(atLeast) - lo) / safe).ceil_());
    q.clamp_(0.0, maxq);
    return (lo + q * safe).reshape({-1}).slice(0, 0, n).view(x.sizes());
}

namespace {

/// The half-quadratic zero-point iterations of hqq's optimize_weights_proximal on groups laid out
/// as rows of V [n, gsz], with the (already stored) scales s [n, 1] fixed. hqq writes them with
/// its inverse scale 1/s:
///     q   = clamp(round(W/s + z)),  Ŵ = s·(q − z)
///     W_e = shrink_p(W − Ŵ, β) = sign·relu(|W − Ŵ| − |W − Ŵ|^(p−1)/β)    (ℓp shrinkage)
///     z   = mean_g(q − (W − W_e)/s)                                     (closed-form zero)
///     β  ← κ·β
/// In code units, with the residual d = W/s + z − q = (W − Ŵ)/s, W_e/s = d·relu(1 − c|d|^(p−2))
/// for c = s^(p−2)/β, so the zero update is z ← z − mean_g(d · min((τ/|d|)^(2−p), 1)) with the
/// threshold τ = c^(1/(2−p)) = β^(−1/(2−p))/s: residuals below τ are shrunk to nothing (W_e = 0).
/// For LLM weights (|W − Ŵ| ≪ β^(−1/(2−p)) ≈ 0.17) that holds for every residual, and the update
/// is the mean residual; the power is then skipped (one max per group decides, same result).
/// Returns the best zero (hqq's early stop on the mean absolute error) and fills the stats.
at::Tensor optimiseZero(const at::Tensor& V, const at::Tensor& s, at::Tensor z, double maxq,
                        const HqqOptions& opt, int& updates, int& kept, double& firstError,
                        double& bestError)
{
    const double e = 2.0 - opt.lpNorm;
#ifdef MPQ_WITH_CUDA_KERNELS
    if (V.is_cuda() && V.size(1) <= kHqqZeroCudaMaxGroup) {
        // Every iteration in one kernel, then hqq's early stop replayed on the per-iteration
        // errors: the same updates and the same kept zero as the loop below.
        at::Tensor zHist, errHist;
        hqqZeroCuda(V, s, z, maxq, e, std::pow(opt.beta, -1.0 / e), std::pow(opt.kappa, -1.0 / e),
                    opt.iterations, zHist, errHist);
        const at::Tensor errs = (errHist.sum(1, false, at::kDouble) / double(V.numel())).cpu();
        const double* err = errs.data_ptr<double>();
        bestError = std::numeric_limits<double>::infinity();
        kept = 0;
        updates = 0;
        for (int k = 0;; ++k) {
            if (k == 0)
                firstError = err[0];
            if (err[k] < bestError) {
                bestError = err[k];
                kept = k;
            } else if (opt.earlyStop) {
                break;
            }
            if (k == opt.iterations)
                break;
            ++updates;
        }
        return zHist[kept].view({V.size(0), 1});
    }
#endif
    const at::Tensor u = V / s;
    at::Tensor tau = s.reciprocal() * std::pow(opt.beta, -1.0 / e); // falls by κ^(1/(2−p)) per step
    const double tauDecay = std::pow(opt.kappa, -1.0 / e);
    at::Tensor bestZ = z;
    bestError = std::numeric_limits<double>::infinity();
    kept = 0;
    updates = 0;
    const double count = double(V.numel());
    // Two work buffers the size of V, reused by every iteration (no allocation in the loop).
    at::Tensor d = at::empty_like(u), q = at::empty_like(u);
    for (int k = 0;; ++k) {
        at::add_out(d, u, z);
        at::clamp_out(q, d, 0.0, maxq).round_();
        d.sub_(q);                                  // (W − Ŵ)/s
        // One host sync per iteration for both: mean |W − Ŵ| in weight units (hqq's early-stop
        // measure) and whether any residual reaches the shrinkage threshold. Fused norms read d
        // once each and write nothing of its size.
        const at::Tensor l1 = at::linalg_vector_norm(d, 1, {1}, true);
        const at::Tensor linf = at::linalg_vector_norm(d, INFINITY, {1}, true);
        const at::Tensor both = at::stack({(l1 * s).sum() / count, (linf / tau).max()})
                                    .to(at::kCPU, at::kDouble);
        const double err = both[0].item<double>();
        const bool shrinkActive = both[1].item<double>() > 1.0;
        if (k == 0)
            firstError = err;
        if (err < bestError) {
            bestError = err;
            bestZ = z;
            kept = k;
        } else if (opt.earlyStop) {
            break;
        }
        if (k == opt.iterations)
            break;
        if (shrinkActive) // at d = 0: τ/0 = inf, min(inf, 1)·0 = 0
            z = z - d.abs().reciprocal_().mul_(tau).pow_(e).clamp_max_(1.0).mul_(d).mean(1, true);
        else
            z = z - d.mean(1, true);
        tau = tau * tauDecay;
        ++updates;
    }
    return bestZ;
}

} // namespace

QuantizedWeight hqqQuantize(const at::Tensor& W, int bits, int64_t groupSize, const HqqOptions& opt,
                            HqqStats* stats)
{
    TORCH_CHECK(W.dim() == 2, "HQQ quantizes 2-D weight matrices, got ", W.dim(), " dimensions");
    TORCH_CHECK(bits >= 1 && bits <= 8, "HQQ bit-width must be in 1..8, got ", bits);
    TORCH_CHECK(groupSize == -1 || groupSize > 0,
                "HQQ group size must be positive or -1 (one group per row), got ", groupSize);
    TORCH_CHECK(opt.lpNorm > 0 && opt.lpNorm <= 1, "HQQ lp_norm must be in (0, 1], got ", opt.lpNorm);
    TORCH_CHECK(opt.beta > 0 && opt.kappa > 1, "HQQ needs beta > 0 and kappa > 1");
    TORCH_CHECK(opt.iterations >= 0, "HQQ iterations must not be negative");
    TORCH_CHECK(opt.metaBits == 0 || (opt.metaBits >= 2 && opt.metaBits <= 16),
                "HQQ meta bits must be 0 (fp32 scales and zeros) or 2..16, got ", opt.metaBits);
    c10::InferenceMode guard;

    const at::Tensor Wf = W.to(at::kFloat).contiguous();
    const int64_t rows = Wf.size(0), cols = Wf.size(1);
    TORCH_CHECK(rows > 0 && cols > 0, "HQQ needs a non-empty matrix");
    const int64_t g = groupSize == -1 ? cols : std::min(groupSize, cols);
    const int64_t full = cols / g, tail = cols - full * g;
    const int64_t slots = full + (tail > 0 ? 1 : 0);
    const double maxq = std::ldexp(1.0, bits) - 1.0;

    // Groups as rows of a matrix: the full groups [rows·full, g] and the remainder [rows, tail].
    const at::Tensor mainV = Wf.slice(1, 0, full * g).reshape({rows * full, g});
    const at::Tensor tailV = tail > 0 ? Wf.slice(1, full * g, cols).contiguous() : at::Tensor();
    auto perSlot = [&](const at::Tensor& mainPart, const at::Tensor& tailPart) {
        at::Tensor m = mainPart.view({rows, full});
        return tail > 0 ? at::cat({m, tailPart.view({rows, 1})}, 1) : m;
    };
    const at::Tensor lo = perSlot(mainV.amin(1), tail > 0 ? tailV.amin(1) : at::Tensor());
    const at::Tensor hi = perSlot(mainV.amax(1), tail > 0 ? tailV.amax(1) : at::Tensor());

    // 1. min-max start. A constant group c gets s = |c|/maxq (z = ∓maxq), which keeps its zero
    //    in the usual range; an all-zero group gets a tiny positive scale.
    const at::Tensor range = hi - lo;
    at::Tensor s = at::where(range > 0, range / maxq, at::clamp_min(lo.abs(), 1e-20) / maxq);
    // 2. the scale is stored meta-quantized; the zero is optimised for the stored scale. The
    //    stored scale may shrink the group's range by half a code at most (maxq·s' ≥ range − s'/2):
    //    a scale rounded further down would clip the group's extremes, by up to 13 codes at 8 bits.
    if (opt.metaBits > 0)
        s = metaQuantize(s, opt.metaBits, opt.metaGroupSize, s * (maxq / (maxq + 0.5)));
    at::Tensor z = -lo / s;

    // 3. half-quadratic zero-point optimisation, vectorised over all groups of each part.
    HqqStats st;
    {
        const at::Tensor sMain = s.slice(1, 0, full).reshape({rows * full, 1});
        const at::Tensor zMain = z.slice(1, 0, full).reshape({rows * full, 1});
        int updates = 0, kept = 0;
        double first = 0, best = 0;
        at::Tensor zm = optimiseZero(mainV, sMain, zMain, maxq, opt, updates, kept, first, best);
        st.iterations = updates;
        st.bestIteration = kept;
        const double nMain = double(rows * full * g);
        st.initialError = first * nMain;
        st.finalError = best * nMain;
        at::Tensor zt;
        if (tail > 0) {
            const at::Tensor sTail = s.slice(1, full, slots).contiguous();
            const at::Tensor zTail = z.slice(1, full, slots).contiguous();
            zt = optimiseZero(tailV, sTail, zTail, maxq, opt, updates, kept, first, best);
            st.initialError += first * double(rows * tail);
            st.finalError += best * double(rows * tail);
        }
        z = perSlot(zm, zt);
        st.initialError /= double(rows * cols);
        st.finalError /= double(rows * cols);
    }
    // 4. the zero is stored meta-quantized; the codes are the best ones for the stored s and z.
    if (opt.metaBits > 0)
        z = metaQuantize(z, opt.metaBits, opt.metaGroupSize);

    // Codes and Ŵ per group view, broadcasting s and z (the same elementwise operations as
    // QuantizedWeight::dequantize(), so that the two agree bit for bit).
    auto quantizePart = [&](const at::Tensor& V, const at::Tensor& sp, const at::Tensor& zp,
                            at::Tensor& codes, at::Tensor& dequant) {
        codes = (V / sp).add_(zp).clamp_(0.0, maxq).round_();
        dequant = sp * (codes - zp);
    };
    at::Tensor codes, dequant;
    quantizePart(mainV, s.slice(1, 0, full).reshape({rows * full, 1}),
                 z.slice(1, 0, full).reshape({rows * full, 1}), codes, dequant);
    codes = codes.view({rows, full * g});
    dequant = dequant.view({rows, full * g});
    if (tail > 0) {
        at::Tensor tailCodes, tailDequant;
        quantizePart(tailV, s.slice(1, full, slots), z.slice(1, full, slots), tailCodes, tailDequant);
        codes = at::cat({codes, tailCodes}, 1);
        dequant = at::cat({dequant, tailDequant}, 1);
    }

    QuantizedWeight qw;
    qw.slotOfColumn = at::div(at::arange(cols, Wf.options().dtype(at::kLong)), g, "floor")
                          .clamp_max_(slots - 1)
                          .to(at::kInt);
    qw.codes = codes.to(at::kByte);
    qw.scales = s.contiguous();
    qw.zeros = z.contiguous();
    qw.slotBits.assign(static_cast<size_t>(slots), bits);
    qw.groupSize = groupSize == -1 ? -1 : g;
    qw.dequant = dequant;
    if (stats)
        *stats = st;
    return qw;
}

} // namespace mpq::detail
