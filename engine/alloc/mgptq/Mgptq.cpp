// MG-PTQ (Liu et al., arXiv 2501.18154): per-column bit allocation by a GCN over the Hessian
// graph, trained per matrix with Gumbel-Softmax on L = L_quant + α·L_bit (docs/mgptq.md).
#include "alloc/mgptq/Mgptq.h"
#include "alloc/mgptq/detail/MgptqGraph.h"
#include "alloc/mgptq/detail/MgptqModel.h"
#include "alloc/mgptq/detail/MgptqTrain.h"
#include "core/detail/CudaGraph.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/detail/TorchDevice.h"
#include "quant/detail/Gptq.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <queue>
#include <set>

namespace mpq {

double averageColumnBits(const std::vector<uint8_t>& columnBits)
{
    double s = 0;
    for (uint8_t b : columnBits)
        s += b;
    return columnBits.empty() ? 0.0 : s / double(columnBits.size());
}

double columnBitsWithOverhead(const std::vector<uint8_t>& columnBits, int64_t groupSize, bool symmetric)
{
    const int64_t cols = int64_t(columnBits.size());
    if (cols == 0)
        return 0;
    const int64_t g = groupSize > 0 ? groupSize : cols;
    double overhead = 0; // bits per row
    for (int64_t c0 = 0; c0 < cols; c0 += g) {
        std::set<int> present(columnBits.begin() + c0, columnBits.begin() + std::min(cols, c0 + g));
        for (int b : present)
            overhead += 16.0 + (symmetric ? 0.0 : double(b));
    }
    return averageColumnBits(columnBits) + overhead / double(cols);
}

int64_t repairToTarget(std::vector<int>& choice, const std::vector<std::vector<double>>& error,
                       const std::vector<int>& bitsSet, double target)
{
    const size_t n = choice.size();
    double total = 0;
    for (int c : choice)
        total += bitsSet[size_t(c)];
    const double limit = target * double(n) + 1e-9;
    int64_t moves = 0;
    using Entry = std::tuple<double, size_t, int>; // (key, column, candidate when queued)
    if (total > limit) {
        // Down: cheapest error increase per bit saved first.
        std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> q;
        auto push = [&](size_t j) {
            const int c = choice[j];
            if (c > 0)
                q.emplace((error[j][size_t(c - 1)] - error[j][size_t(c)]) / double(bitsSet[size_t(c)] - bitsSet[size_t(c - 1)]),
                          j, c);
        };
        for (size_t j = 0; j < n; ++j)
            push(j);
        while (total > limit && !q.empty()) {
            auto [key, j, c] = q.top();
            q.pop();
            if (choice[j] != c)
                continue;
            total -= bitsSet[size_t(c)] - bitsSet[size_t(c - 1)];
            choice[j] = c - 1;
            ++moves;
            push(j);
        }
    } else {
        // Up: largest error decrease per bit spent first, while the budget allows.
        std::priority_queue<Entry> q;
        auto push = [&](size_t j) {
            const int c = choice[j];
            if (size_t(c + 1) < bitsSet.size())
                q.emplace((error[j][size_t(c)] - error[j][size_t(c + 1)]) / double(bitsSet[size_t(c + 1)] - bitsSet[size_t(c)]),
                          j, c);
        };
        for (size_t j = 0; j < n; ++j)
            push(j);
        while (!q.empty()) {
            auto [key, j, c] = q.top();
            q.pop();
            if (choice[j] != c)
                continue;
            const double step = bitsSet[size_t(c + 1)] - bitsSet[size_t(c)];
            if (total + step > limit)
                continue;
            total += step;
            choice[j] = c + 1;
            ++moves;
            push(j);
        }
    }
    return moves;
}

} // namespace mpq

namespace mpq::detail {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

void synchronize(const at::Tensor& t)
{
    if (t.is_cuda())
        (void)t.sum().item<double>(); // a device round trip: accurate timings without CUDA headers
}

/// Adam (Kingma & Ba; PyTorch's defaults β = (0.9, 0.999), ε = 1e-8, no weight decay) over all
/// parameters at once with multi-tensor ("foreach") kernels. The step-dependent factors come in
/// as device tensors (factors()), not host numbers, so that a captured CUDA graph of the step
/// reads each step's values.
class MultiTensorAdam {
public:
    MultiTensorAdam(std::vector<at::Tensor> params, double lr) : m_params(std::move(params)), m_lr(lr)
    {
        torch::NoGradGuard noGrad;
        for (const auto& p : m_params) {
            m_m.push_back(at::zeros_like(p));
            m_v.push_back(at::zeros_like(p));
        }
    }

    /// Step t's (1-based) factors: −lr/(1 − β1ᵗ) and 1/√(1 − β2ᵗ).
    std::array<double, 2> factors(int64_t t) const
    {
        return {-m_lr / (1.0 - std::pow(kBeta1, double(t))), 1.0 / std::sqrt(1.0 - std::pow(kBeta2, double(t)))};
    }

    /// One step; negStep and invSqrtBias2 are 0-dim tensors holding factors(t) on the
    /// parameters' device. Clears the gradients (set to none).
    void step(const at::Tensor& negStep, const at::Tensor& invSqrtBias2)
    {
        torch::NoGradGuard noGrad;
        std::vector<at::Tensor> grads;
        for (auto& p : m_params)
            grads.push_back(p.grad().defined() ? p.grad() : at::zeros_like(p));
        at::_foreach_mul_(m_m, kBeta1);                              // m = β1 m + (1 − β1) g
        at::_foreach_add_(m_m, grads, 1.0 - kBeta1);
        at::_foreach_mul_(m_v, kBeta2);                              // v = β2 v + (1 − β2) g²
        at::_foreach_addcmul_(m_v, grads, grads, 1.0 - kBeta2);
        std::vector<at::Tensor> denom = at::_foreach_sqrt(m_v);      // √v / √(1 − β2ᵗ) + ε
        for (auto& d : denom)
            d.mul_(invSqrtBias2).add_(kEps);
        const std::vector<at::Tensor> update = at::_foreach_div(m_m, denom);
        for (size_t i = 0; i < m_params.size(); ++i)                 // p −= lr/(1 − β1ᵗ) · m / denom
            m_params[i].addcmul_(update[i], negStep);
        for (auto& p : m_params)
            p.mutable_grad() = at::Tensor(); // set_to_none
    }

private:
    static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
    std::vector<at::Tensor> m_params, m_m, m_v;
    double m_lr;
};

} // namespace

at::Tensor sampleGumbel(at::IntArrayRef sizes, at::Generator generator)
{
    // U ∈ (0, 1) strictly, so that both logarithms are finite.
    const at::Tensor u = at::empty(sizes, at::kFloat).uniform_(1e-10, 1.0 - 1e-7, generator);
    return -(-u.log()).log();
}

at::Tensor gumbelSoftmax(const at::Tensor& logits, const at::Tensor& gumbel, double tau, bool hard)
{
    return gumbelSoftmax(logits, gumbel, at::scalar_tensor(tau, logits.options()), hard);
}

at::Tensor gumbelSoftmax(const at::Tensor& logits, const at::Tensor& gumbel, const at::Tensor& tau, bool hard)
{
    const at::Tensor y = at::softmax((logits + gumbel.to(logits.options())) / tau, -1);
    if (!hard)
        return y;
    // Straight-through: the forward value is one-hot, the gradient the soft sample's.
    const at::Tensor index = y.argmax(-1, true);
    const at::Tensor oneHot = at::zeros_like(y).scatter_(-1, index, 1.0);
    return oneHot - y.detach() + y;
}

double annealedTau(double tauStart, double tauEnd, int epoch, int epochs)
{
    if (epochs <= 1)
        return tauEnd;
    const double t = double(epoch) / double(epochs - 1);
    return tauStart * std::pow(tauEnd / tauStart, t); // τ_t = τ0 (τ1/τ0)^(t/(E−1))
}

std::string MgptqResult::toJson() const
{
    nlohmann::json j;
    j["alpha"] = alpha;
    j["predicted_cost"] = predictedCost;
    j["normalizer"] = normalizer;
    j["code_bits"] = codeBits;
    j["bits_with_overhead"] = bitsWithOverhead;
    j["argmax_bits"] = argmaxBits;
    j["repair_moves"] = repairMoves;
    j["polish_moves"] = polishMoves;
    if (relaxIterations >= 0)
        j["relax"] = {{"iterations", relaxIterations}, {"change", relaxChange}};
    j["restart_costs"] = restartCosts;
    j["chosen_restart"] = chosenRestart;
    if (greedyCost >= 0)
        j["greedy_cost"] = greedyCost;
    j["act_order"] = actOrder;
    j["graph"] = graphKind;
    j["cuda_graph"] = cudaGraph;
    if (!cudaGraphFailure.empty())
        j["cuda_graph_failure"] = cudaGraphFailure;
    if (topK > 0)
        j["top_k"] = topK;
    j["seconds"] = {{"graph", graphSeconds}, {"precompute", precomputeSeconds}, {"train", trainSeconds},
                    {"relax", relaxSeconds}, {"polish", polishSeconds}, {"total", totalSeconds}};
    std::vector<double> loss, lq, lb, avg, alphas, taus;
    for (const auto& e : curve) {
        loss.push_back(e.loss);
        lq.push_back(e.lQuant);
        lb.push_back(e.lBit);
        avg.push_back(e.avgBits);
        alphas.push_back(e.alpha);
        taus.push_back(e.tau);
    }
    if (!softmax.empty()) {
        // 4 decimals: what the Explain view prints; keeps a 7B down_proj's record near 200 kB.
        std::vector<double> p(softmax.size());
        for (size_t i = 0; i < p.size(); ++i)
            p[i] = std::round(double(softmax[i]) * 1e4) / 1e4;
        j["softmax"] = {{"bits", softmaxBits}, {"p", p}};
    }
    j["curves"] = {{"loss", loss}, {"l_quant", lq}, {"l_bit", lb}, {"avg_bits", avg}, {"alpha", alphas}, {"tau", taus}};
    return j.dump();
}

void validateMgptqOptions(const MgptqOptions& opt, bool needsNetwork)
{
    if (opt.bitsSet.empty())
        throw SettingError("mgptq.bitsSet", "mgptq: the set of candidate bit-widths is empty");
    std::set<int> seen;
    for (int b : opt.bitsSet) {
        if (b < 1 || b > 8)
            throw SettingError("mgptq.bitsSet", "mgptq: candidate bit-width " + std::to_string(b) + " is outside 1..8");
        if (!seen.insert(b).second)
            throw SettingError("mgptq.bitsSet", "mgptq: candidate bit-width " + std::to_string(b) + " appears twice");
    }
    if (!opt.alpha && !opt.targetBits)
        throw SettingError({"mgptq.alpha", "mgptq.targetBits"},
                           "mgptq: give alpha (a fixed bit penalty) or target bits (a target average)");
    if (opt.alpha && !(*opt.alpha >= 0))
        throw SettingError("mgptq.alpha", "mgptq: alpha must be non-negative");
    if (opt.targetBits && (*opt.targetBits < *seen.begin() || *opt.targetBits > *seen.rbegin()))
        throw SettingError("mgptq.targetBits", "mgptq: target bits " + std::to_string(*opt.targetBits) +
                                                   " is outside the candidate range [" + std::to_string(*seen.begin()) + ", " + std::to_string(*seen.rbegin()) + "]");
    if (!needsNetwork)
        return;
    if (opt.restarts < 1)
        throw SettingError("mgptq.restarts", "mgptq: restarts must be at least 1");
    if (opt.epochs < 0)
        throw SettingError("mgptq.epochs", "mgptq: epochs must be at least 1, or 0 for the mode's default");
    if (!(opt.learningRate > 0))
        throw SettingError("mgptq.learningRate", "mgptq: the learning rate must be positive");
    if (!(opt.tauStart > 0 && opt.tauEnd > 0))
        throw SettingError({"mgptq.tauStart", "mgptq.tauEnd"},
                           "mgptq: the Gumbel-Softmax temperatures (start and end) must be positive");
    if (opt.hiddenDim <= 0 || opt.featureDim < 0 || opt.topK <= 0 || opt.denseLimit < 0)
        throw Error("mgptq: hidden/feature dimensions, top-k and dense limit must be positive");
}

uint64_t mgptqRestartSeed(uint64_t seed, int restart)
{
    if (restart == 0)
        return seed;
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * uint64_t(restart); // SplitMix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

namespace {

/// One training of the network (one restart) in the column frame of X and G: the argmax and
/// the final softmax.
struct Training {
    std::vector<int> choice;
    at::Tensor softmax; ///< [n, K] CPU fp32
    std::vector<MgptqEpoch> curve;
    bool cudaGraph = false;
    std::string cudaGraphFailure;
};

Training trainOnce(const at::Tensor& X, const HessianGraph& graph, const at::Tensor& Gstep, double Z,
                   const std::vector<int>& bitsSet, const MgptqOptions& opt, uint64_t seed, bool useGraph,
                   const at::Device& device, JobContext* ctx, const MgptqObserver* observer, int restart)
{
    const int64_t n = X.size(0), K = int64_t(bitsSet.size());
    const auto options = at::TensorOptions().dtype(at::kFloat).device(device);
    Training t;
    // The network, initialised from the seed on the CPU, then moved to the device.
    auto gen = at::detail::createCPUGenerator(seed);
    MgptqNet net(MgptqNetOptions(X.size(1), opt.hiddenDim, K).useGraph(useGraph).skip(opt.skipFeatures));
    net->initialize(gen);
    net->to(device);
    MultiTensorAdam adam(net->parameters(), opt.learningRate);
    const at::Tensor bitsT = at::tensor(std::vector<float>(bitsSet.begin(), bitsSet.end())).to(device);

    // Fixed α: L_bit = E[avg bits]. Target mode: an exact penalty on the excess,
    // L_bit = max(0, E[avg bits] − target), with a weight above any useful trade-off (α = 10: one
    // bit of average above the target costs ten times the all-lowest error), so that training
    // settles at the target; the greedy repair then makes the argmax meet it.
    const bool targetMode = opt.targetBits.has_value();
    const double target = targetMode ? *opt.targetBits : 0.0;
    const double alpha = opt.alpha ? *opt.alpha : opt.alphaStart;
    // Everything that changes from epoch to epoch is copied into fixed tensors before each step,
    // so that the step can be captured once as a CUDA graph and replayed (CapturedStep): per
    // epoch, its Gumbel noise (all epochs' drawn at once, the same draws in the same order as
    // one call per epoch) and its scalars (τ, Adam's two bias factors); the step writes its
    // record (loss, L_quant, L_bit, argmax bits) into a fixed row, read back once at the end.
    const int epochs = mgptqEpochs(opt);
    const at::Tensor gumbelAll = sampleGumbel({epochs, n, K}, gen).to(device);
    std::vector<float> schedule;
    for (int epoch = 0; epoch < epochs; ++epoch) {
        const auto f = adam.factors(epoch + 1);
        schedule.insert(schedule.end(), {float(annealedTau(opt.tauStart, opt.tauEnd, epoch, epochs)),
                                         float(f[0]), float(f[1])});
    }
    const at::Tensor scheduleAll = at::tensor(schedule).view({epochs, 3}).to(device);
    const at::Tensor gumbel = at::empty({n, K}, options);
    const at::Tensor scalars = at::empty({3}, options);
    const at::Tensor tauT = scalars[0], negStepT = scalars[1], invSqrtBias2T = scalars[2];
    const at::Tensor record = at::empty({4}, options);
    const at::Tensor records = at::empty({epochs, 4}, options);
    auto step = [&] {
        const at::Tensor logits = net->forward(X, graph);
        const at::Tensor y = gumbelSoftmax(logits, gumbel, tauT, opt.straightThrough);
        const at::Tensor v = y.t().reshape({-1});
        // tr(ΔW H ΔWᵀ)/Z = vᵀGv/Z. G is symmetric, so ∂/∂v = 2Gv: with u = Gv computed once
        // (no graph through G), 2vᵀu − v̄ᵀu has value vᵀGv and gradient 2u — one mat-vec per
        // step instead of autograd's three (G is 4 GiB for n = 11008; memory-bound).
        const at::Tensor u = at::mv(Gstep, v.detach().to(Gstep.scalar_type())).to(at::kFloat);
        const at::Tensor lQuant = (2.0 * at::dot(v, u) - at::dot(v.detach(), u)) / Z;
        const at::Tensor expBits = (at::softmax(logits, 1) * bitsT).sum(1).mean(); // E[avg bits]
        const at::Tensor lBit = targetMode ? at::relu(expBits - target) : expBits;
        const at::Tensor loss = lQuant + alpha * lBit;                        // L = L_quant + α·L_bit
        loss.backward();
        adam.step(negStepT, invSqrtBias2T); // also clears the gradients
        torch::NoGradGuard noGrad;
        const at::Tensor argmaxBits = bitsT.index_select(0, logits.argmax(1)).mean();
        record.copy_(at::stack({loss.detach(), lQuant.detach(), lBit.detach(), argmaxBits}));
    };
    {
        torch::AutoGradMode gradOn(true);
        CapturedStep captured(device);
        bool replaying = false;
        constexpr int kEagerSteps = 2; // before capture: libraries set up their workspaces
        // Matrices of a group train on parallel threads; their replays run concurrently, but
        // the eager steps and the capture of one thread at a time (concurrent captures crashed).
        std::unique_lock<std::mutex> captureTurn;
        const bool captureSteps = opt.cudaGraph && !observer; // an observer looks after each step
        if (captureSteps && device.is_cuda() && epochs > kEagerSteps)
            captureTurn = std::unique_lock<std::mutex>(CapturedStep::captureTurn());
        for (int epoch = 0; epoch < epochs; ++epoch) {
            if (ctx)
                ctx->checkCancelled();
            {
                torch::NoGradGuard noGrad;
                gumbel.copy_(gumbelAll[epoch]);
                scalars.copy_(scheduleAll[epoch]);
            }
            if (!replaying && captureSteps && device.is_cuda() && epoch == kEagerSteps) {
                replaying = captured.capture(step, &t.cudaGraphFailure);
                t.cudaGraph = replaying;
                captureTurn.unlock();
                if (!replaying) // nothing of the failed capture ran; no gradient may linger
                    for (auto& p : net->parameters())
                        p.mutable_grad() = at::Tensor();
            }
            if (replaying)
                captured.replay();
            else
                step();
            torch::NoGradGuard noGrad;
            records[epoch].copy_(record);
            if (observer && observer->onEpoch &&
                (epoch % std::max(1, observer->every) == 0 || epoch == epochs - 1)) {
                MgptqSnapshot snap;
                snap.epoch = epoch;
                snap.tau = annealedTau(opt.tauStart, opt.tauEnd, epoch, epochs);
                snap.logits = net->forward(X, graph).detach();
                snap.gumbel = gumbel.clone();
                snap.restart = restart;
                observer->onEpoch(snap);
            }
        }
    }
    {
        const at::Tensor rec = records.to(at::kCPU).to(at::kDouble).contiguous();
        const double* p = rec.data_ptr<double>();
        for (int epoch = 0; epoch < epochs; ++epoch, p += 4) {
            MgptqEpoch e;
            e.loss = p[0];
            e.lQuant = p[1];
            e.lBit = p[2];
            e.avgBits = p[3];
            e.alpha = alpha;
            e.tau = annealedTau(opt.tauStart, opt.tauEnd, epoch, epochs);
            t.curve.push_back(e);
        }
    }
    torch::NoGradGuard noGrad;
    const at::Tensor logitsFinal = net->forward(X, graph);
    const at::Tensor choiceT = logitsFinal.argmax(1).to(at::kCPU).to(at::kLong).contiguous();
    t.softmax = at::softmax(logitsFinal, 1).to(at::kCPU).to(at::kFloat).contiguous();
    t.choice.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
        t.choice[size_t(j)] = int(choiceT.data_ptr<int64_t>()[j]);
    return t;
}

} // namespace


// The stable rounding's solve: ridge ε = 1% of mean diag G (unique optimum; each column's own
// error is of that order), stopped at max |ΔP| < 1e-9 or after 5000 iterations.
constexpr double kRelaxRidge = 1e-2, kRelaxTolerance = 1e-9;
constexpr int64_t kRelaxIterations = 5000;

MgptqResult allocateMgptq(const at::Tensor& W, const at::Tensor& H, const MgptqOptions& opt,
                          const GridOptions& grid, bool useGraph, JobContext* ctx, const MgptqColumnOrder& order,
                          const MgptqObserver* observer)
{
    validateMgptqOptions(opt, true);
    TORCH_CHECK(W.dim() == 2 && H.dim() == 2 && H.size(0) == W.size(1) && H.size(1) == W.size(1),
                "MG-PTQ: W ", W.sizes(), " and H ", H.sizes(), " do not match");
    const auto t00 = Clock::now();
    torch::NoGradGuard noGradOutside;
    const at::Tensor Wf = W.to(at::kFloat).contiguous();
    const at::Tensor Hf = H.to(Wf.options());
    const int64_t n = Wf.size(1);
    std::vector<int> bitsSet = opt.bitsSet;
    std::sort(bitsSet.begin(), bitsSet.end());
    const int64_t K = int64_t(bitsSet.size());
    MgptqResult r;
    r.actOrder = order.actOrder;

    // The frame: GPTQ's column order. With act-order everything below (graph, features, noise,
    // repair, polish) sees the columns sorted as GPTQ will process them.
    at::Tensor perm;
    at::Tensor Wo = Wf, Ho = Hf;
    if (order.actOrder) {
        perm = actOrderPermutation(Hf);
        Wo = Wf.index_select(1, perm).contiguous();
        Ho = Hf.index_select(0, perm).index_select(1, perm).contiguous();
    }

    // The graph (skipped by the MLP ablation).
    auto t0 = Clock::now();
    HessianGraph graph;
    if (useGraph) {
        graph = buildHessianGraph(Ho, opt);
        r.graphKind = graph.kind();
        r.topK = graph.dense ? 0 : graph.k;
    } else {
        r.graphKind = "none";
    }
    synchronize(Wf);
    r.graphSeconds = since(t0);

    // Each candidate's RTN error E_b = W − Q_b, once; then the block Gram matrix
    // G[(b, j), (c, k)] = (E_bᵀ E_c)_jk · H_jk, so that for per-column mixture weights p
    // tr(ΔW H ΔWᵀ) = Σ_bc p_bᵀ G_bc p_c with ΔW = Σ_b E_b diag(p_b)  (Σ_b p_b = 1).
    // Groups follow GPTQ's: of permuted columns with act-order, of natural ones with static groups.
    t0 = Clock::now();
    const bool naturalGroups = order.actOrder && grid.groupSize > 0 && order.staticGroups;
    std::vector<at::Tensor> errs;
    for (int b : bitsSet) {
        const at::Tensor& Wq = naturalGroups ? Wf : Wo;
        const at::Tensor bits = at::full({n}, b, at::TensorOptions().dtype(at::kInt).device(Wf.device()));
        at::Tensor e = Wq - rtnQuantize(Wq, bits, grid).dequant;
        errs.push_back(naturalGroups ? e.index_select(1, perm).contiguous() : e);
    }
    // On the CPU, G in fp32. On CUDA the training mat-vec reads G in bf16 (fp32 accumulation):
    // that step is bound by reading G (4 GiB in fp32 for n = 11008); bf16 rounds each entry by at
    // most 2⁻⁹ relative. There G is built one n × n block at a time straight into bf16, so the
    // fp32 G ((K·n)² × 4 B: 27.6 GiB for LLaMA-70B's 28672-column down projection at K = 3) never
    // exists; the relaxed solve, the polish and the predicted costs read the same bf16 G
    // (ProxyGram::dense; docs/mgptq.md, "LLaMA-70B").
    const bool blockwise = Wf.is_cuda();
    at::Tensor G;        // fp32, CPU only
    at::Tensor Gstep;    // what the training step reads
    at::Tensor ownError; // [n, K]: H_jj ‖E_b[:, j]‖²
    double Z = 0;        // all columns at the lowest width
    std::unique_ptr<ProxyGram> proxy;
    if (!blockwise) {
        const at::Tensor E = at::cat(errs, 1); // [rows, K·n]
        G = at::matmul(E.t(), E);               // [K·n, K·n]
        G.view({K, n, K, n}).mul_(Ho.view({1, n, 1, n}));
        ownError = G.diagonal().view({K, n}).t().contiguous();
        Z = G.slice(0, 0, n).slice(1, 0, n).sum().item<double>();
        Gstep = G;
        errs.clear();
        proxy = ProxyGram::dense(G, K);
    } else {
        {
            // TF32: G only shapes the training loss (relative error ~1e-3 of each entry).
            Tf32Scope tf32(true);
            Gstep = at::empty({K * n, K * n}, Wf.options().dtype(at::kBFloat16));
            const at::Tensor G4 = Gstep.view({K, n, K, n});
            std::vector<at::Tensor> own(static_cast<size_t>(K));
            for (int64_t b = 0; b < K; ++b) {
                for (int64_t c = b; c < K; ++c) {
                    at::Tensor block = at::matmul(errs[size_t(b)].t(), errs[size_t(c)]); // [n, n]
                    block.mul_(Ho);
                    G4.select(0, b).select(1, c).copy_(block);
                    if (c != b)
                        G4.select(0, c).select(1, b).copy_(block.t()); // H is symmetric
                    else
                        own[size_t(b)] = block.diagonal().clone();
                    if (b == 0 && c == 0)
                        Z = block.sum().item<double>();
                }
            }
            ownError = at::stack(own, 1).contiguous();
        }
        errs.clear();
        proxy = ProxyGram::dense(Gstep, K);
    }
    if (!(Z > 0))
        Z = 1;
    r.normalizer = Z;
    std::vector<std::vector<double>> err;
    if (opt.targetBits) {
        const at::Tensor own = ownError.to(at::kCPU).to(at::kDouble).contiguous();
        err.assign(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(K)));
        for (int64_t j = 0; j < n; ++j)
            for (int64_t c = 0; c < K; ++c)
                err[size_t(j)][size_t(c)] = own.data_ptr<double>()[j * K + c];
    }
    synchronize(Wf);
    r.precomputeSeconds = since(t0);

    auto bitsOf = [&](const std::vector<int>& ch) {
        std::vector<uint8_t> bits(ch.size());
        for (size_t j = 0; j < ch.size(); ++j)
            bits[j] = uint8_t(bitsSet[size_t(ch[j])]);
        return bits;
    };
    // Restarts: each trains from its own seed (initialisation, projection, noise); each plan is
    // repaired and polished, and the one with the lowest proxy vᵀGv is kept (the first on ties).
    // An observer sees the columns in the natural order, as the plan is returned.
    MgptqObserver naturalObserver;
    if (observer && order.actOrder) {
        naturalObserver.every = observer->every;
        naturalObserver.onEpoch = [&](const MgptqSnapshot& snap) {
            MgptqSnapshot s = snap;
            const at::Tensor p = perm.to(snap.logits.device());
            s.logits = at::empty_like(snap.logits).index_copy_(0, p, snap.logits);
            s.gumbel = at::empty_like(snap.gumbel).index_copy_(0, perm.to(snap.gumbel.device()), snap.gumbel);
            observer->onEpoch(s);
        };
        observer = &naturalObserver;
    }
    std::vector<int> chosen;
    at::Tensor chosenSoftmax;
    double bestCost = 0;
    const int restarts = std::max(1, opt.restarts);
    for (int rs = 0; rs < restarts; ++rs) {
        const uint64_t seed = mgptqRestartSeed(opt.seed, rs);
        t0 = Clock::now();
        const at::Tensor X = nodeFeatures(Wo, Ho, ownError, opt.featureDim, seed);
        Training t = trainOnce(X, graph, Gstep, Z, bitsSet, opt, seed, useGraph, Wf.device(), ctx, observer, rs);
        synchronize(Wf);
        r.trainSeconds += since(t0);
        const double argmaxBits = averageColumnBits(bitsOf(t.choice));
        if (ctx && !at::isfinite(t.softmax).all().item<bool>()) {
            const bool stable = opt.targetBits && opt.relaxedRounding;
            ctx->warn("MG-PTQ: the network's output for a " + std::to_string(Wf.size(0)) + " x " +
                      std::to_string(n) + " matrix (restart " + std::to_string(rs) +
                      ") is not finite: its training diverged; " +
                      (stable ? "the relaxed solve starts from the uniform distribution instead (the same optimum)"
                              : "its argmax means nothing, the plan is the repair's and the polish's"));
        }
        int64_t repairMoves = 0, polishMoves = 0;
        RelaxedOptimum relaxed;
        relaxed.iterations = -1;
        if (opt.targetBits && opt.relaxedRounding) {
            // The stable rounding: the softmax starts the relaxed solve; its optimum's argmax.
            const auto tr = Clock::now();
            relaxed = relaxedProxyOptimum(Gstep, t.softmax, bitsSet, *opt.targetBits, kRelaxRidge, kRelaxIterations,
                                          kRelaxTolerance, ctx);
            r.relaxSeconds += since(tr);
            const at::Tensor c = relaxed.P.argmax(1).contiguous();
            for (int64_t j = 0; j < n; ++j)
                t.choice[size_t(j)] = int(c.data_ptr<int64_t>()[j]);
        }
        if (opt.targetBits) {
            repairMoves = repairToTarget(t.choice, err, bitsSet, *opt.targetBits);
            const auto tp = Clock::now();
            if (opt.polish)
                polishMoves = polishToTarget(t.choice, *proxy, bitsSet, *opt.targetBits, 4 * n, ctx);
            r.polishSeconds += since(tp);
        }
        const double cost = proxy->cost(t.choice);
        r.restartCosts.push_back(cost);
        if (traceMgptq())
            std::fprintf(stderr,
                         "[mgptq] %lld x %lld restart %d: graph %.2f s, precompute %.2f s, train %.2f s, relax %.2f s "
                         "(%lld iterations, change %.3g), repair %lld moves, polish %.2f s (%lld moves)\n",
                         (long long)Wf.size(0), (long long)n, rs, r.graphSeconds, r.precomputeSeconds, r.trainSeconds,
                         r.relaxSeconds, (long long)relaxed.iterations, relaxed.change, (long long)repairMoves,
                         r.polishSeconds, (long long)polishMoves);
        if (rs == 0 || cost < bestCost) {
            bestCost = cost;
            chosen = t.choice;
            chosenSoftmax = t.softmax;
            r.chosenRestart = rs;
            r.curve = std::move(t.curve);
            r.cudaGraph = t.cudaGraph;
            r.cudaGraphFailure = t.cudaGraphFailure;
            r.argmaxBits = argmaxBits;
            r.repairMoves = repairMoves;
            r.polishMoves = polishMoves;
            r.relaxIterations = relaxed.iterations;
            r.relaxChange = relaxed.change;
        }
    }
    if (opt.targetBits && opt.greedyCandidate) {
        // The deterministic candidate: the marginal-gain greedy from all-lowest, polished.
        std::vector<int> greedy(static_cast<size_t>(n), 0);
        repairToTarget(greedy, err, bitsSet, *opt.targetBits);
        if (opt.polish)
            polishToTarget(greedy, *proxy, bitsSet, *opt.targetBits, 4 * n, ctx);
        r.greedyCost = proxy->cost(greedy);
        if (r.greedyCost < bestCost) {
            bestCost = r.greedyCost;
            chosen = greedy;
            r.chosenRestart = -1;
        }
    }
    r.alpha = opt.alpha ? *opt.alpha : opt.alphaStart;
    r.predictedCost = bestCost;

    // Back to the natural column order.
    const std::vector<uint8_t> frameBits = bitsOf(chosen);
    r.columnBits = frameBits;
    if (order.actOrder) {
        const at::Tensor p = perm.to(at::kCPU).contiguous();
        for (int64_t j = 0; j < n; ++j)
            r.columnBits[size_t(p.data_ptr<int64_t>()[j])] = frameBits[size_t(j)];
        chosenSoftmax = at::empty_like(chosenSoftmax).index_copy_(0, p, chosenSoftmax);
    }
    r.softmax.assign(chosenSoftmax.data_ptr<float>(), chosenSoftmax.data_ptr<float>() + chosenSoftmax.numel());
    r.softmaxBits = bitsSet;
    r.codeBits = averageColumnBits(r.columnBits);
    // Scales and zeros per group of GPTQ's: permuted columns with act-order's dynamic groups.
    r.bitsWithOverhead = columnBitsWithOverhead(order.actOrder && !order.staticGroups ? frameBits : r.columnBits,
                                                grid.groupSize, grid.symmetric);
    r.totalSeconds = since(t00);
    return r;
}

std::vector<double> hessianGreedyScores(const at::Tensor& W, const at::Tensor& H)
{
    const at::Tensor s = (H.diagonal().to(at::kDouble) * W.to(at::kDouble).pow(2).sum(0)).to(at::kCPU).contiguous();
    return std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
}

} // namespace mpq::detail
