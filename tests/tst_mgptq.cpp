// MG-PTQ: the Hessian graph, the GCN, Gumbel-Softmax, training modes, the target repair, the
// Hessian-greedy baseline and the plan applied with GPTQ.
#include "alloc/mgptq/HessianGreedy.h"
#include "alloc/mgptq/Mgptq.h"
#include "alloc/mgptq/detail/MgptqGraph.h"
#include "alloc/mgptq/detail/MgptqModel.h"
#include "alloc/mgptq/detail/MgptqTrain.h"
#include "core/Error.h"
#include "core/JobContext.h"
#include "pipeline/QuantizeParamsJson.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/Grid.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include "MgptqFixtures.h"

#include <QtTest>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

using namespace mpq;
using namespace mpq::detail;

namespace {

at::Generator gen(uint64_t seed)
{
    return at::detail::createCPUGenerator(seed);
}

using mpq::test::mgptqHessian;
using mpq::test::mgptqWeight;

MgptqOptions fast()
{
    MgptqOptions o;
    o.epochs = 120;
    o.learningRate = 2e-2;
    o.hiddenDim = 16;
    o.featureDim = 8;
    return o;
}

double average(const std::vector<uint8_t>& bits)
{
    return averageColumnBits(bits);
}

} // namespace

class TestMgptq : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void gcnForwardOnHandGraph()
    {
        // Path 0–1–2: Â = D^-½(A + I)D^-½ with degrees 2, 3, 2.
        const at::Tensor A = at::tensor({0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 0.f}).view({3, 3});
        const HessianGraph g = normalizedGraph(A);
        QVERIFY(g.dense);
        const double s6 = 1.0 / std::sqrt(6.0);
        const double expectA[3][3] = {{0.5, s6, 0}, {s6, 1.0 / 3, s6}, {0, s6, 0.5}};
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                QVERIFY(std::abs(g.adjacency[i][j].item<double>() - expectA[i][j]) < 1e-6);

        GcnLayer layer(GcnLayerOptions(2, 1).bias(false));
        {
            torch::NoGradGuard ng;
            layer->linear->weight.copy_(at::tensor({1.f, 2.f}).view({1, 2}));
        }
        const at::Tensor X = at::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 1.f}).view({3, 2}); // XW = [1, 2, 3]
        const at::Tensor out = layer->forward(X, &g);
        const double expect[3] = {0.5 + 2 * s6, 4 * s6 + 2.0 / 3, 2 * s6 + 1.5};
        for (int i = 0; i < 3; ++i)
            QVERIFY2(std::abs(out[i][0].item<double>() - expect[i]) < 1e-5, qPrintable(QString::number(i)));
        // Without a graph: a plain linear layer (the MLP ablation).
        QVERIFY(at::allclose(layer->forward(X, nullptr).squeeze(1), at::tensor({1.f, 2.f, 3.f})));
    }

    void topKEqualsDenseOnSparseGraph()
    {
        // A ring: every row has two neighbours, so top-2 keeps the whole graph.
        const int64_t n = 7;
        at::Tensor A = at::zeros({n, n});
        for (int64_t i = 0; i < n; ++i) {
            A[i][(i + 1) % n] = 1.0 + 0.1 * double(i);
            A[(i + 1) % n][i] = 1.0 + 0.1 * double(i);
        }
        const HessianGraph dense = normalizedGraph(A);
        const HessianGraph sparse = normalizedGraph(A, 2);
        QVERIFY(!sparse.dense);
        const at::Tensor X = at::randn({n, 3}, gen(1));
        QVERIFY(at::allclose(dense.propagate(X), sparse.propagate(X), 1e-5, 1e-6));
    }

    void couplingIsGptqFactor()
    {
        const at::Tensor H = mgptqHessian(12, 64, 3);
        const at::Tensor A = hessianCoupling(H, 0.01);
        QVERIFY(at::allclose(A, A.t()));
        QCOMPARE(A.diagonal().abs().sum().item<double>(), 0.0);
        // Against GPTQ's factor computed directly.
        const at::Tensor Hd = H + 0.01 * H.diagonal().mean() * at::eye(12);
        const at::Tensor U = at::linalg_cholesky(at::inverse(Hd), true);
        QVERIFY(std::abs(A[2][5].item<double>() - std::abs(U[2][5].item<double>() / U[2][2].item<double>())) < 1e-3);
    }

    void gumbelSoftmaxGradientByFiniteDifferences()
    {
        auto g = gen(7);
        const at::Tensor logits0 = at::randn({4, 3}, g).to(at::kDouble);
        const at::Tensor noise = sampleGumbel({4, 3}, g).to(at::kDouble);
        const at::Tensor c = at::randn({4, 3}, g).to(at::kDouble);
        const double tau = 0.7;
        at::Tensor logits = logits0.clone().set_requires_grad(true);
        (gumbelSoftmax(logits, noise, tau, false) * c).sum().backward();
        const at::Tensor grad = logits.grad().clone();
        const double h = 1e-6;
        torch::NoGradGuard ng;
        for (int64_t i = 0; i < 4; ++i)
            for (int64_t k = 0; k < 3; ++k) {
                at::Tensor p = logits0.clone(), m = logits0.clone();
                p[i][k] += h;
                m[i][k] -= h;
                const double fd = ((gumbelSoftmax(p, noise, tau, false) * c).sum().item<double>() -
                                   (gumbelSoftmax(m, noise, tau, false) * c).sum().item<double>()) /
                                  (2 * h);
                QVERIFY2(std::abs(fd - grad[i][k].item<double>()) < 1e-7,
                         qPrintable(QString("%1 vs %2").arg(fd).arg(grad[i][k].item<double>())));
            }
        // Straight-through: one-hot forward, the soft gradient backward.
        torch::AutoGradMode on(true);
        at::Tensor l2 = logits0.clone().set_requires_grad(true);
        const at::Tensor hard = gumbelSoftmax(l2, noise, tau, true);
        QVERIFY(at::allclose(hard.sum(1), at::ones({4}, at::kDouble)));
        QCOMPARE(hard.max().item<double>(), 1.0);
        (hard * c).sum().backward();
        QVERIFY(at::allclose(l2.grad(), grad, 1e-12, 1e-12));
    }

    void alphaZeroPicksHighest()
    {
        const at::Tensor W = mgptqWeight(48, 64, 11), H = mgptqHessian(64, 256, 12);
        MgptqOptions o = fast();
        o.alpha = 0.0;
        const MgptqResult r = allocateMgptq(W, H, o, {}, true);
        for (uint8_t b : r.columnBits)
            QCOMPARE(int(b), 4);
        QCOMPARE(r.curve.size(), size_t(o.epochs));
        QCOMPARE(r.graphKind, std::string("dense"));
    }

    void largeAlphaPicksLowest()
    {
        const at::Tensor W = mgptqWeight(48, 64, 11), H = mgptqHessian(64, 256, 12);
        for (bool graph : {true, false}) {
            MgptqOptions o = fast();
            o.alpha = 1e3;
            const MgptqResult r = allocateMgptq(W, H, o, {}, graph);
            for (uint8_t b : r.columnBits)
                QCOMPARE(int(b), 2);
        }
    }

    void targetModeHitsTarget()
    {
        const at::Tensor W = mgptqWeight(64, 128, 21), H = mgptqHessian(128, 512, 22);
        for (double target : {2.25, 2.5, 3.0}) {
            MgptqOptions o = fast();
            o.targetBits = target;
            const MgptqResult r = allocateMgptq(W, H, o, {}, true);
            QVERIFY2(std::abs(r.codeBits - target) <= 0.02,
                     qPrintable(QString("target %1 got %2 (argmax %3)").arg(target).arg(r.codeBits).arg(r.argmaxBits)));
            QVERIFY(r.bitsWithOverhead > r.codeBits);
            QVERIFY(r.predictedCost > 0);
        }
    }

    void sameSeedSameResult()
    {
        const at::Tensor W = mgptqWeight(32, 64, 31), H = mgptqHessian(64, 256, 32);
        MgptqOptions o = fast();
        o.alpha = 0.05;
        o.epochs = 40;
        const MgptqResult a = allocateMgptq(W, H, o, {}, true);
        const MgptqResult b = allocateMgptq(W, H, o, {}, true);
        QVERIFY(a.columnBits == b.columnBits);
        for (size_t e = 0; e < a.curve.size(); ++e)
            QCOMPARE(a.curve[e].loss, b.curve[e].loss);
        o.seed = 1;
        const MgptqResult c = allocateMgptq(W, H, o, {}, true);
        QVERIFY(c.curve.back().loss != a.curve.back().loss);
    }

    void skipFeaturesFeedTheHead()
    {
        // The skip connection widens the head's input by the node features and keeps the
        // allocator deterministic and within its target.
        MgptqNet plain(MgptqNetOptions(10, 8, 3));
        MgptqNet skip(MgptqNetOptions(10, 8, 3).skip(true));
        QCOMPARE(plain->fc1->weight.size(1), int64_t(8));
        QCOMPARE(skip->fc1->weight.size(1), int64_t(18));
        const at::Tensor W = mgptqWeight(64, 128, 41), H = mgptqHessian(128, 512, 42);
        MgptqOptions o = fast();
        o.targetBits = 2.5;
        o.skipFeatures = true;
        const MgptqResult a = allocateMgptq(W, H, o, {}, true);
        const MgptqResult b = allocateMgptq(W, H, o, {}, true);
        QVERIFY(a.columnBits == b.columnBits);
        QVERIFY(std::abs(a.codeBits - 2.5) <= 0.02);
    }

    void skipFeaturesDefaultAndOldFiles()
    {
        // The skip connection is the default; params written before the key existed were
        // trained without it and must read back that way, so that a resumed run matches.
        QVERIFY(MgptqOptions{}.skipFeatures);
        QuantizeParams p;
        p.mgptq.skipFeatures = false;
        std::string text = quantizeParamsToJson(p);
        QVERIFY(!quantizeParamsFromJson(text, "test").mgptq.skipFeatures);
        p.mgptq.skipFeatures = true;
        text = quantizeParamsToJson(p);
        QVERIFY(quantizeParamsFromJson(text, "test").mgptq.skipFeatures);
        const std::string key = "\"skip_features\":true,";
        const size_t at = text.find(key);
        QVERIFY2(at != std::string::npos, text.c_str());
        text.erase(at, key.size());
        QVERIFY(!quantizeParamsFromJson(text, "test").mgptq.skipFeatures);
    }

    void overheadCountsSlots()
    {
        // One row grid per bit-width present: (16 + 2) + (16 + 4) bits per row over 4 columns.
        const std::vector<uint8_t> bits = {2, 4, 4, 2};
        QCOMPARE(columnBitsWithOverhead(bits, -1, false), 3.0 + 38.0 / 4);
        QCOMPARE(columnBitsWithOverhead(bits, 2, true), 3.0 + 64.0 / 4);
    }

    void hessianGreedyHitsTarget()
    {
        std::vector<double> score(200);
        for (size_t j = 0; j < score.size(); ++j)
            score[j] = double((j * 37) % 200);
        for (double target : {2.25, 2.5, 3.0, 3.33}) {
            const auto bits = hessianGreedyBits(score, {2, 3, 4}, target);
            QVERIFY(std::abs(average(bits) - target) <= 0.02);
        }
        // The highest score gets the highest candidate.
        const auto bits = hessianGreedyBits(score, {4, 2, 3}, 2.5);
        QCOMPARE(int(bits[size_t(std::max_element(score.begin(), score.end()) - score.begin())]), 4);
        QVERIFY_EXCEPTION_THROWN(hessianGreedyBits(score, {2, 3}, 3.5), mpq::Error);
    }

    void repairMovesCheapestFirst()
    {
        std::vector<int> choice = {2, 2, 2};
        const std::vector<std::vector<double>> err = {{9, 5, 1}, {3, 2, 1.5}, {9, 4, 1}};
        QCOMPARE(repairToTarget(choice, err, {2, 3, 4}, 3.0), int64_t(3));
        // Column 1 loses least per bit (0.5, then 1), then column 2 (3) before column 0 (4).
        QCOMPARE(choice, (std::vector<int>{2, 0, 1}));
    }

    void planBeatsUniformFloorWithGptq()
    {
        const int64_t rows = 64, cols = 128;
        const at::Tensor W = mgptqWeight(rows, cols, 41), H = mgptqHessian(cols, 512, 42);
        MgptqOptions o = fast();
        o.targetBits = 2.5;
        GptqOptions gopt;
        const MgptqResult r = allocateMgptq(W, H, o, {}, true);
        const at::Tensor bits = at::tensor(std::vector<int>(r.columnBits.begin(), r.columnBits.end()));
        const double mixed = outputError(W, gptqQuantize(W, H, bits, gopt).dequant, H);
        const double floor2 = outputError(W, gptqQuantize(W, H, at::full({cols}, 2, at::kInt), gopt).dequant, H);
        const auto greedyBits = hessianGreedyBits(hessianGreedyScores(W, H), {2, 3, 4}, 2.5);
        const double greedy = outputError(
            W, gptqQuantize(W, H, at::tensor(std::vector<int>(greedyBits.begin(), greedyBits.end())), gopt).dequant, H);
        qInfo("GPTQ output error at 2.5 bits: MG-PTQ %.4g, Hessian-greedy %.4g; uniform 2 bits %.4g", mixed, greedy,
              floor2);
        QVERIFY(mixed < floor2);
    }

    void allocatorsFromParams()
    {
        MgptqOptions o = fast();
        o.targetBits = 2.5;
        const at::Tensor W = mgptqWeight(16, 64, 51), H = mgptqHessian(64, 128, 52);
        MatrixPlan base;
        base.rows = 16;
        base.cols = 64;
        JobContext ctx;
        MgptqAllocator gcn(o, true, false);
        const MatrixPlan m = gcn.allocate(base, W, H, ctx);
        QCOMPARE(m.columnBits.size(), size_t(64));
        QVERIFY(m.diagnostics.find("\"curves\"") != std::string::npos);
        QVERIFY(m.diagnostics.find("\"cuda_graph\":false") != std::string::npos); // CPU: eager steps
        QVERIFY(m.diagnostics.find("cuda_graph_failure") == std::string::npos);    // … and no capture tried
        QVERIFY(m.storageBits > 0);
        HessianGreedyAllocator greedy(o, false);
        const MatrixPlan g = greedy.allocate(base, W, H, ctx);
        QVERIFY(std::abs(g.averageBits() - 2.5) <= 0.02);
        MgptqOptions none = fast();
        QVERIFY_EXCEPTION_THROWN(MgptqAllocator(none, true, false), mpq::Error);
        QVERIFY_EXCEPTION_THROWN(HessianGreedyAllocator(none, false), mpq::Error);
        ctx.requestCancel();
        QVERIFY_EXCEPTION_THROWN(gcn.allocate(base, W, H, ctx), mpq::Cancelled);
    }

    void timings()
    {
        if (qEnvironmentVariableIsEmpty("MPQ_MGPTQ_BENCH"))
            QSKIP("set MPQ_MGPTQ_BENCH=1 for per-matrix timings (default options, 200 epochs)");
        for (int64_t cols : {512, 1408}) {
            const at::Tensor W = mgptqWeight(cols == 512 ? 512 : 512, cols, 61), H = mgptqHessian(cols, 2 * cols, 62);
            MgptqOptions o;
            o.targetBits = 2.5;
            const MgptqResult r = allocateMgptq(W, H, o, {}, true);
            qInfo("%lld columns: total %.2f s (graph %.2f, precompute %.2f, train %.2f), %.3f bits", (long long)cols,
                  r.totalSeconds, r.graphSeconds, r.precomputeSeconds, r.trainSeconds, r.codeBits);
        }
    }
};

QTEST_GUILESS_MAIN(TestMgptq)
#include "tst_mgptq.moc"
