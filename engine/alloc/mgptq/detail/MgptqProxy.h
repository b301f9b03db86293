#pragma once

#include "core/JobContext.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace mpq::detail {

/// MG-PTQ's proxy matrix G[(b, j), (c, k)] = (E_bᵀ E_c)_jk · H_jk ([K·n, K·n], E_b = W − RTN_b(W)),
/// so that a plan's predicted layer error tr(ΔW H ΔWᵀ) is vᵀGv for its one-hot v. The polish and
/// the choice among restarts read G only through the products below. dense() takes the G the
/// training reads: fp32 on the CPU (sums in fp64, exact), bf16 on CUDA (no fp32 G of (K·n)² is
/// formed there; G·v is one pass with fp32 sums, rows are exact bf16 values in fp64), so on CUDA
/// the polish is an exact local search of the bf16 proxy. Results are fp64 CPU tensors. Not
/// thread-safe to share across threads.
class ProxyGram {
public:
    virtual ~ProxyGram() = default;
    /// G [K·n, K·n] fp32, or bf16 / fp16 on CUDA (kept by reference).
    static std::unique_ptr<ProxyGram> dense(const at::Tensor& G, int64_t candidates);

    int64_t cols() const { return m_n; }
    int64_t candidates() const { return m_k; }
    /// u = G v for the one-hot v of `choice`: [K·n].
    virtual at::Tensor timesOneHot(const std::vector<int>& choice) const = 0;
    /// G's row `to` minus its row `from`: [K·n].
    virtual at::Tensor rowDifference(int64_t to, int64_t from) const = 0;
    /// G[rows, cols]: [|rows|, |cols|].
    virtual at::Tensor block(const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) const = 0;
    /// D[a, c, j] = G[(a, j), (c, j)]: [K, K, n].
    virtual at::Tensor columnBlocks() const = 0;
    /// vᵀGv for the one-hot v of `choice`.
    virtual double cost(const std::vector<int>& choice) const = 0;
    /// The dense G itself (nullptr where there is none).
    virtual const at::Tensor* denseMatrix() const { return nullptr; }

protected:
    ProxyGram(int64_t n, int64_t k) : m_n(n), m_k(k) {}
    int64_t m_n, m_k;
};

/// MG-PTQ's polish (target mode): exact best-improvement local search on the proxy vᵀGv
/// (one-hot v of `choice`) under the budget Σ bits ≤ target·n. Each step takes the best of every
/// single-column move that fits the budget and of the down/up pairs among the 16 best one-step
/// downs and ups (cross terms of G included); stops when no move lowers the proxy or after
/// `maxMoves`. Returns the moves made; `choice` (indices into the ascending `bitsSet`) is updated
/// in place. Checks ctx each step.
int64_t polishToTarget(std::vector<int>& choice, const ProxyGram& G, const std::vector<int>& bitsSet,
                       double target, int64_t maxMoves, JobContext* ctx = nullptr);
/// The polish's pair moves are chosen among this many best one-step downs and as many ups.
constexpr int64_t kPolishPairs = 16;

/// A polish step's choice: the best move found so far (Δ of the proxy below `best` only), a
/// single column j → c, or a pair with a second column k → d (k = −1: none).
struct PolishStep {
    double best = 0;
    int64_t j = -1, k = -1;
    int c = -1, d = -1;
};

/// Makes a step's moves with apply(column, candidate): none (the polish ends), one or two.
template <class Apply>
int applyPolishStep(const PolishStep& step, Apply&& apply)
{
    if (step.j < 0)
        return 0;
    apply(step.j, step.c);
    if (step.k < 0)
        return 1;
    apply(step.k, step.d);
    return 2;
}

/// The polish's pair moves: among the one-step `downs` and `ups` ((Δ, column), ascending), every
/// pair of two columns that fits the budget's `slack`, with Δ = Δ_down + Δ_up + 2 d_jᵀ G d_k; `S`
/// holds G at the rows (new, old) of each down and the columns (new, old) of each up, row stride
/// `w`. A pair whose Δ is below step.best replaces it.
void bestPolishPair(PolishStep& step, const std::vector<std::pair<double, int64_t>>& downs,
                    const std::vector<std::pair<double, int64_t>>& ups, const double* S, int64_t w,
                    const std::vector<int>& choice, const std::vector<int>& bitsSet, double slack);

/// The same steps with the polish's state on G's device: u = Gv, the per-column blocks and the
/// choice stay there, each step's scan, best downs and ups and pair block are formed there and
/// come back in one small copy, and a move updates u there from G's two rows (fp64, as the host
/// scan does). The same moves as the host scan (the same first minimum, the same 16 downs and ups
/// by (Δ, column)); polishToTarget takes this path where a dense G is not on the CPU and has at
/// least 49152 candidates (K·n; below that the host scan is faster). Runs on any device (the tests
/// compare both on the CPU).
int64_t polishToTargetOnDevice(std::vector<int>& choice, const at::Tensor& G, const std::vector<int>& bitsSet,
                               double target, int64_t maxMoves, JobContext* ctx = nullptr);
/// The same on a dense G [K·n, K·n].
int64_t polishToTarget(std::vector<int>& choice, const at::Tensor& G, const std::vector<int>& bitsSet,
                       double target, int64_t maxMoves, JobContext* ctx = nullptr);

/// Where the stable rounding ended (relaxedProxyOptimum).
struct RelaxedOptimum {
    at::Tensor P;          ///< [n, K] CPU fp64: per-column distributions over the candidates
    int64_t iterations = 0;
    double change = 0;     ///< max |ΔP| of the last iteration (convergence)
    bool startNotFinite = false; ///< P0 had a NaN or infinity; the solve started from the uniform P
};

/// The relaxed proxy's optimum: over per-column distributions P [n, K] (rows on the simplex),
/// minimises vᵀGv + ε‖v‖² (v = Pᵀ flattened as in allocateMgptq, ε = `ridge` · mean diag G)
/// subject to Σ_j Σ_b P_jb · bits_b ≤ target · n, by accelerated projected gradient (FISTA with
/// gradient restarts; the projection onto the simplices and the budget is exact, by bisection on
/// the budget's multiplier) from P0 [n, K] until max |ΔP| < tol or `maxIters`. vᵀGv is convex
/// (G is a Gram matrix) and the ridge makes the optimum unique, so the result does not depend on
/// P0 once converged: the network's output only starts the search. G: [K·n, K·n] fp32 or bf16 on
/// any device (the training's matrix); with a bf16 / fp16 G on CUDA each gradient is one pass over
/// G with fp32 sums, and tol is at least 1e-6 (finer is rounding). Checks ctx every 100 iterations.
RelaxedOptimum relaxedProxyOptimum(const at::Tensor& G, const at::Tensor& P0, const std::vector<int>& bitsSet,
                                   double target, double ridge, int64_t maxIters, double tol,
                                   JobContext* ctx = nullptr);

/// Whether MG-PTQ traces its allocation on stderr (environment MPQ_TRACE_MGPTQ set and not "0"):
/// per matrix and restart the time of each stage, the relaxed solve's iterations and the polish's
/// moves, and every 500 iterations of a relaxed solve. For benchmarks that may not finish.
bool traceMgptq();

/// The proxy vᵀGv of a choice (one-hot v), in fp64, on a dense G [K·n, K·n].
double proxyCost(const std::vector<int>& choice, const at::Tensor& G);

} // namespace mpq::detail
