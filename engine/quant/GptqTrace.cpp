// GPTQ step by step (docs/teaching.md): the same arithmetic as gptqQuantize and gptqBlock's CPU
// kernel (per-channel grid, natural order), with a snapshot after each column and each block.
#include "quant/GptqTrace.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/Grid.h"
#include "session/Session.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mpq {

namespace {

std::vector<float> toVector(const at::Tensor& t)
{
    const at::Tensor c = t.to(at::kFloat).cpu().contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

double outputError(const at::Tensor& dW, const at::Tensor& H)
{
    const at::Tensor d = dW.to(at::kDouble);
    return (at::matmul(d, H.to(at::kDouble)) * d).sum().item<double>(); // tr(ΔW H ΔWᵀ)
}

} // namespace

GptqTrace traceGptq(const std::vector<float>& Wv, int64_t rows, int64_t cols, const std::vector<float>& Hv,
                    const GptqTraceOptions& opt)
{
    if (rows <= 0 || cols <= 0 || int64_t(Wv.size()) != rows * cols || int64_t(Hv.size()) != cols * cols)
        throw Error("GPTQ trace: W must be rows x cols and H cols x cols");
    if (rows * cols > opt.maxCells)
        throw Error("GPTQ trace: a " + std::to_string(rows) + " x " + std::to_string(cols) +
                    " matrix is too large to play back (at most " + std::to_string(opt.maxCells) + " weights)");
    if (opt.bits < 1 || opt.bits > 8)
        throw Error("GPTQ trace: bits must be in 1..8");
    if (opt.blockSize <= 0)
        throw Error("GPTQ trace: the block size must be positive");
    c10::InferenceMode guard;
    GptqTrace t;
    t.rows = rows;
    t.cols = cols;
    t.bits = opt.bits;
    t.blockSize = opt.blockSize;
    const at::Tensor W0 = at::from_blob(const_cast<float*>(Wv.data()), {rows, cols}, at::kFloat).clone();
    at::Tensor H = at::from_blob(const_cast<float*>(Hv.data()), {cols, cols}, at::kFloat).clone();
    at::Tensor W = W0.clone();
    // As gptqQuantize: dead inputs zeroed, damping λ = dampPercent · mean(diag H).
    const at::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1.0);
    W.masked_fill_(dead.unsqueeze(0), 0.0);
    t.original = toVector(W);
    t.hessianDiagonal = toVector(H.diagonal());
    t.damping = opt.dampPercent * H.diagonal().mean().item<double>();
    const at::Tensor Hd = H + t.damping * at::eye(cols, at::kFloat);
    auto [L, info] = at::linalg_cholesky_ex(Hd);
    if (info.item<int>() != 0)
        throw Error("GPTQ trace: H is not positive definite with damping " + std::to_string(t.damping));
    auto [U, info2] = at::linalg_cholesky_ex(at::cholesky_inverse(L), /*upper=*/true);
    if (info2.item<int>() != 0)
        throw Error("GPTQ trace: H⁻¹ has no Cholesky factor");
    U = U.contiguous();
    t.hinvDiagonal = toVector(U.diagonal());

    const detail::Grid grid = detail::fitGrid(W, opt.bits, opt.symmetric);
    const at::Tensor scale = grid.scale.contiguous(), zero = grid.zero.contiguous();
    const float maxq = float((1 << opt.bits) - 1);
    const float* s = scale.data_ptr<float>();
    const float* z = zero.data_ptr<float>();
    at::Tensor Q = at::zeros_like(W);
    auto snapshot = [&](GptqTraceStep& step, int64_t done) {
        // Quantized columns show Q, the others the working weights.
        at::Tensor cur = W.clone();
        if (done > 0)
            cur.slice(1, 0, done).copy_(Q.slice(1, 0, done));
        step.weights = toVector(cur);
        step.change = toVector(cur - W0);
    };
    for (int64_t i1 = 0; i1 < cols; i1 += opt.blockSize) {
        const int64_t i2 = std::min(cols, i1 + opt.blockSize), count = i2 - i1;
        at::Tensor W1 = W.slice(1, i1, i2).contiguous();
        const at::Tensor Hinv1 = U.slice(0, i1, i2).slice(1, i1, i2).contiguous();
        at::Tensor Err1 = at::zeros_like(W1);
        float* w = W1.data_ptr<float>();
        const float* h = Hinv1.data_ptr<float>();
        float* e = Err1.data_ptr<float>();
        for (int64_t i = 0; i < count; ++i) {
            GptqTraceStep step;
            step.kind = GptqTraceStep::Kind::Column;
            step.column = i1 + i;
            step.blockStart = i1;
            step.blockEnd = i2;
            step.columnError.resize(size_t(rows));
            // gptqBlock's CPU kernel, one column for every row (rows are independent, so the
            // order of the loops does not change any result).
            for (int64_t r = 0; r < rows; ++r) {
                float* wr = w + r * count;
                const float x = wr[i];
                const float code = std::fmin(std::fmax(std::nearbyint(x / s[r]) + z[r], 0.0f), maxq);
                const float deq = s[r] * (code - z[r]);
                const float err = (x - deq) / h[i * count + i];
                Q.data_ptr<float>()[r * cols + i1 + i] = deq;
                e[r * count + i] = err;
                step.columnError[size_t(r)] = x - deq;
                step.loss += 0.5 * double(err) * double(err); // (w − q)² / Hinv_ii² / 2
                const float* hi = h + i * count;
                for (int64_t j = i + 1; j < count; ++j) {
                    const float before = wr[j];
                    wr[j] -= err * hi[j];
                    step.maxUpdate = std::max(step.maxUpdate, double(std::abs(wr[j] - before)));
                }
            }
            W.slice(1, i1, i2).copy_(W1);
            t.totalLoss += step.loss;
            snapshot(step, i1 + i + 1);
            t.steps.push_back(std::move(step));
        }
        if (i2 < cols) { // the lazy batch update, as gptqQuantize does it
            GptqTraceStep step;
            step.kind = GptqTraceStep::Kind::BlockUpdate;
            step.blockStart = i1;
            step.blockEnd = i2;
            const at::Tensor before = W.slice(1, i2).clone();
            W.slice(1, i2).sub_(at::matmul(Err1, U.slice(0, i1, i2).slice(1, i2)));
            step.maxUpdate = (W.slice(1, i2) - before).abs().max().item<double>();
            snapshot(step, i2);
            t.steps.push_back(std::move(step));
        }
    }
    t.quantized = toVector(Q);
    const at::Tensor rtn = detail::dequantizeCodes(detail::quantizeToCodes(W0, grid), grid);
    t.rtnOutputError = outputError(W0 - rtn, H);
    t.gptqOutputError = outputError(W0 - Q, H);
    return t;
}

GptqTrace traceGptqFromSession(const std::string& sessionPath, const std::string& run, const std::string& tensor,
                               const GptqTraceOptions& options)
{
    const session::Session s = session::Session::open(sessionPath);
    const session::RunInfo info = s.run(run);
    const session::MatrixDetail d = s.matrix(run, tensor);
    const int64_t cols = d.summary.cols, rows = d.summary.rows;
    if (int64_t(d.hessian.size()) != cols * cols)
        throw SettingError("storeHessianLimit", sessionPath + "#" + run + ": " + tensor +
                                                    " has no stored full Hessian (data-free run, or wider than the "
                                                    "stored-Hessian limit)");
    if (rows * cols > options.maxCells)
        throw Error(tensor + ": a " + std::to_string(rows) + " x " + std::to_string(cols) +
                    " matrix is too large to play back (at most " + std::to_string(options.maxCells) + " weights)");
    const ModelSource source = ModelSource::open(info.model.path);
    const at::Tensor W = detail::loadTensor(source, tensor, at::kFloat, at::Device(at::kCPU));
    GptqTrace t = traceGptq(toVector(W), rows, cols, d.hessian, options);
    t.tensor = tensor;
    return t;
}

} // namespace mpq
