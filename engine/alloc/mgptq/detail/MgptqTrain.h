#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/mgptq/MgptqOptions.h"
#include "alloc/detail/ColumnAllocator.h"
#include "alloc/mgptq/detail/MgptqProxy.h"
#include "core/JobContext.h"
#include "quant/detail/Grid.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mpq::detail {

/// Standard Gumbel noise −log(−log U) of `sizes`, drawn from `generator` (CPU, fp32), so that a
/// seed gives the same noise on every device.
at::Tensor sampleGumbel(at::IntArrayRef sizes, at::Generator generator);

/// Gumbel-Softmax (Jang et al. 2017) over the last dimension: y = softmax((logits + g)/τ).
/// hard: the straight-through variant, one-hot(argmax y) in the forward pass with the soft
/// gradient. Differentiable in `logits`; `gumbel` is broadcast to logits' shape.
at::Tensor gumbelSoftmax(const at::Tensor& logits, const at::Tensor& gumbel, double tau, bool hard);
/// The same with τ a 0-dim tensor on logits' device (read when the step runs: CUDA graphs).
at::Tensor gumbelSoftmax(const at::Tensor& logits, const at::Tensor& gumbel, const at::Tensor& tau, bool hard);

/// τ of `epoch` (0-based) of `epochs`: exponential from tauStart to tauEnd.
double annealedTau(double tauStart, double tauEnd, int epoch, int epochs);

/// One epoch's record.
struct MgptqEpoch {
    double loss = 0, lQuant = 0, lBit = 0, avgBits = 0, alpha = 0, tau = 0;
};

/// What MG-PTQ decided for one matrix.
struct MgptqResult {
    std::vector<uint8_t> columnBits;
    std::vector<MgptqEpoch> curve;
    /// The trained allocator's softmax over the candidates, row-major [cols, |bitsSet|] with
    /// bitsSet ascending (before the target repair); kept for the Explain view (issue 19).
    std::vector<float> softmax;
    std::vector<int> softmaxBits;
    double alpha = 0;            ///< α used (in target mode: the weight of the excess penalty)
    double predictedCost = 0;    ///< tr(ΔW H ΔWᵀ) of RTN at the chosen bits (per-channel grids)
    double normalizer = 0;       ///< L_quant's divisor: the error with every column at the lowest candidate
    double codeBits = 0;
    double bitsWithOverhead = 0;
    double argmaxBits = 0;       ///< average before the target repair
    int64_t repairMoves = 0;
    int64_t polishMoves = 0;     ///< moves of the exact local search on the proxy (target mode)
    int64_t relaxIterations = -1; ///< stable rounding: iterations of the relaxed solve (−1: off)
    double relaxChange = 0;      ///< stable rounding: max |ΔP| of its last iteration
    std::vector<double> restartCosts; ///< predicted cost of each restart's final plan
    int chosenRestart = 0;       ///< the restart kept (lowest predicted cost; the first on ties); −1: the greedy candidate
    double greedyCost = -1;      ///< predicted cost of the polished greedy candidate (−1: not computed)
    bool actOrder = false;       ///< allocated in act-order's column order
    std::string graphKind;       ///< "dense", "top-k" or "none" (MLP)
    bool cudaGraph = false;      ///< training steps replayed from a captured CUDA graph
    std::string cudaGraphFailure; ///< why capture failed (steps then ran eagerly); empty if not tried
    int64_t topK = 0;
    double graphSeconds = 0, precomputeSeconds = 0, trainSeconds = 0, totalSeconds = 0;
    double relaxSeconds = 0, polishSeconds = 0; ///< the stable rounding's solve, the polish (all restarts)

    /// The diagnostics JSON object (curves, α, graph, timings, bits).
    std::string toJson() const;
};

/// One look at the training for the teaching view (alloc/MgptqTrace.h), after an epoch's step.
struct MgptqSnapshot {
    int epoch = 0;
    double tau = 0;
    at::Tensor logits;   ///< [cols, K] after the step (no gradient)
    at::Tensor gumbel;   ///< [cols, K] the epoch's Gumbel noise
    int restart = 0;     ///< which training (MgptqOptions::restarts) the epoch belongs to
};
/// Called after every `every`-th epoch's step and after the last one. Observing does not change
/// the training (the logits are recomputed without gradient); it keeps the steps eager (no
/// CUDA graph).
struct MgptqObserver {
    int every = 1;
    std::function<void(const MgptqSnapshot&)> onEpoch;
};

/// The column order GPTQ will quantize in, so that MG-PTQ plans in the same order: with
/// act-order the graph, the features, the Gumbel noise and the target search all run on the
/// columns sorted by actOrderPermutation(H), and the bits are mapped back to the natural order.
struct MgptqColumnOrder {
    bool actOrder = false;
    bool staticGroups = false; ///< with a group size: groups of natural columns (else of permuted ones)
};

/// The seed of restart r: `seed` itself for r = 0 (one restart is the plain allocator), else a
/// SplitMix64 mix of seed and r.
uint64_t mgptqRestartSeed(uint64_t seed, int restart);

/// Checks options (bit set 1..8 without repeats, exactly one of α / target, epochs > 0,
/// 0 < tauEnd ≤ tauStart, …). Throws mpq::Error naming the option.
void validateMgptqOptions(const MgptqOptions& opt, bool needsNetwork);

/// MG-PTQ for one matrix: W [rows, cols], H [cols, cols] fp32 on one device (training runs
/// there). `grid` is the quantizer's grid (group size, symmetry) used for the candidates' RTN.
/// useGraph false: the MLP ablation. Checks `ctx` for cancellation every epoch (throws
/// mpq::Cancelled). Deterministic for a seed on a given device. With opt.restarts > 1 the
/// network is trained that many times (seeds mgptqRestartSeed(opt.seed, r)) and the plan with
/// the lowest proxy vᵀGv is kept. `order`: plan in act-order's column order (columnBits are
/// returned in the natural order either way). Throws mpq::Error.
MgptqResult allocateMgptq(const at::Tensor& W, const at::Tensor& H, const MgptqOptions& opt,
                          const GridOptions& grid, bool useGraph, JobContext* ctx = nullptr,
                          const MgptqColumnOrder& order = {}, const MgptqObserver* observer = nullptr);

/// The Hessian-greedy baseline's scores H_jj·‖W[:, j]‖² as a CPU fp64 vector.
std::vector<double> hessianGreedyScores(const at::Tensor& W, const at::Tensor& H);

/// ColumnAllocator for "mgptq-gcn" / "mgptq-mlp".
class MgptqAllocator : public ColumnAllocator {
public:
    MgptqAllocator(MgptqOptions options, bool useGraph, bool symmetric, MgptqColumnOrder order = {});
    MatrixPlan allocate(const MatrixPlan& base, const at::Tensor& W, const at::Tensor& H,
                        JobContext& ctx) override;
    /// Eager steps are launch-bound; replayed CUDA graphs of small steps leave the GPU mostly
    /// idle too, and graphs replayed from several threads run concurrently.
    bool hostBoundOnDevice() const override { return true; }

private:
    MgptqOptions m_options;
    bool m_useGraph;
    bool m_symmetric;
    MgptqColumnOrder m_order;
};

/// ColumnAllocator for "hessian-greedy" (needs options.targetBits).
class HessianGreedyAllocator : public ColumnAllocator {
public:
    HessianGreedyAllocator(MgptqOptions options, bool symmetric);
    MatrixPlan allocate(const MatrixPlan& base, const at::Tensor& W, const at::Tensor& H,
                        JobContext& ctx) override;

private:
    MgptqOptions m_options;
    bool m_symmetric;
};

} // namespace mpq::detail
