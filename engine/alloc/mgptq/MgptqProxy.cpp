// MG-PTQ's proxy vᵀGv and the polish against it (docs/mgptq.md, "Polish"), on the dense G: fp32 on
// the CPU, the training's bf16 G on CUDA.
#include "alloc/mgptq/detail/MgptqProxy.h"

#include "core/Error.h"
#include "core/detail/TorchDevice.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace mpq::detail {

namespace {

at::Tensor cpuDouble(const at::Tensor& t)
{
    return t.to(at::kCPU, at::kDouble).contiguous();
}

at::Tensor indexTensor(const std::vector<int64_t>& idx, const at::Device& device)
{
    return at::tensor(idx).to(device);
}

/// G [m, m] (half precision on CUDA, halfProductInFloat) times V [m, c], summed in fp32.
at::Tensor halfTimes(const at::Tensor& G, const at::Tensor& V)
{
    at::Tensor out = at::zeros({G.size(0), V.size(1)}, G.options().dtype(at::kFloat));
    addHalfProduct(out, G, V);
    return out;
}

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A candidate move of the polish: (Δ of the proxy, column).
using Move = std::pair<double, int64_t>;
constexpr int64_t kScanBlock = 4096; ///< columns per block of the polish's parallel scan
constexpr int64_t kDevicePolishCandidates = 49152; ///< K·n from which a GPU's polish runs on the device

/// Keeps the kPolishPairs smallest moves in `best`, a max-heap.
void keepSmallest(std::vector<Move>& best, double d, int64_t j)
{
    if (int64_t(best.size()) < kPolishPairs) {
        best.emplace_back(d, j);
        std::push_heap(best.begin(), best.end());
    } else if (Move(d, j) < best.front()) {
        std::pop_heap(best.begin(), best.end());
        best.back() = Move(d, j);
        std::push_heap(best.begin(), best.end());
    }
}

/// What the polish's scan of one block of columns found.
struct ScanBlock {
    double best = 0; ///< the smallest Δ of a single move that fits the budget, if below the start
    int64_t j = -1;  ///< its column (−1: none below the start)
    int c = -1;      ///< its candidate
    std::vector<Move> downs, ups;
    void reset(double start)
    {
        best = start;
        j = -1;
        c = -1;
        downs.clear();
        ups.clear();
    }
};

class DenseGram final : public ProxyGram {
public:
    DenseGram(const at::Tensor& G, int64_t k) : ProxyGram(G.size(0) / std::max<int64_t>(1, k), k), m_G(G)
    {
        TORCH_CHECK(G.dim() == 2 && G.size(0) == m_k * m_n && G.size(1) == m_k * m_n, "polish: G must be [K·n, K·n]");
    }

    at::Tensor timesOneHot(const std::vector<int>& choice) const override
    {
        const at::Tensor idx = indexTensor(rowsOf(choice), m_G.device());
        if (m_half) {
            // One pass over G with fp32 sums (the one-hot v is exact in G's type); gathering the
            // chosen columns would copy n of G's K·n columns (4.6 GiB at 28672 columns).
            const at::Tensor v = at::zeros({m_G.size(1), 1}, m_G.options()).index_fill_(0, idx, 1);
            return cpuDouble(halfTimes(m_G, v).squeeze(1));
        }
        return m_G.index_select(1, idx).sum(1, false, at::kDouble).to(at::kCPU).contiguous();
    }
    at::Tensor rowDifference(int64_t to, int64_t from) const override
    {
        // Both rows in G's own type (on CUDA: two row copies, 2 × K·n bf16, through page-locked
        // memory; no kernel, no index upload), then the difference in fp64 on the host: the same
        // values as an fp64 difference, since every bf16 or fp32 entry is exact in fp64.
        if (m_G.is_cpu())
            return (m_G.select(0, to).to(at::kDouble) - m_G.select(0, from).to(at::kDouble)).contiguous();
        if (!m_rows.defined())
            m_rows = at::empty({2, m_G.size(1)}, m_G.options());
        m_rows[0].copy_(m_G.select(0, to));
        m_rows[1].copy_(m_G.select(0, from));
        const at::Tensor two = m_transfer.toHost(m_rows).to(at::kDouble);
        return (two[0] - two[1]).contiguous();
    }
    at::Tensor block(const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) const override
    {
        if (m_G.is_cpu())
            return cpuDouble(m_G.index_select(0, indexTensor(rows, m_G.device()))
                                 .index_select(1, indexTensor(cols, m_G.device())));
        // Both index lists up in one copy, the block back in one.
        std::vector<int64_t> both(rows);
        both.insert(both.end(), cols.begin(), cols.end());
        at::Tensor idx = at::empty({int64_t(both.size())}, m_G.options().dtype(at::kLong));
        m_transfer.toDevice(at::tensor(both), idx);
        const int64_t r = int64_t(rows.size());
        const at::Tensor sub = m_G.index_select(0, idx.narrow(0, 0, r)).index_select(1, idx.narrow(0, r, idx.size(0) - r));
        return m_transfer.toHost(sub).to(at::kDouble).contiguous();
    }
    at::Tensor columnBlocks() const override
    {
        return cpuDouble(m_G.view({m_k, m_n, m_k, m_n}).diagonal(0, 1, 3)); // [K, K, n]
    }
    double cost(const std::vector<int>& choice) const override
    {
        if (m_half) { // vᵀ(Gv): the chosen entries of u, without an n × n gather of G
            const at::Tensor u = timesOneHot(choice);
            const double* p = u.data_ptr<double>();
            double sum = 0;
            for (int64_t row : rowsOf(choice))
                sum += p[row];
            return sum;
        }
        const at::Tensor idx = indexTensor(rowsOf(choice), m_G.device());
        // vᵀGv with one-hot v = Σ over the chosen rows and columns of G.
        return m_G.index_select(0, idx).index_select(1, idx).sum(at::kDouble).item<double>();
    }
    const at::Tensor* denseMatrix() const override { return &m_G; }

private:
    std::vector<int64_t> rowsOf(const std::vector<int>& choice) const
    {
        std::vector<int64_t> rows(choice.size());
        for (int64_t j = 0; j < m_n; ++j)
            rows[size_t(j)] = int64_t(choice[size_t(j)]) * m_n + j;
        return rows;
    }
    at::Tensor m_G;
    bool m_half = halfProductInFloat(m_G);
    mutable at::Tensor m_rows;             // two rows of G on its device
    mutable PinnedTransfer m_transfer;     // read-backs through page-locked memory
};

} // namespace

std::unique_ptr<ProxyGram> ProxyGram::dense(const at::Tensor& G, int64_t candidates)
{
    return std::make_unique<DenseGram>(G, candidates);
}

double proxyCost(const std::vector<int>& choice, const at::Tensor& G)
{
    const int64_t n = int64_t(choice.size());
    return DenseGram(G, n > 0 ? G.size(0) / n : 1).cost(choice);
}

void bestPolishPair(PolishStep& step, const std::vector<std::pair<double, int64_t>>& downs,
                    const std::vector<std::pair<double, int64_t>>& ups, const double* S, int64_t w,
                    const std::vector<int>& choice, const std::vector<int>& bitsSet, double slack)
{
    for (size_t a = 0; a < downs.size(); ++a) {
        const int64_t j = downs[a].second;
        const int cj = choice[size_t(j)];
        const double saved = bitsSet[size_t(cj)] - bitsSet[size_t(cj - 1)];
        for (size_t b = 0; b < ups.size(); ++b) {
            const int64_t k = ups[b].second;
            if (k == j)
                continue;
            const int ck = choice[size_t(k)];
            if (bitsSet[size_t(ck + 1)] - bitsSet[size_t(ck)] - saved > slack)
                continue;
            const int64_t r0 = int64_t(2 * a) * w, c0 = int64_t(2 * b);
            // d_jᵀ G d_k with d = e_new − e_old for both moves.
            const double cross = S[r0 + c0] - S[r0 + c0 + 1] - S[r0 + w + c0] + S[r0 + w + c0 + 1];
            const double d = downs[a].first + ups[b].first + 2.0 * cross;
            if (d < step.best)
                step = PolishStep{d, j, k, cj - 1, ck + 1};
        }
    }
}

int64_t polishToTarget(std::vector<int>& choice, const at::Tensor& G, const std::vector<int>& bitsSet,
                       double target, int64_t maxMoves, JobContext* ctx)
{
    return polishToTarget(choice, DenseGram(G, int64_t(bitsSet.size())), bitsSet, target, maxMoves, ctx);
}

int64_t polishToTarget(std::vector<int>& choice, const ProxyGram& G, const std::vector<int>& bitsSet,
                       double target, int64_t maxMoves, JobContext* ctx)
{
    torch::NoGradGuard noGrad;
    const int64_t n = int64_t(choice.size()), K = int64_t(bitsSet.size());
    TORCH_CHECK(G.cols() == n && G.candidates() == K, "polish: G must be [K·n, K·n]");
    if (n == 0 || K < 2)
        return 0;
    // On a GPU with many candidates the scan and the row updates stay on the device
    // (MgptqPolishDevice.cpp). A device step costs about 0.4 ms of launches and one read-back
    // whatever K·n is, and several matrices polishing at once on their threads wait on each
    // other's kernels; the host step grows with K·n (H100, session 13: 0.3 ms at K·n = 24576,
    // 0.65 ms at 86016; docs/mgptq.md, "LLaMA-70B"). So the device takes the large matrices only.
    if (const at::Tensor* dense = G.denseMatrix(); dense && !dense->is_cpu() && K * n >= kDevicePolishCandidates)
        return polishToTargetOnDevice(choice, *dense, bitsSet, target, maxMoves, ctx);
    auto row = [&](int c, int64_t j) { return int64_t(c) * n + j; };
    // u = G v (the gradient of vᵀGv is 2u) and the per-column blocks D[a][c][j] = G[(a,j),(c,j)],
    // both in fp64 on the CPU; u is updated by G's rows of each move.
    std::vector<double> u(static_cast<size_t>(K * n));
    {
        const at::Tensor uT = G.timesOneHot(choice);
        std::copy(uT.data_ptr<double>(), uT.data_ptr<double>() + K * n, u.begin());
    }
    std::vector<double> D(static_cast<size_t>(K * K * n));
    {
        const at::Tensor d = G.columnBlocks();
        std::copy(d.data_ptr<double>(), d.data_ptr<double>() + K * K * n, D.begin());
    }
    auto Dat = [&](int a, int c, int64_t j) { return D[size_t((int64_t(a) * K + c) * n + j)]; };
    // Δ of moving column j from its candidate to c: 2(u_c − u_a) + G_cc + G_aa − 2G_ac (one-hot algebra).
    auto delta = [&](int64_t j, int c) {
        const int a = choice[size_t(j)];
        return 2.0 * (u[size_t(row(c, j))] - u[size_t(row(a, j))]) + Dat(c, c, j) + Dat(a, a, j) - 2.0 * Dat(a, c, j);
    };
    double total = 0, cost = 0;
    for (int64_t j = 0; j < n; ++j) {
        total += bitsSet[size_t(choice[size_t(j)])];
        cost += u[size_t(row(choice[size_t(j)], j))];
    }
    const double limit = target * double(n) + 1e-9;
    auto apply = [&](int64_t j, int c) {
        const int a = choice[size_t(j)];
        const at::Tensor r = G.rowDifference(row(c, j), row(a, j));
        const double* p = r.data_ptr<double>();
        for (int64_t i = 0; i < K * n; ++i)
            u[size_t(i)] += p[i];
        total += bitsSet[size_t(c)] - bitsSet[size_t(a)];
        choice[size_t(j)] = c;
    };
    // Each step scans every single move: the best that fits the budget, and the kPolishPairs smallest
    // (Δ, column) of the one-step downs and of the ups. Blocks of columns are scanned on torch's
    // threads and merged in column order, which gives what one scan in column order gives: the
    // first of the smallest single moves (strict <), and the same kPolishPairs of each kind (the column
    // breaks ties, so their order is total).
    std::vector<Move> downs, ups;
    downs.reserve(kPolishPairs);
    ups.reserve(kPolishPairs);
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), n / kScanBlock));
    std::vector<ScanBlock> scans(static_cast<size_t>(blocks));
    int64_t moves = 0;
    double scanSeconds = 0, blockSeconds = 0, applySeconds = 0; // for the trace
    while (moves < maxMoves) {
        if (ctx)
            ctx->checkCancelled();
        const double slack = limit - total;
        const double eps = 1e-9 * std::abs(cost) + 1e-300;
        const auto tScan = Clock::now();
        at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                ScanBlock& sc = scans[size_t(b)];
                sc.reset(-eps);
                const int64_t j1 = n * (b + 1) / blocks;
                for (int64_t j = n * b / blocks; j < j1; ++j) {
                    const int a = choice[size_t(j)];
                    for (int c = 0; c < K; ++c) {
                        if (c == a)
                            continue;
                        const double d = delta(j, c);
                        if (c == a - 1)
                            keepSmallest(sc.downs, d, j);
                        if (c == a + 1)
                            keepSmallest(sc.ups, d, j);
                        if (bitsSet[size_t(c)] - bitsSet[size_t(a)] <= slack && d < sc.best) {
                            sc.best = d;
                            sc.j = j;
                            sc.c = c;
                        }
                    }
                }
            }
        });
        scanSeconds += secondsSince(tScan);
        // Single moves that fit the budget.
        PolishStep step{-eps, -1, -1, -1, -1};
        downs.clear();
        ups.clear();
        for (const ScanBlock& sc : scans) {
            if (sc.j >= 0 && sc.best < step.best)
                step = PolishStep{sc.best, sc.j, -1, sc.c, -1};
            for (const Move& m : sc.downs)
                keepSmallest(downs, m.first, m.second);
            for (const Move& m : sc.ups)
                keepSmallest(ups, m.first, m.second);
        }
        // Pairs: one column a step down, another a step up, among the best of each.
        std::sort_heap(downs.begin(), downs.end());
        std::sort_heap(ups.begin(), ups.end());
        const size_t md = downs.size(), mu = ups.size();
        if (md > 0 && mu > 0) {
            std::vector<int64_t> rIdx, cIdx; // [new, old] per down; [new, old] per up
            for (size_t i = 0; i < md; ++i) {
                const int64_t j = downs[i].second;
                rIdx.push_back(row(choice[size_t(j)] - 1, j));
                rIdx.push_back(row(choice[size_t(j)], j));
            }
            for (size_t i = 0; i < mu; ++i) {
                const int64_t k = ups[i].second;
                cIdx.push_back(row(choice[size_t(k)] + 1, k));
                cIdx.push_back(row(choice[size_t(k)], k));
            }
            const auto tBlock = Clock::now();
            const at::Tensor sub = G.block(rIdx, cIdx);
            blockSeconds += secondsSince(tBlock);
            bestPolishPair(step, downs, ups, sub.data_ptr<double>(), int64_t(cIdx.size()), choice, bitsSet, slack);
        }
        const auto tApply = Clock::now();
        const int made = applyPolishStep(step, apply);
        if (made == 0)
            break;
        moves += made;
        cost += step.best;
        applySeconds += secondsSince(tApply);
    }
    if (traceMgptq())
        std::fprintf(stderr, "[mgptq] polish n=%lld: %lld moves, scans %.2f s, pair blocks %.2f s, rows %.2f s\n",
                     (long long)n, (long long)moves, scanSeconds, blockSeconds, applySeconds);
    return moves;
}

} // namespace mpq::detail

namespace mpq::detail {

namespace {

/// Euclidean projection of z (K values) onto the probability simplex (sort-based; Held et al.).
void projectSimplex(const double* z, double* p, int64_t K, std::vector<double>& sorted)
{
    sorted.assign(z, z + K);
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    double cum = 0, theta = 0;
    for (int64_t i = 0; i < K; ++i) {
        cum += sorted[size_t(i)];
        const double t = (cum - 1.0) / double(i + 1);
        if (sorted[size_t(i)] - t > 0)
            theta = t;
    }
    for (int64_t i = 0; i < K; ++i)
        p[i] = std::max(0.0, z[i] - theta);
}

/// Projection of Y [n, K] (row-major) onto {rows on the simplex, Σ P·bits ≤ budget}: by the KKT
/// conditions P_j = Π_Δ(Y_j − μ·bits) with the smallest μ ≥ 0 that meets the budget (bisection).
/// `mu`: the previous call's multiplier (a bracket around it is tried first), updated.
void projectBudget(const std::vector<double>& Y, std::vector<double>& P, const std::vector<double>& bits,
                   int64_t n, double budget, double& mu)
{
    const int64_t K = int64_t(bits.size());
    std::vector<double> spent(static_cast<size_t>(n * K));
    // The columns' projections on torch's threads (at LLaMA-70B's 28672 columns a serial spend
    // took milliseconds, several per iteration), then the sum in column order as one chain: the
    // same total as one serial pass.
    auto spend = [&](double mu) {
        at::parallel_for(0, n, 2048, [&](int64_t j0, int64_t j1) {
            std::vector<double> z(static_cast<size_t>(K)), sorted;
            for (int64_t j = j0; j < j1; ++j) {
                for (int64_t b = 0; b < K; ++b)
                    z[size_t(b)] = Y[size_t(j * K + b)] - mu * bits[size_t(b)];
                projectSimplex(z.data(), P.data() + j * K, K, sorted);
                for (int64_t b = 0; b < K; ++b)
                    spent[size_t(j * K + b)] = P[size_t(j * K + b)] * bits[size_t(b)];
            }
        });
        double total = 0;
        for (double e : spent)
            total += e;
        return total;
    };
    if (spend(0.0) <= budget) {
        mu = 0;
        return;
    }
    double hi = mu > 0 ? mu * 1.001 : 1.0;
    while (spend(hi) > budget && hi < 1e30)
        hi *= 2;
    double lo = std::min(hi, mu > 0 ? mu * 0.999 : 0.0);
    while (lo > 1e-300 && spend(lo) <= budget) {
        hi = lo;
        lo *= 0.5;
    }
    // spend(μ) is continuous, non-increasing and piecewise linear in μ, so false position finds
    // the root exactly once both ends lie on one linear piece; the Illinois rule (halving the
    // weight of an end kept twice) keeps it from stalling, and a bisection step every fourth
    // iteration bounds the worst case by bisection's. A few spends instead of about 35.
    double fLo = spend(lo) - budget, fHi = spend(hi) - budget; // fLo > 0 ≥ fHi
    int side = 0;
    for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
        double mid = (it % 4 == 3 || !(fLo - fHi > 0)) ? 0.5 * (lo + hi) : lo + fLo * (hi - lo) / (fLo - fHi);
        if (!(mid > lo && mid < hi))
            mid = 0.5 * (lo + hi);
        const double f = spend(mid) - budget;
        if (f > 0) {
            lo = mid;
            fLo = f;
            if (side == -1)
                fHi *= 0.5;
            side = -1;
        } else {
            hi = mid;
            fHi = f;
            if (f == 0)
                break; // exactly on budget: the smallest such μ is not needed, any meets the KKT conditions
            if (side == 1)
                fLo *= 0.5;
            side = 1;
        }
    }
    mu = hi;
    spend(hi); // the feasible side
}

/// G v for a half-precision G on CUDA and an fp64 v, to about fp32's precision: v rounded to G's
/// type alone is off by up to 2⁻⁹ of each entry, and the relaxed solve then cannot settle. v is
/// cut into three pieces of G's type (v = v₁ + v₂ + v₃ to about 2⁻²⁴ relative), each multiplied
/// by G with fp32 sums into its own row of the result, and the three products are added in fp64.
/// Three mat-vecs rather than one product with three columns: on an H100 a mat-vec reads the
/// 13.8 GiB bf16 G of LLaMA-70B's down projection in 5.3 ms, where the [m, m] × [m, 3] product
/// took 26–32 ms (session 13's trace, docs/mgptq.md).
/// The pieces are cut on the host; they go to the device in one copy and the products come back in
/// one, both through page-locked memory (`transfer`). With the trace on, `split` accumulates the
/// seconds of the copy there, of the products and of the copy back, each timed to the completion
/// of the calling thread's stream.
struct SplitSeconds {
    double upload = 0, products = 0, download = 0;
};

at::Tensor splitTimes(const at::Tensor& G, const at::Tensor& v, PinnedTransfer& transfer, SplitSeconds* split = nullptr)
{
    const int64_t m = G.size(0);
    at::Tensor pieces = at::empty({3, m}, v.options().dtype(G.scalar_type()));
    at::Tensor rest = v;
    for (int64_t i = 0; i < 3; ++i) {
        pieces[i].copy_(rest);
        rest = rest - pieces[i].to(at::kDouble);
    }
    auto mark = [&](double SplitSeconds::*seconds, Clock::time_point& t) {
        if (!split)
            return;
        synchronize(G.device());
        const auto now = Clock::now();
        split->*seconds += std::chrono::duration<double>(now - t).count();
        t = now;
    };
    auto t = Clock::now();
    at::Tensor onDevice = at::empty({3, m}, G.options());
    transfer.toDevice(pieces, onDevice);
    mark(&SplitSeconds::upload, t);
    at::Tensor out = at::zeros({3, m}, G.options().dtype(at::kFloat));
    for (int64_t i = 0; i < 3; ++i) {
        at::Tensor row = out[i].view({m, 1});
        addHalfProduct(row, G, onDevice[i].view({m, 1}));
    }
    mark(&SplitSeconds::products, t);
    const at::Tensor sum = transfer.toHost(out).to(at::kDouble).sum(0);
    mark(&SplitSeconds::download, t);
    return sum;
}

constexpr double kHalfTolerance = 1e-6;

} // namespace

bool traceMgptq()
{
    static const bool on = [] {
        const char* e = std::getenv("MPQ_TRACE_MGPTQ");
        return e && *e && std::string(e) != "0";
    }();
    return on;
}

RelaxedOptimum relaxedProxyOptimum(const at::Tensor& G, const at::Tensor& P0, const std::vector<int>& bitsSet,
                                   double target, double ridge, int64_t maxIters, double tol, JobContext* ctx)
{
    torch::NoGradGuard noGrad;
    const int64_t n = P0.size(0), K = int64_t(bitsSet.size());
    TORCH_CHECK(P0.dim() == 2 && P0.size(1) == K && G.dim() == 2 && G.size(0) == K * n && G.size(1) == K * n,
                "relaxed optimum: G must be [K·n, K·n] and P0 [n, K]");
    const std::vector<double> bits(bitsSet.begin(), bitsSet.end());
    const double budget = target * double(n);
    const double eps = ridge * G.diagonal().to(at::kDouble).mean().item<double>();
    // Gradient of vᵀGv + ε‖v‖² at P (row-major [n, K]): 2(Gv + εv), back in [n, K].
    const bool cpuDense = G.device().is_cpu() && G.scalar_type() == at::kFloat;
    const bool half = halfProductInFloat(G);
    const at::Tensor Gc = cpuDense ? G.contiguous() : at::Tensor();
    const int64_t m = K * n;
    std::vector<double> v(static_cast<size_t>(m)), gOut(static_cast<size_t>(m));
    SplitSeconds split; // for the trace
    PinnedTransfer transfer;
    auto gradient = [&](const std::vector<double>& P) -> const std::vector<double>& {
        if (cpuDense) { // a plain mat-vec: thousands of small ones, where tensor overhead dominates
            for (int64_t j = 0; j < n; ++j)
                for (int64_t b = 0; b < K; ++b)
                    v[size_t(b * n + j)] = P[size_t(j * K + b)];
            const float* g = Gc.data_ptr<float>();
            const double* vp = v.data();
            auto finish = [&](int64_t i, double acc) {
                const int64_t b = i / n, j = i % n;
                gOut[size_t(j * K + b)] = 2.0 * (acc + eps * vp[i]);
            };
            // Each row's sum in column order, as one chain per row: four rows at a time (four
            // independent chains instead of one whose adds wait on each other) and blocks of
            // rows on torch's threads. Every row's sum is the same as row by row.
            at::parallel_for(0, (m + 3) / 4, 16, [&](int64_t q0, int64_t q1) {
                for (int64_t i = 4 * q0; i < std::min(m, 4 * q1); i += 4) {
                    if (i + 4 > m) {
                        for (int64_t r = i; r < m; ++r) {
                            const float* row = g + r * m;
                            double acc = 0;
                            for (int64_t k = 0; k < m; ++k)
                                acc += double(row[k]) * vp[k];
                            finish(r, acc);
                        }
                        break;
                    }
                    const float *r0 = g + i * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
                    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    for (int64_t k = 0; k < m; ++k) {
                        const double x = vp[k];
                        a0 += double(r0[k]) * x;
                        a1 += double(r1[k]) * x;
                        a2 += double(r2[k]) * x;
                        a3 += double(r3[k]) * x;
                    }
                    finish(i, a0);
                    finish(i + 1, a1);
                    finish(i + 2, a2);
                    finish(i + 3, a3);
                }
            });
            return gOut;
        }
        const at::Tensor Pt = at::from_blob(const_cast<double*>(P.data()), {n, K}, at::kDouble);
        const at::Tensor vt = Pt.t().reshape({-1}).contiguous();
        const at::Tensor Gv = half ? splitTimes(G, vt, transfer, traceMgptq() ? &split : nullptr)
                                   : at::mv(G, vt.to(G.device(), G.scalar_type())).to(at::kCPU, at::kDouble);
        const at::Tensor g = (2.0 * (Gv + eps * vt)).view({K, n}).t().contiguous();
        gOut.assign(g.data_ptr<double>(), g.data_ptr<double>() + n * K);
        return gOut;
    };
    // Step 1/L with L = 2(λmax(G) + ε): λmax by power iteration from a fixed vector, with margin.
    double lmax = 0;
    const auto tPower = Clock::now();
    if (half) {
        // On the device, without a host round trip per iteration: y = G x with fp32 sums, the
        // norms kept on the device and read once (a pass over G takes milliseconds; a copy to
        // the host and back per iteration cost as much again).
        at::Tensor x = at::ones({K * n, 1}, G.options().dtype(at::kFloat));
        at::Tensor norms = at::empty({50}, x.options());
        for (int it = 0; it < 50; ++it) {
            const at::Tensor y = halfTimes(G, x.to(G.scalar_type()));
            const at::Tensor norm = y.norm();
            norms[it].copy_(norm / x.norm());
            x = y / norm.clamp_min(1e-30);
        }
        const at::Tensor ratios = norms.to(at::kCPU, at::kDouble).contiguous();
        for (int it = 0; it < 50 && ratios.data_ptr<double>()[it] > 0; ++it)
            lmax = ratios.data_ptr<double>()[it];
    } else {
        at::Tensor x = at::ones({K * n}, at::kDouble);
        for (int it = 0; it < 50; ++it) {
            const at::Tensor y = at::mv(G, x.to(G.device(), G.scalar_type())).to(at::kCPU, at::kDouble);
            const double norm = y.norm().item<double>();
            if (!(norm > 0))
                break;
            lmax = norm / x.norm().item<double>();
            x = y / norm;
        }
    }
    const double powerSeconds = secondsSince(tPower);
    if (!std::isfinite(lmax) || !std::isfinite(eps))
        throw Error("MG-PTQ relaxed solve: G is not finite (largest eigenvalue " + std::to_string(lmax) +
                    ", mean diagonal " + std::to_string(eps / ridge) + ")");
    const double step = 1.0 / (2.0 * (1.5 * lmax + eps) + 1e-300);
    at::Tensor P0c = P0.to(at::kCPU, at::kDouble).contiguous();
    // The problem is convex with one optimum, so the start only saves iterations: a start that
    // is not finite (a network whose training diverged) is replaced by the uniform distribution,
    // whose optimum is the same. Sorting NaNs in the projection would be undefined behaviour.
    RelaxedOptimum r;
    r.startNotFinite = !at::isfinite(P0c).all().item<bool>();
    if (r.startNotFinite)
        P0c = at::full({n, K}, 1.0 / double(K), P0c.options());
    std::vector<double> start(P0c.data_ptr<double>(), P0c.data_ptr<double>() + n * K);
    std::vector<double> x(start.size()), xn(start.size()), y, Y(start.size());
    double mu = 0;
    projectBudget(start, x, bits, n, budget, mu);
    y = x;
    double t = 1;
    // With a half-precision G the gradient is exact to about 1e-7 of its size; below that the
    // iterates move by rounding, so the solve stops at 1e-6 there.
    const double stop = half ? std::max(tol, kHalfTolerance) : tol;
    const bool trace = traceMgptq();
    const auto t0 = Clock::now();
    double gradSeconds = 0, projectSeconds = 0; // for the trace
    for (r.iterations = 0; r.iterations < maxIters; ++r.iterations) {
        if (ctx && r.iterations % 100 == 0)
            ctx->checkCancelled();
        if (trace && r.iterations % 500 == 0 && r.iterations > 0)
            std::fprintf(stderr, "[mgptq] relax n=%lld iteration %lld change %.3g (%.2f s)\n", (long long)n,
                         (long long)r.iterations, r.change,
                         secondsSince(t0));
        const auto tGrad = Clock::now();
        const std::vector<double>& g = gradient(y);
        gradSeconds += secondsSince(tGrad);
        for (size_t i = 0; i < Y.size(); ++i)
            Y[i] = y[i] - step * g[i];
        for (double e : Y)
            if (!std::isfinite(e))
                throw Error("MG-PTQ relaxed solve: the iterate is not finite after " +
                            std::to_string(r.iterations) + " iterations (G times P)");
        const auto tProject = Clock::now();
        projectBudget(Y, xn, bits, n, budget, mu);
        projectSeconds += secondsSince(tProject);
        double change = 0, dir = 0;
        for (size_t i = 0; i < xn.size(); ++i) {
            change = std::max(change, std::abs(xn[i] - x[i]));
            dir += (y[i] - xn[i]) * (xn[i] - x[i]);
        }
        r.change = change;
        const double tn = dir > 0 ? 1.0 : 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t)); // restart when momentum opposes
        const double beta = dir > 0 ? 0.0 : (t - 1.0) / tn;
        for (size_t i = 0; i < xn.size(); ++i)
            y[i] = xn[i] + beta * (xn[i] - x[i]);
        x.swap(xn);
        t = tn;
        if (change < stop)
            break;
    }
    if (trace)
        std::fprintf(stderr, "[mgptq] relax n=%lld: step size %.2f s, %lld iterations %.2f s (gradients %.2f s: "
                     "upload %.3f s, products %.3f s, download %.3f s; projections %.2f s)\n", (long long)n,
                     powerSeconds, (long long)r.iterations, secondsSince(t0), gradSeconds, split.upload,
                     split.products, split.download, projectSeconds);
    r.P = at::tensor(x).view({n, K});
    return r;
}

} // namespace mpq::detail
