// MG-PTQ's polish with its state on G's device (docs/mgptq.md, "Polish"): the same steps as the
// host scan in MgptqProxy.cpp, but u = Gv, the per-column blocks and the choice stay where G is,
// every step's scan, its best downs and ups and their pair block are formed there, and one small
// packet comes back per step instead of two rows of G and a scan of K·n candidates on the host.
#include "alloc/mgptq/detail/MgptqProxy.h"

#include "core/detail/CudaGraph.h"
#include "core/detail/TorchDevice.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>
#include <utility>

namespace mpq::detail {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// One step's findings, read back in one copy.
struct StepPacket {
    double best = 0;        ///< the smallest single move that fits the budget (+inf: none)
    int64_t bj = -1, bc = -1;
    std::vector<std::pair<double, int64_t>> downs, ups; ///< (Δ, column), ascending, finite only
    std::vector<double> block; ///< [2·kPolishPairs, 2·kPolishPairs]: G[(new, old) of each down, (new, old) of each up]
};

} // namespace

int64_t polishToTargetOnDevice(std::vector<int>& choice, const at::Tensor& G, const std::vector<int>& bitsSet,
                               double target, int64_t maxMoves, JobContext* ctx)
{
    torch::NoGradGuard noGrad;
    const int64_t n = int64_t(choice.size()), K = int64_t(bitsSet.size());
    TORCH_CHECK(G.dim() == 2 && G.size(0) == K * n && G.size(1) == K * n, "polish: G must be [K·n, K·n]");
    if (n == 0 || K < 2)
        return 0;
    const auto proxy = ProxyGram::dense(G, K);
    const at::TensorOptions f64 = G.options().dtype(at::kDouble);
    const at::TensorOptions i64 = G.options().dtype(at::kLong);
    const double inf = std::numeric_limits<double>::infinity();

    // State on the device: u = Gv [K, n] (fp64, the same start as the host scan's), the blocks
    // D[a, c, j] [K, K, n] and their diagonal Dcc [K, n], the choice [n].
    const at::Tensor uHost = proxy->timesOneHot(choice); // [K·n] fp64 on the CPU
    at::Tensor u = uHost.to(f64).view({K, n}).contiguous();
    const at::Tensor D = proxy->columnBlocks().to(f64).contiguous();
    const at::Tensor Dcc = D.diagonal(0, 0, 1).t().contiguous(); // [K, n]
    std::vector<int64_t> choice64(choice.begin(), choice.end());
    at::Tensor ch = at::tensor(choice64, at::kLong).to(G.device());
    std::vector<double> bitsHost(bitsSet.begin(), bitsSet.end());
    const at::Tensor bits = at::tensor(bitsHost, at::kDouble).to(G.device()).view({K, 1});
    const at::Tensor cand = at::arange(K, i64).view({K, 1});

    double total = 0, cost = 0;
    {
        const double* pu = uHost.data_ptr<double>();
        for (int64_t j = 0; j < n; ++j) {
            total += bitsSet[size_t(choice[size_t(j)])];
            cost += pu[choice[size_t(j)] * n + j];
        }
    }
    const double limit = target * double(n) + 1e-9;

    // One step's scan on the device, into `packet`; it reads the budget's slack from `slackT`, so
    // that it can be recorded once as a CUDA graph and replayed (its tens of small kernels and
    // two sorts cost about 0.4 ms of launches per step eagerly); the packet is read back in one
    // copy through page-locked memory (a pageable read-back waits on other threads' copies).
    const at::Tensor slackT = at::zeros({}, f64);
    const int64_t m = std::min<int64_t>(kPolishPairs, n);
    at::Tensor packet;
    auto scanOnDevice = [&] {
        const at::Tensor a = ch.view({1, n});
        const at::Tensor ua = u.gather(0, a), Daa = Dcc.gather(0, a);
        const at::Tensor Dac = D.gather(0, a.view({1, 1, n}).expand({1, K, n})).squeeze(0); // [K, n]
        // Δ of moving column j from a to c: 2(u_c − u_a) + G_cc + G_aa − 2G_ac, in the host's order.
        const at::Tensor delta = (u - ua).mul_(2.0).add_(Dcc).add_(Daa).sub_(Dac * 2.0); // [K, n]
        const at::Tensor same = cand.eq(a);
        const at::Tensor fits = (bits - bits.view({K}).index_select(0, ch).view({1, n})).le(slackT);
        const at::Tensor single = at::where(same.logical_not().logical_and(fits), delta, inf);
        // Column-major order (j, then c), so the first minimum is the host scan's first one.
        const auto [bestV, bestI] = single.t().contiguous().view({-1}).min(0);
        // The one-step downs and ups, (Δ, column) ascending: a stable sort keeps the column order
        // of equal Δ, as the host's (Δ, column) heap does.
        auto oneStep = [&](int64_t step) {
            const at::Tensor c = ch + step;
            const at::Tensor ok = c.ge(0).logical_and(c.lt(K));
            const at::Tensor d = delta.gather(0, c.clamp(0, K - 1).view({1, n})).view({n});
            const auto [v, idx] = at::sort(at::where(ok, d, inf), /*stable=*/true, 0, false);
            return std::make_pair(v.narrow(0, 0, m), idx.narrow(0, 0, m));
        };
        const auto [dv, di] = oneStep(-1);
        const auto [uv, ui] = oneStep(+1);
        // Rows (new, old) of each down and columns (new, old) of each up.
        const at::Tensor ad = ch.index_select(0, di), au = ch.index_select(0, ui);
        const at::Tensor rIdx = at::stack({(ad - 1).clamp_min(0) * n + di, ad * n + di}, 1).view({-1});
        const at::Tensor cIdx = at::stack({(au + 1).clamp_max(K - 1) * n + ui, au * n + ui}, 1).view({-1});
        const at::Tensor sub = G.index_select(0, rIdx).index_select(1, cIdx).to(at::kDouble).view({-1});
        packet = at::cat({bestV.view({1}), bestI.to(at::kDouble).view({1}), dv, di.to(at::kDouble), uv,
                          ui.to(at::kDouble), sub});
    };
    PinnedTransfer transfer;
    auto readPacket = [&] {
        const at::Tensor back = transfer.toHost(packet);
        const double* p = back.data_ptr<double>();
        StepPacket s;
        s.best = p[0];
        if (std::isfinite(s.best)) {
            const int64_t flat = int64_t(p[1]);
            s.bj = flat / K;
            s.bc = flat % K;
        }
        for (int64_t i = 0; i < m; ++i) {
            if (std::isfinite(p[2 + i]))
                s.downs.emplace_back(p[2 + i], int64_t(p[2 + m + i]));
            if (std::isfinite(p[2 + 2 * m + i]))
                s.ups.emplace_back(p[2 + 2 * m + i], int64_t(p[2 + 3 * m + i]));
        }
        s.block.assign(p + 2 + 4 * m, p + 2 + 4 * m + 4 * m * m);
        return s;
    };
    auto apply = [&](int64_t j, int c) {
        const int a = choice[size_t(j)];
        // u += G[(c, j)] − G[(a, j)], in fp64 as the host's update.
        u.view({-1}).add_(G.select(0, int64_t(c) * n + j).to(at::kDouble) - G.select(0, int64_t(a) * n + j).to(at::kDouble));
        ch.select(0, j).fill_(int64_t(c));
        total += bitsSet[size_t(c)] - bitsSet[size_t(a)];
        choice[size_t(j)] = c;
    };

    // The steps after the first two (eager: libraries set up their workspaces) replay the scan
    // recorded as a CUDA graph; where recording fails, every step runs eagerly (the same kernels,
    // the same moves). MPQ_POLISH_GRAPH=0 keeps every step eager, for comparison.
    static const bool graphs = [] {
        const char* e = std::getenv("MPQ_POLISH_GRAPH");
        return !(e && std::string(e) == "0");
    }();
    constexpr int64_t kEagerSteps = 2;
    CapturedStep captured(G.device()); // after the state above: its stream waits for it
    bool replaying = false;
    std::string graphFailure = !graphs ? "MPQ_POLISH_GRAPH=0" : G.is_cuda() ? "" : "not a CUDA device";
    // As the training's: the eager steps and the capture of one thread at a time.
    std::unique_lock<std::mutex> turn;
    if (graphs && G.is_cuda())
        turn = std::unique_lock<std::mutex>(CapturedStep::captureTurn());
    int64_t moves = 0, steps = 0;
    double stepSeconds = 0;
    const auto t0 = Clock::now();
    while (moves < maxMoves) {
        if (ctx)
            ctx->checkCancelled();
        const double slack = limit - total;
        const double eps = 1e-9 * std::abs(cost) + 1e-300;
        const auto tStep = Clock::now();
        slackT.fill_(slack);
        if (turn.owns_lock() && steps == kEagerSteps) {
            replaying = captured.capture(scanOnDevice, &graphFailure);
            turn.unlock();
        }
        if (replaying)
            captured.replay();
        else
            scanOnDevice();
        const StepPacket s = readPacket();
        ++steps;
        stepSeconds += secondsSince(tStep);
        PolishStep step{-eps, -1, -1, -1, -1};
        if (s.bj >= 0 && s.best < step.best)
            step = PolishStep{s.best, s.bj, -1, int(s.bc), -1};
        // Pairs: one column a step down, another a step up, among the best of each.
        bestPolishPair(step, s.downs, s.ups, s.block.data(), 2 * std::min<int64_t>(kPolishPairs, n), choice, bitsSet,
                       slack);
        const int made = applyPolishStep(step, apply);
        if (made == 0)
            break;
        moves += made;
        cost += step.best;
    }
    if (traceMgptq())
        std::fprintf(stderr, "[mgptq] polish n=%lld on %s: %lld moves, %.2f s (steps %.2f s; %s)\n", (long long)n,
                     G.device().str().c_str(), (long long)moves, secondsSince(t0), stepSeconds,
                     replaying              ? "replayed as a CUDA graph"
                     : graphFailure.empty() ? "eager: ended before the recording"
                                            : ("eager: " + graphFailure).c_str());
    return moves;
}

} // namespace mpq::detail
