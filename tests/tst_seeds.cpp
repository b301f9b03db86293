// The seeds protocol (issue 16): MG-PTQ is deterministic for a seed, restarts keep the plan
// with the lowest proxy, the polish ends at a local optimum of the proxy within the budget,
// allocation in act-order's column order is the natural allocation of the permuted matrix, and
// `mpq sweep --seeds` reports the mean and sample sd of its per-seed runs.
#include "TestData.h"
#include "alloc/mgptq/Mgptq.h"
#include "alloc/mxq/MxqCostChoice.h"
#include "alloc/mxq/MxqProblem.h"
#include "alloc/mxq/MxqSolver.h"
#include "alloc/mxq/detail/MxqProbed.h"
#include "data/Calibration.h"
#include "alloc/mxq/detail/LossProbe.h"
#include "alloc/mgptq/detail/MgptqTrain.h"
#include "alloc/mxq/detail/MxqCosts.h"
#include "core/Device.h"
#include "core/Error.h"
#include "core/SettingError.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeJob.h"
#include "pipeline/QuantizeParamsJson.h"
#include "pipeline/SeedStatistics.h"
#include "session/Session.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/Hqq.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include "MgptqFixtures.h"

#include <QtTest>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#ifndef MPQ_CLI_PATH
#error "MPQ_CLI_PATH must name the mpq executable (tests/seeds.cmake)"
#endif

using namespace mpq;
using namespace mpq::detail;

namespace {

using mpq::test::mgptqHessian;
using mpq::test::mgptqWeight;

MgptqOptions fast()
{
    MgptqOptions o;
    o.epochs = 60;
    o.learningRate = 2e-2;
    o.hiddenDim = 16;
    o.featureDim = 8;
    o.targetBits = 2.5;
    return o;
}

/// The block Gram matrix G of allocateMgptq for RTN candidates per output row.
at::Tensor gramFor(const at::Tensor& W, const at::Tensor& H, const std::vector<int>& bitsSet)
{
    const int64_t n = W.size(1), K = int64_t(bitsSet.size());
    std::vector<at::Tensor> errs;
    for (int b : bitsSet)
        errs.push_back(W - rtnQuantize(W, at::full({n}, b, at::kInt), GridOptions{}).dequant);
    const at::Tensor E = at::cat(errs, 1);
    at::Tensor G = at::matmul(E.t(), E);
    G.view({K, n, K, n}).mul_(H.view({1, n, 1, n}));
    return G;
}

/// MXQ cost settings on the first layer of the model in `dir` (the demo model in these tests).
MxqCostParams firstLayerCosts(const std::string& dir, std::vector<MxqConfig> configs = {{2, 32}, {3, 64}, {4, 128}})
{
    MxqCostParams p;
    p.model = dir;
    p.configs = std::move(configs);
    p.lastLayer = 1;
    return p;
}

/// `t` saved as `name` in `dir` and read back.
MxqCostTable reloaded(const MxqCostTable& t, const QTemporaryDir& dir, const char* name)
{
    const std::string file = dir.filePath(name).toStdString();
    t.save(file);
    return MxqCostTable::load(file);
}

double bitsOf(const std::vector<int>& choice, const std::vector<int>& bitsSet)
{
    double s = 0;
    for (int c : choice)
        s += bitsSet[size_t(c)];
    return s / double(choice.size());
}

/// A two-configuration candidate of a probed selection (session 18): named for LO and HI, every
/// matrix at one of them, within the budget, and of the least sensitivity cost anchored at LO's
/// width among every such plan (all 2^n enumerated).
void checkPairCandidate(const MxqCostTable& t, const MxqProbedSelection& sel, const MxqProbedCandidate& c,
                        const std::string& lo, const std::string& hi)
{
    QCOMPARE(c.name, "sensitivity between " + lo + " and " + hi);
    size_t klo = t.configs.size(), khi = t.configs.size();
    for (size_t k = 0; k < t.configs.size(); ++k) {
        if (t.configs[k].label() == lo)
            klo = k;
        if (t.configs[k].label() == hi)
            khi = k;
    }
    QVERIFY(klo < t.configs.size() && khi < t.configs.size());
    // With this test's configurations (b2g32, b3g64, b4g128) the narrowest width is config 0's, and
    // each wider one is its width's own anchor.
    const auto& costs = t.candidateCosts.at(klo == 0 ? std::string("sensitivity") : "sensitivity@" + lo);
    const size_t n = t.matrices.size();
    QVERIFY(n <= 16);
    double best = INFINITY, planCost = 0, planStorage = 0;
    for (size_t m = 0; m < n; ++m) {
        const size_t k = size_t(c.choice[m]);
        QVERIFY2(k == klo || k == khi, c.name.c_str());
        planCost += costs[m][k];
        planStorage += t.matrices[m].storageBits[k];
    }
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
        double cost = 0, storage = 0;
        for (size_t m = 0; m < n; ++m) {
            const size_t k = (mask >> m) & 1u ? khi : klo;
            cost += costs[m][k];
            storage += t.matrices[m].storageBits[k];
        }
        if (storage <= sel.budgetBits)
            best = std::min(best, cost);
    }
    QVERIFY(planStorage <= sel.budgetBits);
    QVERIFY2(planCost <= best + 1e-9 * std::abs(best), c.name.c_str());
    QCOMPARE(c.bitsPerParameter, planStorage / double(t.totalParameters()));
    // Some matrices at each: a point between the two uniform ones, not either of them.
    QVERIFY(std::count(c.choice.begin(), c.choice.end(), int(khi)) > 0);
    QVERIFY(std::count(c.choice.begin(), c.choice.end(), int(klo)) > 0);
}

} // namespace

class TestSeeds : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void seedIsDeterministic()
    {
        const at::Tensor W = mgptqWeight(48, 40, 1), H = mgptqHessian(40, 120, 2);
        MgptqOptions o = fast();
        o.seed = 7;
        const MgptqResult a = allocateMgptq(W, H, o, {}, true);
        const MgptqResult b = allocateMgptq(W, H, o, {}, true);
        QCOMPARE(a.columnBits, b.columnBits);
        QCOMPARE(a.predictedCost, b.predictedCost);
        QCOMPARE(a.curve.size(), b.curve.size());
        for (size_t i = 0; i < a.curve.size(); ++i)
            QCOMPARE(a.curve[i].loss, b.curve[i].loss);
        // Another seed trains another network (its loss curve differs from the first epoch on).
        o.seed = 8;
        const MgptqResult c = allocateMgptq(W, H, o, {}, true);
        QVERIFY(c.curve.front().loss != a.curve.front().loss);
    }

    void restartSeeds()
    {
        QCOMPARE(mgptqRestartSeed(5, 0), uint64_t(5));
        QVERIFY(mgptqRestartSeed(5, 1) != mgptqRestartSeed(5, 2));
        QVERIFY(mgptqRestartSeed(5, 1) != mgptqRestartSeed(6, 1));
    }

    void restartsKeepTheLowestProxy()
    {
        const at::Tensor W = mgptqWeight(48, 40, 3), H = mgptqHessian(40, 120, 4);
        for (bool polish : {false, true}) {
            MgptqOptions o = fast();
            o.polish = polish;
            o.seed = 11;
            o.restarts = 4;
            const MgptqResult all = allocateMgptq(W, H, o, {}, false);
            QCOMPARE(all.restartCosts.size(), size_t(4));
            // Each restart is exactly the single run with the restart's seed.
            std::vector<MgptqResult> singles;
            for (int r = 0; r < 4; ++r) {
                MgptqOptions one = o;
                one.restarts = 1;
                one.seed = mgptqRestartSeed(o.seed, r);
                singles.push_back(allocateMgptq(W, H, one, {}, false));
                QCOMPARE(all.restartCosts[size_t(r)], singles.back().predictedCost);
            }
            int best = 0;
            for (int r = 1; r < 4; ++r)
                if (singles[size_t(r)].predictedCost < singles[size_t(best)].predictedCost)
                    best = r;
            QCOMPARE(all.chosenRestart, best);
            QCOMPARE(all.predictedCost, singles[size_t(best)].predictedCost);
            QCOMPARE(all.columnBits, singles[size_t(best)].columnBits);
            for (const auto& s : singles)
                QVERIFY(all.predictedCost <= s.predictedCost);
        }
        MgptqOptions bad = fast();
        bad.restarts = 0;
        QVERIFY_THROWS_EXCEPTION(Error, allocateMgptq(W, H, bad, {}, true));
    }

    void polishReachesALocalOptimumWithinTheBudget()
    {
        // n = 12 columns: the 16 best downs and ups cover every pair, so the end point must be a
        // local optimum for every single move and every one-step down/up pair.
        const std::vector<int> bitsSet = {2, 3, 4};
        const int64_t n = 12;
        for (uint64_t seed : {21u, 22u, 23u}) {
            const at::Tensor W = mgptqWeight(32, n, seed), H = mgptqHessian(n, 60, seed + 100);
            const at::Tensor G = gramFor(W, H, bitsSet);
            for (double target : {2.25, 2.5, 3.0}) {
                std::vector<int> choice(size_t(n), 0);
                auto g = at::detail::createCPUGenerator(seed);
                const at::Tensor start = at::randint(0, 3, {n}, g);
                for (int64_t j = 0; j < n; ++j)
                    choice[size_t(j)] = int(start[j].item<int64_t>());
                // Start within the budget (the repair's job), then polish.
                std::vector<std::vector<double>> own(size_t(n), std::vector<double>(3));
                for (int64_t j = 0; j < n; ++j)
                    for (int c = 0; c < 3; ++c)
                        own[size_t(j)][size_t(c)] = G[c * n + j][c * n + j].item<double>();
                repairToTarget(choice, own, bitsSet, target);
                const double before = proxyCost(choice, G);
                polishToTarget(choice, G, bitsSet, target, 1000);
                const double after = proxyCost(choice, G);
                QVERIFY2(after <= before * (1 + 1e-9), qPrintable(QString("%1 > %2").arg(after).arg(before)));
                QVERIFY(bitsOf(choice, bitsSet) <= target + 1e-9);
                const double tol = 1e-6 * after;
                for (int64_t j = 0; j < n; ++j)
                    for (int c = 0; c < 3; ++c) {
                        std::vector<int> alt = choice;
                        alt[size_t(j)] = c;
                        if (bitsOf(alt, bitsSet) <= target + 1e-9)
                            QVERIFY2(proxyCost(alt, G) >= after - tol, "a single move still improves");
                    }
                for (int64_t j = 0; j < n; ++j)
                    for (int64_t k = 0; k < n; ++k) {
                        if (j == k || choice[size_t(j)] == 0 || choice[size_t(k)] == 2)
                            continue;
                        std::vector<int> alt = choice;
                        --alt[size_t(j)];
                        ++alt[size_t(k)];
                        QVERIFY2(proxyCost(alt, G) >= after - tol, "a down/up pair still improves");
                    }
            }
        }
    }

    void devicePolishMakesTheHostPolishsMoves()
    {
        // The polish with its state on G's device (the CUDA path) against the host scan, both on
        // the CPU: the same moves from the same start, with fewer and with more columns than the
        // 16 downs and ups the pairs are chosen from, on fp32 G and on bf16 values (CUDA's G).
        const std::vector<int> bitsSet = {2, 3, 4};
        for (int64_t n : {12, 40, 150}) {
            for (uint64_t seed : {51u, 52u}) {
                const at::Tensor W = mgptqWeight(32, n, seed), H = mgptqHessian(n, 3 * n, seed + 100);
                const at::Tensor G32 = gramFor(W, H, bitsSet);
                for (const at::Tensor& G : {G32, G32.to(at::kBFloat16).to(at::kFloat)}) {
                    std::vector<std::vector<double>> own(size_t(n), std::vector<double>(3));
                    for (int64_t j = 0; j < n; ++j)
                        for (int c = 0; c < 3; ++c)
                            own[size_t(j)][size_t(c)] = G[c * n + j][c * n + j].item<double>();
                    for (double target : {2.25, 2.5, 3.0}) {
                        // A random start, repaired into the budget.
                        auto g = at::detail::createCPUGenerator(seed + uint64_t(n));
                        const at::Tensor r = at::randint(0, 3, {n}, g);
                        std::vector<int> start(static_cast<size_t>(n));
                        for (int64_t j = 0; j < n; ++j)
                            start[size_t(j)] = int(r[j].item<int64_t>());
                        repairToTarget(start, own, bitsSet, target);
                        std::vector<int> host = start, device = start;
                        const int64_t movesHost = polishToTarget(host, G, bitsSet, target, 4 * n);
                        const int64_t movesDevice = polishToTargetOnDevice(device, G, bitsSet, target, 4 * n);
                        QVERIFY(movesHost > 0);
                        QCOMPARE(movesDevice, movesHost);
                        QCOMPARE(device, host);
                        // A move cap is obeyed the same way.
                        std::vector<int> capped = start, cappedDevice = start;
                        const int64_t cap = std::max<int64_t>(1, movesHost / 2);
                        QCOMPARE(polishToTargetOnDevice(cappedDevice, G, bitsSet, target, cap),
                                 polishToTarget(capped, G, bitsSet, target, cap));
                        QCOMPARE(cappedDevice, capped);
                    }
                }
            }
        }
    }

    void halfGramOnCudaMatchesTheCpuG()
    {
        // CUDA's proxy: the training's bf16 G on the device (one-pass G·v with fp32 sums, no
        // gathers of n columns). Every product the polish reads equals the CPU's on the same
        // values in fp32, and the polish ends at the same plan.
        if (!mpq::cudaAvailable())
            QSKIP("no CUDA device here (the GPU machine runs this case)");
        const std::vector<int> bitsSet = {2, 3, 4};
        const int64_t n = 40, K = 3;
        const at::Tensor W = mgptqWeight(24, n, 31), H = mgptqHessian(n, 80, 131);
        const at::Tensor Gh = gramFor(W, H, bitsSet).to(at::kBFloat16);
        const at::Tensor Gc = Gh.to(at::kFloat);
        const auto cpu = ProxyGram::dense(Gc, K), cuda = ProxyGram::dense(Gh.to(at::kCUDA), K);
        auto close = [](const at::Tensor& a, const at::Tensor& b) {
            return at::allclose(a, b, 1e-5, 1e-6 * b.abs().max().item<double>());
        };
        std::vector<int> choice(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j)
            choice[size_t(j)] = int((j * 7) % K);
        QVERIFY(close(cuda->timesOneHot(choice), cpu->timesOneHot(choice)));
        QVERIFY(close(cuda->columnBlocks(), cpu->columnBlocks()));
        QVERIFY(close(cuda->rowDifference(2 * n + 5, 5), cpu->rowDifference(2 * n + 5, 5)));
        const std::vector<int64_t> rows = {0, n + 7, 2 * n + 39}, cols = {4, 2 * n + 4, n + 11, 38};
        QVERIFY(close(cuda->block(rows, cols), cpu->block(rows, cols)));
        QVERIFY(std::abs(cuda->cost(choice) - cpu->cost(choice)) <= 1e-5 * cpu->cost(choice));
        std::vector<int> a(size_t(n), 0);
        std::vector<std::vector<double>> own(size_t(n), std::vector<double>(3));
        for (int64_t j = 0; j < n; ++j)
            for (int c = 0; c < 3; ++c)
                own[size_t(j)][size_t(c)] = Gc[c * n + j][c * n + j].item<double>();
        repairToTarget(a, own, bitsSet, 2.5);
        std::vector<int> b = a, onDevice = a;
        QVERIFY(polishToTarget(a, *cpu, bitsSet, 2.5, 4 * n) > 0);
        polishToTarget(b, *cuda, bitsSet, 2.5, 4 * n);
        QCOMPARE(b, a);
        // The polish with its state on the GPU (taken by large matrices) makes the same moves.
        polishToTargetOnDevice(onDevice, Gh.to(at::kCUDA), bitsSet, 2.5, 4 * n);
        QCOMPARE(onDevice, a);
        // The relaxed solve on the device's bf16 G ends where the CPU's on the same values does.
        const at::Tensor P0 = at::full({n, K}, 1.0 / 3);
        const RelaxedOptimum rc = relaxedProxyOptimum(Gc, P0, bitsSet, 2.5, 1e-2, 5000, 1e-9);
        const RelaxedOptimum rg = relaxedProxyOptimum(Gh.to(at::kCUDA), P0, bitsSet, 2.5, 1e-2, 5000, 1e-9);
        QVERIFY(rg.iterations < 5000);
        QCOMPARE(rg.P.argmax(1).ne(rc.P.argmax(1)).sum().item<int64_t>(), int64_t(0));
        QVERIFY((rg.P - rc.P).abs().max().item<double>() < 1e-4);
    }

    void relaxedOptimumIgnoresItsStart()
    {
        // The relaxed proxy is convex with a ridge: from any start the solve ends at one optimum,
        // inside the budget (in expectation).
        const std::vector<int> bitsSet = {2, 3, 4};
        const int64_t n = 40, K = 3;
        const at::Tensor W = mgptqWeight(24, n, 41), H = mgptqHessian(n, 80, 141);
        const at::Tensor G = gramFor(W, H, bitsSet);
        auto g = at::detail::createCPUGenerator(5);
        const at::Tensor starts[] = {at::full({n, K}, 1.0 / 3), at::softmax(4.0 * at::randn({n, K}, g), 1),
                                     at::one_hot(at::full({n}, 2, at::kLong), K).to(at::kFloat)};
        std::vector<at::Tensor> ends;
        for (const at::Tensor& P0 : starts) {
            const RelaxedOptimum r = relaxedProxyOptimum(G, P0, bitsSet, 2.5, 1e-2, 5000, 1e-9);
            qInfo("relaxed solve: %lld iterations", static_cast<long long>(r.iterations));
            QVERIFY2(r.change < 1e-9, qPrintable(QString("not converged: %1").arg(r.change)));
            const double spent = (r.P * at::tensor({2.0, 3.0, 4.0}, at::kDouble)).sum().item<double>() / double(n);
            QVERIFY(spent <= 2.5 + 1e-9);
            QVERIFY(at::allclose(r.P.sum(1), at::ones({n}, at::kDouble), 0, 1e-12));
            ends.push_back(r.P);
        }
        for (size_t i = 1; i < ends.size(); ++i)
            QVERIFY2((ends[i] - ends[0]).abs().max().item<double>() < 1e-6, "the optimum depends on the start");
        // A start that is not finite (a diverged training) starts from the uniform distribution:
        // the same optimum, and said so; never undefined behaviour in the projection.
        at::Tensor bad = starts[1].clone();
        bad[3][1] = NAN;
        bad[7][0] = INFINITY;
        const RelaxedOptimum r = relaxedProxyOptimum(G, bad, bitsSet, 2.5, 1e-2, 5000, 1e-9);
        QVERIFY(r.startNotFinite);
        QVERIFY(at::isfinite(r.P).all().item<bool>());
        QVERIFY((r.P - ends[0]).abs().max().item<double>() < 1e-6);
        QVERIFY(!relaxedProxyOptimum(G, starts[0], bitsSet, 2.5, 1e-2, 5000, 1e-9).startNotFinite);
        // A G that is not finite is refused with a message, not solved.
        at::Tensor badG = G.clone();
        badG[0][0] = NAN;
        QVERIFY_THROWS_EXCEPTION(Error, relaxedProxyOptimum(badG, starts[0], bitsSet, 2.5, 1e-2, 5000, 1e-9));
    }

    void stableRoundingIsSeedIndependent()
    {
        // Five allocator seeds, GCN and MLP: the stable rounding (default) gives one plan; the
        // trained network's argmax (the paper's rounding; repaired, not polished) does not.
        const at::Tensor W = mgptqWeight(48, 40, 51), H = mgptqHessian(40, 120, 151);
        std::set<std::vector<uint8_t>> bothNetworks;
        for (bool graph : {true, false}) {
            std::set<std::vector<uint8_t>> stable, argmax;
            for (uint64_t seed = 0; seed < 5; ++seed) {
                MgptqOptions o = fast();
                o.seed = seed;
                const MgptqResult r = allocateMgptq(W, H, o, {}, graph);
                QVERIFY(r.relaxIterations > 0 && r.relaxChange < 1e-9);
                QCOMPARE(r.codeBits, 2.5);
                stable.insert(r.columnBits);
                o.relaxedRounding = false;
                o.polish = false;
                argmax.insert(allocateMgptq(W, H, o, {}, graph).columnBits);
            }
            QCOMPARE(stable.size(), size_t(1));
            QVERIFY2(argmax.size() > 1, "the argmax plans no longer differ: the test lost its point");
            bothNetworks.insert(*stable.begin());
        }
        // The network only starts the solve: GCN and MLP end at the same plan.
        QCOMPARE(bothNetworks.size(), size_t(1));
    }

    void polishLowersThePredictedCost()
    {
        const at::Tensor W = mgptqWeight(64, 48, 5), H = mgptqHessian(48, 150, 6);
        MgptqOptions o = fast();
        o.polish = false;
        const MgptqResult plain = allocateMgptq(W, H, o, {}, true);
        o.polish = true;
        const MgptqResult polished = allocateMgptq(W, H, o, {}, true);
        QVERIFY(polished.predictedCost <= plain.predictedCost);
        QVERIFY(polished.codeBits <= 2.5 + 1e-9);
        QVERIFY(polished.codeBits >= 2.5 - o.targetTolerance);
    }

    void actOrderAllocatesInGptqsOrder()
    {
        // A dead input (H_jj = 0) too: GPTQ counts it as H_jj = 1.
        const int64_t n = 40;
        const at::Tensor W = mgptqWeight(48, n, 7);
        at::Tensor H = mgptqHessian(n, 120, 8);
        H.index_fill_(0, at::tensor({int64_t(5)}), 0.0);
        H.index_fill_(1, at::tensor({int64_t(5)}), 0.0);
        const at::Tensor perm = actOrderPermutation(H);
        GptqOptions g;
        g.actOrder = true;
        const QuantizedWeight q = gptqQuantize(W, H, at::full({n}, 3, at::kInt), g);
        QVERIFY(at::equal(q.permutation.cpu(), perm.cpu()));
        for (bool graph : {true, false})
            for (int64_t groupSize : {int64_t(0), int64_t(16)}) {
                MgptqOptions o = fast();
                GridOptions grid;
                grid.groupSize = groupSize;
                const MgptqResult a = allocateMgptq(W, H, o, grid, graph, nullptr, MgptqColumnOrder{true, false});
                QVERIFY(a.actOrder);
                // The natural allocation of the permuted matrix, mapped back.
                const at::Tensor Wp = W.index_select(1, perm), Hp = H.index_select(0, perm).index_select(1, perm);
                const MgptqResult b = allocateMgptq(Wp, Hp, o, grid, graph);
                std::vector<uint8_t> mapped(static_cast<size_t>(n));
                for (int64_t j = 0; j < n; ++j)
                    mapped[size_t(perm[j].item<int64_t>())] = b.columnBits[size_t(j)];
                QCOMPARE(a.columnBits, mapped);
                QCOMPARE(a.predictedCost, b.predictedCost);
                QCOMPARE(a.bitsWithOverhead, b.bitsWithOverhead);
            }
        // The natural order trains differently (another graph, other noise per column); without
        // the polish, which often ends both at the same local optimum, and without the stable
        // rounding, which ends both at the relaxed optimum, the plans differ.
        MgptqOptions o = fast();
        o.polish = false;
        o.relaxedRounding = false;
        const MgptqResult natural = allocateMgptq(W, H, o, {}, true);
        const MgptqResult ordered = allocateMgptq(W, H, o, {}, true, nullptr, MgptqColumnOrder{true, false});
        QVERIFY(natural.columnBits != ordered.columnBits);
    }

    void mxqRelativeCost()
    {
        // --cost relative: each matrix's fnorm costs divided by RMS(W), same HQQ runs.
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        JobContext ctx;
        MxqCostParams p = firstLayerCosts(demo.dir);
        const MxqCostTable fn = computeMxqCosts(p, ctx);
        p.costKind = "relative";
        const MxqCostTable rel = computeMxqCosts(p, ctx);
        QCOMPARE(rel.costKind, std::string("relative"));
        QCOMPARE(rel.matrices.size(), fn.matrices.size());
        const ModelSource source = ModelSource::open(demo.dir);
        std::set<double> rmsSeen;
        for (size_t m = 0; m < fn.matrices.size(); ++m) {
            const at::Tensor W = loadTensor(source, fn.matrices[m].tensor, at::kFloat, at::kCPU);
            const double rms = W.pow(2).mean(at::kDouble).sqrt().item<double>();
            rmsSeen.insert(std::round(rms * 1e6));
            QCOMPARE(rel.matrices[m].storageBits, fn.matrices[m].storageBits);
            for (size_t c = 0; c < p.configs.size(); ++c)
                QVERIFY(std::abs(rel.matrices[m].cost[c] - fn.matrices[m].cost[c] / rms) <=
                        1e-9 * rel.matrices[m].cost[c]);
        }
        QVERIFY(rmsSeen.size() > 1); // otherwise the two kinds would rank the same way
        QCOMPARE(reloaded(rel, dir, "rel.json").costKind, std::string("relative"));
        p.costKind = "nonsense";
        QVERIFY_THROWS_EXCEPTION(Error, computeMxqCosts(p, ctx));
    }

    void mxqRelativeMseCost()
    {
        // The formula on a 2×2 matrix by hand: ΔW has one entry of 1, mean(W²) = (1+4+9+16)/4.
        const at::Tensor W = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2});
        const at::Tensor What = at::tensor({1.0f, 2.0f, 3.0f, 3.0f}).reshape({2, 2});
        const double f = mpq::detail::frobeniusCost(W, What);
        QCOMPARE(f, 1.0);
        QCOMPARE(mpq::detail::relativeCost("relative-mse", f, 7.5), 1.0 / 7.5);
        QCOMPARE(mpq::detail::relativeCost("relative", f, 7.5), 1.0 / std::sqrt(7.5));
        QCOMPARE(mpq::detail::relativeCost("relative-mse", 3.0, 0.0), 9.0); // all-zero W: f²
        QVERIFY_THROWS_EXCEPTION(Error, mpq::detail::relativeCost("fnorm", f, 7.5));

        // A 16×64 matrix and its HQQ b2g32 reconstruction, summed element by element in double.
        const at::Tensor A = at::randn({16, 64}, at::TensorOptions().dtype(at::kFloat)) * 0.03;
        const at::Tensor Ahat = mpq::detail::hqqQuantize(A, 2, 32).dequant.to(at::kFloat).contiguous();
        const at::Tensor Ac = A.contiguous();
        const float* a = Ac.data_ptr<float>();
        const float* ah = Ahat.data_ptr<float>();
        double sse = 0, ss = 0;
        for (int64_t i = 0; i < A.numel(); ++i) {
            sse += (double(a[i]) - double(ah[i])) * (double(a[i]) - double(ah[i]));
            ss += double(a[i]) * double(a[i]);
        }
        const double expected = sse / (ss / double(A.numel()));
        const double got = mpq::detail::relativeCost("relative-mse", mpq::detail::frobeniusCost(A, Ahat),
                                                     A.pow(2).mean(at::kDouble).item<double>());
        QVERIFY(std::abs(got - expected) <= 1e-6 * expected);

        // The table: the same HQQ runs as fnorm, each cost squared and divided by mean(W²).
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        JobContext ctx;
        MxqCostParams p = firstLayerCosts(demo.dir);
        const MxqCostTable fn = computeMxqCosts(p, ctx);
        p.costKind = "relative-mse";
        const MxqCostTable mse = computeMxqCosts(p, ctx);
        QCOMPARE(mse.costKind, std::string("relative-mse"));
        QCOMPARE(mse.matrices.size(), fn.matrices.size());
        const ModelSource source = ModelSource::open(demo.dir);
        for (size_t m = 0; m < fn.matrices.size(); ++m) {
            const at::Tensor Wm = loadTensor(source, fn.matrices[m].tensor, at::kFloat, at::kCPU);
            const double meanSquare = Wm.pow(2).mean(at::kDouble).item<double>();
            QCOMPARE(mse.matrices[m].storageBits, fn.matrices[m].storageBits);
            for (size_t c = 0; c < p.configs.size(); ++c) {
                const double fc = fn.matrices[m].cost[c];
                QVERIFY(std::abs(mse.matrices[m].cost[c] - fc * fc / meanSquare) <=
                        1e-9 * mse.matrices[m].cost[c]);
            }
        }
        const MxqCostTable back = reloaded(mse, dir, "mse.json");
        QCOMPARE(back.costKind, std::string("relative-mse"));
        QCOMPARE(back.matrices[0].cost, mse.matrices[0].cost);
    }

    void mxqRelativeHessianCost()
    {
        // By hand on 2×2: ΔW has one entry of 1 in column 1, H = diag(1, 4), so tr(ΔW H ΔWᵀ) = 4
        // and tr(W H Wᵀ) = (1 + 4·4) + (9 + 4·16) = 90; n = 4 weights.
        const at::Tensor W = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2});
        const at::Tensor What = at::tensor({1.0f, 2.0f, 3.0f, 3.0f}).reshape({2, 2});
        const at::Tensor H = at::tensor({1.0f, 0.0f, 0.0f, 4.0f}).reshape({2, 2});
        const double hess = mpq::detail::hessianCost(W, What, H);
        const double signal = mpq::detail::hessianCost(W, at::zeros_like(W), H);
        QCOMPARE(hess, 4.0);
        QCOMPARE(signal, 90.0);
        QCOMPARE(mpq::detail::relativeHessianCost(hess, signal, 4), 4.0 * 4.0 / 90.0);
        QCOMPARE(mpq::detail::relativeHessianCost(3.0, 0.0, 4), 3.0); // zero output: the Hessian cost
        // relative-mse weights every input direction alike: 4·1/30 here, not 16/90.
        QVERIFY(std::abs(mpq::detail::relativeCost("relative-mse", 1.0, 7.5) - 4.0 * 4.0 / 90.0) > 0.04);

        // H = I gives relative-mse exactly (16×64, HQQ b2g32).
        const at::Tensor A = at::randn({16, 64}, at::TensorOptions().dtype(at::kFloat)) * 0.03;
        const at::Tensor Ahat = mpq::detail::hqqQuantize(A, 2, 32).dequant.to(at::kFloat).contiguous();
        const at::Tensor I = at::eye(64, at::kFloat);
        const double viaH = mpq::detail::relativeHessianCost(mpq::detail::hessianCost(A, Ahat, I),
                                                             mpq::detail::hessianCost(A, at::zeros_like(A), I),
                                                             A.numel());
        const double mse = mpq::detail::relativeCost("relative-mse", mpq::detail::frobeniusCost(A, Ahat),
                                                     A.pow(2).mean(at::kDouble).item<double>());
        QVERIFY(std::abs(viaH - mse) <= 1e-5 * mse);

        // The table: the Hessian table's costs times n / tr(W H Wᵀ), with an SPD H per linear that
        // weights the input columns unequally.
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        JobContext ctx;
        MxqCostParams p = firstLayerCosts(demo.dir);
        const ModelSource source = ModelSource::open(demo.dir);
        const mpq::detail::MxqHessianSource hessians = [&](int64_t layer, const mpq::llama::LinearSpec& s) {
            const at::Tensor Wl = loadTensor(source, s.tensor, at::kFloat, at::kCPU);
            const int64_t in = Wl.size(1);
            const at::Tensor d = at::arange(1, in + 1, at::kFloat) * float(layer + 1) / float(in);
            return at::diag(d * d) + 0.1 * at::ones({in, in}, at::kFloat);
        };
        p.costKind = "hessian";
        const MxqCostTable hs = mpq::detail::computeMxqCosts(source, p, ctx, hessians);
        p.costKind = "relative-hessian";
        const MxqCostTable rh = mpq::detail::computeMxqCosts(source, p, ctx, hessians);
        QCOMPARE(hs.costKind, std::string("hessian"));
        QCOMPARE(rh.costKind, std::string("relative-hessian"));
        QCOMPARE(rh.matrices.size(), hs.matrices.size());
        for (size_t m = 0; m < hs.matrices.size(); ++m) {
            const auto& mx = hs.matrices[m];
            const at::Tensor Wm = loadTensor(source, mx.tensor, at::kFloat, at::kCPU);
            mpq::llama::LinearSpec spec;
            spec.tensor = mx.tensor;
            const at::Tensor Hm = hessians(mx.layer, spec);
            const double sig = (at::mm(Wm, Hm) * Wm).sum(at::kDouble).item<double>();
            QVERIFY(sig > 0);
            QCOMPARE(rh.matrices[m].storageBits, mx.storageBits);
            for (size_t c = 0; c < p.configs.size(); ++c)
                QVERIFY(std::abs(rh.matrices[m].cost[c] - double(Wm.numel()) * mx.cost[c] / sig) <=
                        1e-5 * rh.matrices[m].cost[c]);
        }
        const MxqCostTable back = reloaded(rh, dir, "rh.json");
        QCOMPARE(back.costKind, std::string("relative-hessian"));
        QCOMPARE(back.matrices[0].cost, rh.matrices[0].cost);
    }

    void mxqSensitivityCost()
    {
        // By hand: a loss increase of 0.02 nats at the probe's error 2 predicts 0.02·(1/2)² at error 1.
        QCOMPARE(mpq::detail::sensitivityCost(0.02, 1.0, 2.0), 0.005);
        QCOMPARE(mpq::detail::sensitivityCost(0.02, 2.0, 2.0), 0.02);
        QCOMPARE(mpq::detail::sensitivityCost(0.02, 1.0, 0.0), 0.0); // exact at the probe: no error
        // The floor: a tenth of the mean of the increases, negatives counted as 0.
        const std::vector<double> floored = mpq::detail::flooredLossIncreases({0.4, -0.1, 0.0, 0.001});
        const double floor = 0.1 * (0.4 + 0.0 + 0.0 + 0.001) / 4.0;
        QCOMPARE(floored, (std::vector<double>{0.4, floor, floor, floor}));
        QCOMPARE(mpq::detail::sensitivityProbe(defaultMxqConfigs()).label(), std::string("b2g128"));
        QCOMPARE(mpq::detail::sensitivityProbe({{4, 32}, {3, 64}, {8, 128}}).label(), std::string("b3g64"));
        QVERIFY_THROWS_EXCEPTION(Error, mpq::detail::sensitivityProbe({}));

        // The probe on the demo model: a matrix replaced by itself gives the baseline, a zeroed
        // or HQQ b2g32 one a larger loss, and the zeroed one the largest.
        MPQ_DEMO_MODEL(demo);
        const ModelSource source = ModelSource::open(demo.dir);
        const int64_t vocab = source.config().vocabSize;
        std::vector<std::vector<int32_t>> windows(3, std::vector<int32_t>(24));
        for (size_t i = 0; i < windows.size(); ++i)
            for (size_t t = 0; t < windows[i].size(); ++t)
                windows[i][t] = int32_t((7 * i + 13 * t + t * t) % size_t(vocab));
        const mpq::detail::LossProbe probe(source, windows, at::kCPU, 2);
        QVERIFY(std::isfinite(probe.baseline()) && probe.baseline() > 0);
        mpq::llama::LinearSpec s;
        for (const mpq::llama::LinearSpec& x : mpq::llama::layerLinears(source.config(), 0))
            if (x.name == "down_proj")
                s = x;
        QCOMPARE(s.name, std::string("down_proj"));
        const at::Tensor W = loadTensor(source, s.tensor, at::kFloat, at::kCPU);
        QVERIFY(std::abs(probe.loss(0, s, W) - probe.baseline()) <= 1e-6 * probe.baseline());
        const double q2 = probe.loss(0, s, mpq::detail::hqqQuantize(W, 2, 32).dequant.to(at::kFloat));
        const double zero = probe.loss(0, s, at::zeros_like(W));
        QVERIFY(q2 != probe.baseline());
        QVERIFY(std::abs(zero - probe.baseline()) > std::abs(q2 - probe.baseline()));
        QVERIFY_THROWS_EXCEPTION(Error, probe.loss(source.config().numLayers, s, W));

        // A table of this kind round-trips through JSON (the loader knows the kind).
        JobContext ctx;
        MxqCostParams p = firstLayerCosts(demo.dir, {{2, 32}, {4, 128}});
        MxqCostTable t = computeMxqCosts(p, ctx);
        t.costKind = "sensitivity";
        QTemporaryDir dir;
        QCOMPARE(reloaded(t, dir, "sens.json").costKind, std::string("sensitivity"));
    }

    void mxqProbedSelection()
    {
        // The rule by hand: the lowest loss, the first of equal ones; no candidate or a NaN throws.
        using mpq::detail::lowestLossCandidate;
        QCOMPARE(lowestLossCandidate({{"a", {}, 3.0, 2.0}, {"b", {}, 3.0, 1.5}, {"c", {}, 3.0, 1.5}}), 1);
        QCOMPARE(lowestLossCandidate({{"a", {}, 3.0, 0.5}}), 0);
        QVERIFY_THROWS_EXCEPTION(Error, lowestLossCandidate({}));
        QVERIFY_THROWS_EXCEPTION(Error, lowestLossCandidate({{"a", {}, 3.0, 1.0}, {"b", {}, 3.0, NAN}}));

        // The demo model's first layer, fixed calibration windows.
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const ModelSource source = ModelSource::open(demo.dir);
        // Eight windows: the first four shape the costs, the last four judge the plans.
        CalibrationSet calib, first, last;
        calib.windows.assign(8, std::vector<int32_t>(32));
        for (size_t i = 0; i < calib.windows.size(); ++i)
            for (size_t t = 0; t < calib.windows[i].size(); ++t)
                calib.windows[i][t] = int32_t((11 * i + 5 * t + t * t) % size_t(source.config().vocabSize));
        first.windows.assign(calib.windows.begin(), calib.windows.begin() + 4);
        last.windows.assign(calib.windows.begin() + 4, calib.windows.end());
        const std::string tokens = dir.filePath("calib.bin").toStdString();
        const std::string firstTokens = dir.filePath("first.bin").toStdString();
        saveCalibrationTokens(calib, tokens);
        saveCalibrationTokens(first, firstTokens);
        MxqCostParams p = firstLayerCosts(demo.dir);
        p.costKind = "probed";
        p.calibration.tokensFile = tokens;
        p.budgets = {MxqBudget::bitsPerParameter(3.0), MxqBudget::bitsPerParameter(3.6)};
        std::vector<std::string> stages;
        JobContext ctx;
        ctx.setProgressHandler([&](const Progress& pr) {
            if (stages.empty() || stages.back() != pr.stage)
                stages.push_back(pr.stage);
        });
        const MxqCostTable t = computeMxqCosts(p, ctx);
        QCOMPARE(t.costKind, std::string("probed"));
        QCOMPARE(stages, (std::vector<std::string>{"mxq costs", "mxq probe"}));
        // The six kinds, and the sensitivity anchored at each floor's smallest configuration.
        QCOMPARE(t.candidateCosts.size(), size_t(8));
        QVERIFY(t.candidateCosts.count("sensitivity@b3g64") && t.candidateCosts.count("sensitivity@b4g128"));
        QCOMPARE(t.selections.size(), size_t(2));
        QCOMPARE(mpq::detail::floorWidths(t.configs), (std::vector<int>{3, 4}));
        const double params = double(t.totalParameters());
        QCOMPARE(mpq::detail::budgetFloor(t, 2.0 * params), 0);  // nothing fits on every matrix
        QCOMPARE(mpq::detail::budgetFloor(t, 3.0 * params), 2);  // b2g32 (2.51 bits) only
        QCOMPARE(mpq::detail::budgetFloor(t, 3.6 * params), 3);  // b3g64 (3.25 bits)
        QCOMPARE(mpq::detail::budgetFloor(t, 4.4 * params), 4);  // b4g128 (its groups span these short rows)

        // One HQQ pass gives the candidate kinds' costs exactly as their own tables have them
        // with the cost windows.
        for (const char* kind : {"fnorm", "relative-mse", "hessian", "sensitivity"}) {
            MxqCostParams q = p;
            q.costKind = kind;
            q.budgets.clear();
            q.calibration.tokensFile = firstTokens;
            const MxqCostTable own = computeMxqCosts(q, ctx);
            for (size_t m = 0; m < own.matrices.size(); ++m)
                QCOMPARE(t.candidateCosts.at(kind)[m], own.matrices[m].cost);
        }
        for (size_t m = 0; m < t.matrices.size(); ++m)
            QCOMPARE(t.matrices[m].cost, t.candidateCosts.at("sensitivity")[m]);
        // The anchored sensitivity is what the sensitivity kind computes with only the configurations
        // from that floor up (its probe then is their smallest).
        {
            MxqCostParams q = p;
            q.costKind = "sensitivity";
            q.budgets.clear();
            q.calibration.tokensFile = firstTokens;
            q.configs = {{3, 64}, {4, 128}};
            const MxqCostTable own = computeMxqCosts(q, ctx);
            for (size_t m = 0; m < own.matrices.size(); ++m)
                for (size_t k = 0; k < 2; ++k)
                    QCOMPARE(t.candidateCosts.at("sensitivity@b3g64")[m][k + 1], own.matrices[m].cost[k]);
        }

        const mpq::detail::LossProbe probe(source, last.windows, at::kCPU, 4);
        QVERIFY(probe.baseline() != mpq::detail::LossProbe(source, first.windows, at::kCPU, 4).baseline());
        for (const MxqProbedSelection& sel : t.selections) {
            // Every kind's plan, at 3.6 bits (floor 3) every kind's plan without b2g32 as well, the
            // plan between the two configurations around the budget, and the best uniform
            // configuration that fits (b2g32 alone at 3.0 bits; at 3.6 the better of b2g32 and b3g64
            // by fnorm), the lowest loss kept.
            const bool floored = sel.budgetBitsPerParameter > 3.1;
            QCOMPARE(sel.candidates.size(), size_t(floored ? 14 : 8));
            const MxqProbedCandidate& pair = sel.candidates[sel.candidates.size() - 2];
            checkPairCandidate(t, sel, pair, floored ? std::string("b3g64") : std::string("b2g32"),
                               floored ? std::string("b4g128") : std::string("b3g64"));
            for (size_t i = 0; i + 2 < sel.candidates.size(); ++i) {
                const MxqProbedCandidate& c = sel.candidates[i];
                const std::string kind = mpq::detail::probedCandidateKinds()[i % 6];
                QCOMPARE(c.name, i < 6 ? kind : kind + ", floor 3 bits");
                if (i >= 6)
                    for (int k : c.choice)
                        QVERIFY2(t.configs[size_t(k)].bits >= 3, c.name.c_str());
            }
            if (floored) {
                // The floored fnorm plan is the fnorm program over b3g64 and b4g128 alone: no plan of
                // those within the budget has a smaller summed fnorm (here: uniform b3g64).
                double plan = 0, uniform = 0;
                for (size_t m = 0; m < t.matrices.size(); ++m) {
                    plan += t.candidateCosts.at("fnorm")[m][size_t(sel.candidates[6].choice[m])];
                    uniform += t.candidateCosts.at("fnorm")[m][1];
                }
                QVERIFY(plan <= uniform);
            }
            QCOMPARE(sel.candidates.back().name.rfind("uniform ", 0), size_t(0));
            if (sel.budgetBitsPerParameter < 3.1)
                QCOMPARE(sel.candidates.back().name, std::string("uniform b2g32"));
            QCOMPARE(sel.baselineLoss, probe.baseline());
            for (const MxqProbedCandidate& c : sel.candidates) {
                QVERIFY2(c.loss >= sel.kept().loss, c.name.c_str());
                QVERIFY(c.bitsPerParameter <= sel.budgetBitsPerParameter * (1 + 1e-12));
            }
            QCOMPARE(sel.chosen, lowestLossCandidate(sel.candidates));
            // A candidate's loss is the quantized model's, measured independently here.
            const MxqProbedCandidate& c = sel.candidates.front();
            double kl = -1;
            const double loss = probe.planLoss(
                [&](int64_t, const mpq::llama::LinearSpec& s) -> at::Tensor {
                    for (size_t m = 0; m < t.matrices.size(); ++m)
                        if (t.matrices[m].tensor == s.tensor) {
                            const MxqConfig& k = t.configs[size_t(c.choice[m])];
                            const at::Tensor W = loadTensor(source, s.tensor, at::kFloat, at::kCPU);
                            return mpq::detail::hqqQuantize(W, k.bits, k.groupSize).dequant;
                        }
                    return {};
                },
                nullptr, &kl);
            QCOMPARE(c.loss, loss);
            // Its KL from the unquantized model: the same, positive; the unquantized model's own is 0.
            QCOMPARE(c.kl, kl);
            for (const MxqProbedCandidate& other : sel.candidates)
                QVERIFY2(other.kl > 0 && std::isfinite(other.kl), other.name.c_str());
            double selfKl = -1;
            QCOMPARE(probe.planLoss([](int64_t, const mpq::llama::LinearSpec&) { return at::Tensor(); }, nullptr, &selfKl),
                     probe.baseline());
            QVERIFY(std::abs(selfKl) < 1e-9);
            // The solve at this budget is the kept plan, within the budget.
            const MxqSolution s = solveMxq(t, MxqBudget::bitsPerParameter(sel.budgetBitsPerParameter));
            QVERIFY(s.hasSolution());
            QCOMPARE(s.choice, sel.kept().choice);
            QVERIFY(s.storageBits <= s.budgetBits);
            QVERIFY(s.solver.find(sel.kept().name) != std::string::npos);
            QCOMPARE(toPlan(t, s).matrices.size(), t.matrices.size());
        }
        // Another budget is an ordinary solve of the table's own (sensitivity) costs.
        const MxqSolution other = solveMxq(t, MxqBudget::bitsPerParameter(3.3));
        QVERIFY(other.status == MxqStatus::Optimal);

        // JSON round trip: costs, selections and losses bit for bit.
        const MxqCostTable back = reloaded(t, dir, "probed.json");
        QCOMPARE(back.costKind, std::string("probed"));
        QCOMPARE(back.candidateCosts, t.candidateCosts);
        QCOMPARE(back.selections.size(), t.selections.size());
        for (size_t i = 0; i < t.selections.size(); ++i) {
            QCOMPARE(back.selections[i].budgetBits, t.selections[i].budgetBits);
            QCOMPARE(back.selections[i].baselineLoss, t.selections[i].baselineLoss);
            QCOMPARE(back.selections[i].chosen, t.selections[i].chosen);
            for (size_t k = 0; k < t.selections[i].candidates.size(); ++k) {
                QCOMPARE(back.selections[i].candidates[k].name, t.selections[i].candidates[k].name);
                QCOMPARE(back.selections[i].candidates[k].choice, t.selections[i].candidates[k].choice);
                QCOMPARE(back.selections[i].candidates[k].loss, t.selections[i].candidates[k].loss);
                QCOMPARE(back.selections[i].candidates[k].kl, t.selections[i].candidates[k].kl);
            }
        }

        // Deterministic: a second run selects the same plans with the same losses.
        const MxqCostTable again = computeMxqCosts(p, ctx);
        for (size_t i = 0; i < t.selections.size(); ++i) {
            QCOMPARE(again.selections[i].chosen, t.selections[i].chosen);
            for (size_t k = 0; k < t.selections[i].candidates.size(); ++k)
                QCOMPARE(again.selections[i].candidates[k].loss, t.selections[i].candidates[k].loss);
        }

        // A new budget on the stored table: re-solved from its costs and measured; an old one is kept.
        MxqCostTable grown = back;
        MxqCostParams more = p;
        more.budgets = {MxqBudget::bitsPerParameter(3.6), MxqBudget::bitsPerParameter(4.2)};
        probeMxqBudgets(grown, more, ctx);
        QCOMPARE(grown.selections.size(), size_t(3));
        QCOMPARE(grown.selections[1].candidates[0].loss, t.selections[1].candidates[0].loss);
        QVERIFY(grown.selectionFor(4.2 * double(grown.totalParameters())) != nullptr);
        // An infeasible budget, a table of another kind, cancellation during the probe.
        more.budgets = {MxqBudget::bitsPerParameter(2.0)};
        QVERIFY_THROWS_EXCEPTION(Error, probeMxqBudgets(grown, more, ctx));
        MxqCostTable fn = back;
        fn.costKind = "fnorm";
        more.budgets = {MxqBudget::bitsPerParameter(3.8)};
        QVERIFY_THROWS_EXCEPTION(Error, probeMxqBudgets(fn, more, ctx));
        JobContext cancelling;
        cancelling.setProgressHandler([&](const Progress& pr) {
            if (pr.stage == "mxq probe")
                cancelling.requestCancel();
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, probeMxqBudgets(grown, more, cancelling));
        QCOMPARE(grown.selections.size(), size_t(3));
    }

    // MXQ's default cost, auto: probed where calibration data is at hand and the model fits twice
    // in fp32 with its HQQ codes, else fnorm, with the reason (engine and `mpq quantize`).
    void mxqAutoCostChoosesProbedWhereItCan()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const ModelConfig c = ModelSource::open(demo.dir).config(); // a copy: the source is a temporary
        CalibrationSet calib;
        calib.windows.assign(4, std::vector<int32_t>(32));
        for (size_t i = 0; i < calib.windows.size(); ++i)
            for (size_t t = 0; t < calib.windows[i].size(); ++t)
                calib.windows[i][t] = int32_t((7 * i + 3 * t) % size_t(c.vocabSize));
        const std::string tokens = dir.filePath("calib.bin").toStdString();
        saveCalibrationTokens(calib, tokens);
        QVERIFY(QDir().mkpath(dir.filePath("empty")));

        MxqCostParams p;
        p.model = demo.dir;
        p.calibration.tokensFile = tokens;
        MxqCostChoice choice = chooseMxqCost(c, p, {});
        QCOMPARE(choice.kind, std::string("probed"));
        QVERIFY2(choice.reason.find("calib.bin") != std::string::npos, choice.reason.c_str());
        // No data: no tokens file, and the calibration set is not in the data folder.
        p.calibration.tokensFile.clear();
        p.calibration.dataDir = dir.filePath("empty").toStdString();
        choice = chooseMxqCost(c, p, {});
        QCOMPARE(choice.kind, std::string("fnorm"));
        QVERIFY2(choice.reason.find("no calibration data") != std::string::npos, choice.reason.c_str());
        // Text sampled from the model needs no data folder; a mixture needs each of its parts.
        p.calibration.source = kSelfCalibration;
        choice = chooseMxqCost(c, p, {});
        QCOMPARE(choice.kind, std::string("probed"));
        QVERIFY2(choice.reason.find("sampled from the model") != std::string::npos, choice.reason.c_str());
        p.calibration.source = "c4+self";
        choice = chooseMxqCost(c, p, {});
        QCOMPARE(choice.kind, std::string("fnorm"));
        QVERIFY2(choice.reason.find("c4+self") != std::string::npos, choice.reason.c_str());
        p.calibration.source = "c4";
        // Data, but a host limit below what probed holds (the estimate counts the file's windows).
        p.calibration.tokensFile = tokens;
        p.calibration.nsamples = 4;
        p.calibration.seqlen = 32;
        MemoryBudget tight;
        tight.hostBytes = probedMxqBytes(c, p) - 1;
        choice = chooseMxqCost(c, p, tight);
        QCOMPARE(choice.kind, std::string("fnorm"));
        QVERIFY2(choice.reason.find("--max-host-memory") != std::string::npos, choice.reason.c_str());
        tight.hostBytes = probedMxqBytes(c, p);
        QCOMPARE(chooseMxqCost(c, p, tight).kind, std::string("probed"));
        // The estimate grows with the configurations and the windows.
        MxqCostParams fewer = p;
        fewer.configs = {{4, 128}};
        QVERIFY(probedMxqBytes(c, fewer) < probedMxqBytes(c, p));
        MxqCostParams more = p;
        more.calibration.nsamples = 64; // without a tokens file, 64 + 64 windows
        p.calibration.nsamples = 8;
        more.calibration.tokensFile = p.calibration.tokensFile = "";
        QVERIFY(probedMxqBytes(c, more) > probedMxqBytes(c, p));
        // The 70B shape never fits one GPU this way: auto is fnorm there.
        ModelConfig big = c;
        big.numLayers = 80;
        big.hiddenSize = 8192;
        big.intermediateSize = 28672;
        big.vocabSize = 128256;
        QVERIFY(probedMxqBytes(big, p) > (int64_t(200) << 30));

        // `mpq quantize` without --cost: probed with --calib-tokens, recorded with its reason;
        // --cost fnorm as asked; no data: fnorm, and why.
        const auto quantize = [&](const QStringList& extra, const QString& dataDir) {
            QProcess q;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("MPQ_THREADS", "1");
            env.insert("MPQ_DATA_DIR", dataDir);
            q.setProcessEnvironment(env);
            static int n = 0;
            q.start(QStringLiteral(MPQ_CLI_PATH), QStringList{"quantize", QString::fromStdString(demo.dir), "--method",
                                                              "mxq", "--budget", "3.6", "--configs", "2,4x32,128",
                                                              "--out", dir.filePath(QString("run%1").arg(n++)), "--json"} +
                                                      extra);
            if (!q.waitForStarted(10000) || !q.waitForFinished(300000))
                return QJsonObject{};
            const QString err = QString::fromUtf8(q.readAllStandardError());
            if (q.exitCode() != 0)
                qWarning("%s", qPrintable(err.right(2000)));
            return QJsonDocument::fromJson(q.readAllStandardOutput()).object()["solver"].toObject();
        };
        const QString data = dir.filePath("empty");
        QJsonObject solver = quantize({"--calib-tokens", QString::fromStdString(tokens)}, data);
        QCOMPARE(solver["cost_kind"].toString(), QString("probed"));
        QVERIFY2(solver["cost_choice"].toString().startsWith("auto: probed"),
                 qPrintable(solver["cost_choice"].toString()));
        QVERIFY(solver["solver"].toString().contains("calibration loss"));
        solver = quantize({"--calib-tokens", QString::fromStdString(tokens), "--cost", "fnorm"}, data);
        QCOMPARE(solver["cost_kind"].toString(), QString("fnorm"));
        QVERIFY(!solver.contains("cost_choice"));
        solver = quantize({}, data);
        QCOMPARE(solver["cost_kind"].toString(), QString("fnorm"));
        QVERIFY2(solver["cost_choice"].toString().contains("no calibration data"),
                 qPrintable(solver["cost_choice"].toString()));
    }

    void settingsRoundTrip()
    {
        QuantizeParams p;
        p.mgptq.restarts = 3;
        p.mgptq.polish = true;
        p.mgptq.greedyCandidate = true;
        p.mgptq.relaxedRounding = false;
        const QuantizeParams q = quantizeParamsFromJson(quantizeParamsToJson(p), "test");
        QCOMPARE(q.mgptq.restarts, 3);
        QVERIFY(q.mgptq.polish);
        QVERIFY(q.mgptq.greedyCandidate);
        QVERIFY(!q.mgptq.relaxedRounding);
        p.mgptq.relaxedRounding = true;
        QVERIFY(quantizeParamsFromJson(quantizeParamsToJson(p), "test").mgptq.relaxedRounding);
        // Settings stored before the options existed resume as they ran: no polish, one restart.
        const QuantizeParams old = quantizeParamsFromJson(R"({"mgptq": {"epochs": 10}})", "old");
        QCOMPARE(old.mgptq.restarts, 1);
        QVERIFY(!old.mgptq.polish);
        QVERIFY(!old.mgptq.greedyCandidate);
        QVERIFY(!old.mgptq.relaxedRounding);
        QVERIFY(MgptqOptions().polish); // while new runs polish and round stably by default
        QVERIFY(MgptqOptions().relaxedRounding);
    }

    void seedStatisticsAndLists()
    {
        const SeedStatistics s = seedStatistics({1, 2, 3, 4});
        QCOMPARE(s.count, int64_t(4));
        QCOMPARE(s.mean, 2.5);
        QVERIFY(std::abs(s.sd - std::sqrt(5.0 / 3.0)) < 1e-12);
        QVERIFY(std::abs(s.relativeSd - std::sqrt(5.0 / 3.0) / 2.5) < 1e-12);
        QCOMPARE(s.min, 1.0);
        QCOMPARE(s.max, 4.0);
        QCOMPARE(seedStatistics({7}).sd, 0.0);
        QVERIFY_THROWS_EXCEPTION(Error, seedStatistics({}));
        QVERIFY_THROWS_EXCEPTION(Error, seedStatistics({1, NAN}));
        QCOMPARE(parseSeedList("0-4"), (std::vector<uint64_t>{0, 1, 2, 3, 4}));
        QCOMPARE(parseSeedList("3,0-1,9"), (std::vector<uint64_t>{3, 0, 1, 9}));
        for (const char* bad : {"", "1,1", "0-2,2", "4-1", "a", "-1", "1,,2", "1.5"})
            QVERIFY_THROWS_EXCEPTION(Error, parseSeedList(bad));
        // The engine names the setting, not the CLI's option (mpq adds "--seeds").
        try {
            parseSeedList("4-1");
            QFAIL("a descending range was accepted");
        } catch (const SettingError& e) {
            QCOMPARE(e.settings(), std::vector<std::string>{"seeds"});
            QVERIFY2(std::string(e.what()).find("--") == std::string::npos, e.what());
        }
        QCOMPARE(QString::fromStdString(formatSeedStatistics(s, 2)), QString("2.50 ± 1.29 (51.64%)"));
    }

    void sweepSeedsReportsMeanAndSd()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MPQ_THREADS", "1");
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(MPQ_CLI_PATH),
                {"sweep", "--demo", "--method", "mgptq", "--gnn", "mlp", "--target-bits", "2.5", "--epochs", "20",
                 "--nsamples", "4", "--seeds", "0-2", "--out", dir.filePath("sw"), "--json"});
        QVERIFY(p.waitForStarted(10000) && p.waitForFinished(300000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(err.right(2000)));
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(j["seeds"].toArray().size(), 3);
        const QJsonObject point = j["points"].toArray().at(0).toObject();
        const QJsonArray runs = point["seeds"].toArray();
        QCOMPARE(runs.size(), 3);
        const QString ds = point["perplexity"].toObject().keys().at(0);
        std::vector<double> values;
        for (int i = 0; i < runs.size(); ++i) {
            const QJsonObject run = runs.at(i).toObject();
            QCOMPARE(run["seed"].toInt(), i);
            QVERIFY(QFileInfo::exists(run["result"].toString()));
            values.push_back(run["perplexity"].toObject()[ds].toDouble());
            const QJsonArray windows = run["window_mean_nll"].toObject()[ds].toArray(); // for paired comparisons
            QVERIFY(!windows.isEmpty());
            for (const QJsonValue& w : windows)
                QVERIFY(w.isDouble() && std::isfinite(w.toDouble()) && w.toDouble() > 0);
        }
        const SeedStatistics s = seedStatistics(values);
        QCOMPARE(point["perplexity"].toObject()[ds].toDouble(), s.mean);
        QCOMPARE(point["perplexity_sd"].toObject()[ds].toDouble(), s.sd);
        QCOMPARE(point["perplexity_min"].toObject()[ds].toDouble(), s.min);
        QCOMPARE(point["perplexity_max"].toObject()[ds].toDouble(), s.max);

        // Bad input: a clear one-line error and exit status 2.
        for (const QStringList& bad : {QStringList{"--seeds", "0,0"}, QStringList{"--seeds", "0-1", "--alloc-seed", "3"},
                                       QStringList{"--seeds", "0-1", "--gnn", "hessian-greedy"}}) {
            QProcess q;
            q.setProcessEnvironment(env);
            q.start(QStringLiteral(MPQ_CLI_PATH), QStringList{"sweep", "--demo", "--method", "mgptq", "--target-bits",
                                                              "2.5", "--out", dir.filePath("bad")} + bad);
            QVERIFY(q.waitForStarted(10000) && q.waitForFinished(60000));
            QCOMPARE(q.exitCode(), 2);
            QVERIFY(QString::fromUtf8(q.readAllStandardError()).contains("seed"));
        }
    }

    // `mpq sweep --session` stores each point's evaluation with the whole result (EvalResult::toJson),
    // as `mpq eval` and the GUI do.
    void sweptEvaluationRecordHasResultJson()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const QString file = dir.filePath("s.h5");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MPQ_THREADS", "1");
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(MPQ_CLI_PATH), {"sweep", "--demo", "--method", "rtn", "--bits", "3,4", "--session", file,
                                               "--name", "sw", "--json"});
        QVERIFY(p.waitForStarted(10000) && p.waitForFinished(300000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 qPrintable(QString::fromUtf8(p.readAllStandardError()).right(2000)));
        const auto evals = session::Session::open(file.toStdString()).evaluations();
        QCOMPARE(int(evals.size()), 2);
        for (const session::Evaluation& e : evals) {
            QVERIFY(e.run == "sw-00" || e.run == "sw-01");
            const QJsonObject r = QJsonDocument::fromJson(QByteArray::fromStdString(e.resultJson)).object();
            QVERIFY2(!r.isEmpty(), e.resultJson.c_str());
            QCOMPARE(r["perplexity"].toDouble(), e.perplexity);
            QCOMPARE(r["tokens"].toInteger(), e.tokens);
            QCOMPARE(r["protocol"].toString().toStdString(), e.protocol);
            QVERIFY(r["seconds"].toObject().contains("total"));
        }
    }
};

QTEST_GUILESS_MAIN(TestSeeds)
#include "tst_seeds.moc"
