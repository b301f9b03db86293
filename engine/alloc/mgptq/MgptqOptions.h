#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpq {

/// Settings of MG-PTQ's per-column bit allocation (docs/mgptq.md gives the reasons for each
/// default). Plain data: shared by the CLI, the GUI and the session files.
struct MgptqOptions {
    std::vector<int> bitsSet = {2, 3, 4};  ///< candidate bit-widths, each in 1..8
    std::optional<double> alpha;           ///< fixed α (the paper's knob) …
    std::optional<double> targetBits;      ///< … or a target average of code bits (α searched)
    std::string model = "gcn";             ///< gcn | mlp (ablation) | hessian-greedy (baseline)
    /// Training epochs per matrix; 0 (the default) takes the mode's, mgptqEpochs(): 200 where the
    /// trained network's argmax is the plan (a fixed α, or the paper's rounding), 50 with the
    /// stable rounding, where the network's softmax only starts the relaxed solve, whose optimum
    /// is unique (docs/mgptq.md, "Epochs").
    int epochs = 0;
    double learningRate = 1e-2;
    double tauStart = 1.0;
    double tauEnd = 0.1;
    bool straightThrough = false;          ///< hard (straight-through) Gumbel-Softmax samples
    /// The allocator head also sees each column's own features (a skip connection around the
    /// GCN): without it the GCN's argmax collapses to one width (docs/mgptq.md).
    bool skipFeatures = true;
    int64_t hiddenDim = 32;
    int64_t featureDim = 32;               ///< node features after the seeded projection
    int64_t topK = 32;                     ///< adjacency kept per row when the graph is sparsified
    int64_t denseLimit = 4096;             ///< columns up to which the adjacency stays dense
    uint64_t seed = 0;
    /// On CUDA, capture one training step as a CUDA graph and replay it (same kernels, far less
    /// host time per step). A speed switch only: not stored with results.
    bool cudaGraph = true;
    double dampPercent = 0.01;             ///< Hessian damping for the adjacency (as GPTQ's)
    /// Target mode: the penalty weight on the excess max(0, E[avg bits] − target) when `alpha`
    /// is not given (an exact penalty); a greedy repair of the argmax then meets the target
    /// (docs/mgptq.md).
    double alphaStart = 10.0;
    double targetTolerance = 0.02;         ///< target mode: |achieved − target| bound (code bits)
    /// Independent trainings per matrix (restart r > 0 uses a seed derived from `seed` and r);
    /// the plan with the lowest predicted cost vᵀGv (the proxy) is kept (docs/mgptq.md).
    int restarts = 1;
    /// Target mode: after the repair, an exact local search on the proxy vᵀGv at the target
    /// (single-column moves and down/up pairs, cross terms of G included) until no move lowers
    /// it (docs/mgptq.md, "Polish").
    bool polish = true;
    /// Target mode: also polish the marginal-gain greedy plan (all columns at the lowest width,
    /// then the repair upwards) and keep it when its proxy is below every restart's
    /// (docs/mgptq.md, "Stability"). Deterministic, so it damps the seed's influence.
    bool greedyCandidate = false;
    /// Target mode: the stable rounding. Each restart's softmax only starts an exact solve of the
    /// relaxed proxy (per-column distributions, budget in expectation; convex, with a small ridge
    /// so that its optimum is unique); the plan is that optimum's argmax, then the repair and the
    /// polish. The plan then no longer depends on the seed's Gumbel draws (docs/mgptq.md,
    /// "Stable rounding"). Off: the trained network's argmax (the paper's rounding).
    bool relaxedRounding = true;
};

inline constexpr int kMgptqEpochs = 200;       ///< the network's argmax is the plan
inline constexpr int kMgptqRelaxedEpochs = 50; ///< the network starts the relaxed solve

/// The epochs a training runs: `epochs` where given (> 0), else the mode's default.
inline int mgptqEpochs(const MgptqOptions& o)
{
    if (o.epochs > 0)
        return o.epochs;
    return o.targetBits && o.relaxedRounding ? kMgptqRelaxedEpochs : kMgptqEpochs;
}

} // namespace mpq
