// GPTQ, RTN and the min-max grid against literal transcriptions of the reference algorithm.
#include "core/Device.h"
#include "core/JobContext.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/GptqFactor.h"
#include "quant/detail/Grid.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QtTest>

using namespace mpq;
using namespace mpq::detail;

namespace {

at::Generator gen(uint64_t seed)
{
    return at::detail::createCPUGenerator(seed);
}

/// Correlated inputs, as activations are: X = Z·A with a random mixing matrix.
at::Tensor hessianFor(int64_t cols, int64_t tokens, uint64_t seed)
{
    auto g = gen(seed);
    const at::Tensor A = at::randn({cols, cols}, g) / std::sqrt(double(cols)) + at::eye(cols);
    const at::Tensor X = at::matmul(at::randn({tokens, cols}, g), A) * (1 + at::rand({cols}, g) * 3);
    return at::matmul(X.t(), X) * (2.0 / double(tokens));
}

struct RefResult {
    at::Tensor codes, dequant;
};

/// IST-DASLab gptq.py fasterquant(), transcribed column by column (uniform bits).
RefResult referenceGptq(at::Tensor W, at::Tensor H, int bits, int64_t g, bool actOrder, bool staticGroups,
                        int64_t blocksize, bool sym)
{
    W = W.clone();
    H = H.clone();
    const int64_t cols = W.size(1);
    const at::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1);
    W.masked_fill_(dead.unsqueeze(0), 0);
    Grid grid = fitGrid(W, bits, sym);
    std::vector<Grid> groups;
    if (g > 0 && staticGroups)
        for (int64_t i = 0; i < cols; i += g)
            groups.push_back(fitGrid(W.slice(1, i, i + g), bits, sym));
    at::Tensor perm;
    if (actOrder) {
        perm = at::argsort(H.diagonal(), 0, true);
        W = W.index_select(1, perm);
        H = H.index_select(0, perm).index_select(1, perm);
    }
    const double damp = 0.01 * H.diagonal().mean().item<double>();
    H = H + damp * at::eye(cols);
    const at::Tensor Hinv = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(H)), true);
    at::Tensor Q = at::zeros_like(W), C = at::zeros_like(W);
    for (int64_t i1 = 0; i1 < cols; i1 += blocksize) {
        const int64_t i2 = std::min(i1 + blocksize, cols), count = i2 - i1;
        at::Tensor W1 = W.slice(1, i1, i2).clone();
        at::Tensor Err1 = at::zeros_like(W1);
        const at::Tensor Hinv1 = Hinv.slice(0, i1, i2).slice(1, i1, i2);
        for (int64_t i = 0; i < count; ++i) {
            const at::Tensor w = W1.select(1, i).unsqueeze(1);
            const double d = Hinv1[i][i].item<double>();
            if (g > 0) {
                if (!staticGroups) {
                    if ((i1 + i) % g == 0)
                        grid = fitGrid(W.slice(1, i1 + i, i1 + i + g), bits, sym);
                } else {
                    int64_t idx = i1 + i;
                    if (actOrder)
                        idx = perm[idx].item<int64_t>();
                    grid = groups[size_t(idx / g)];
                }
            }
            const at::Tensor c = quantizeToCodes(w, grid);
            const at::Tensor q = dequantizeCodes(c, grid);
            C.select(1, i1 + i).copy_(c.squeeze(1));
            Q.select(1, i1 + i).copy_(q.squeeze(1));
            const at::Tensor err1 = (w - q) / d;
            W1.slice(1, i).sub_(at::matmul(err1, Hinv1.select(0, i).slice(0, i).unsqueeze(0)));
            Err1.select(1, i).copy_(err1.squeeze(1));
        }
        W.slice(1, i2).sub_(at::matmul(Err1, Hinv.slice(0, i1, i2).slice(1, i2)));
    }
    if (actOrder) {
        const at::Tensor inv = at::argsort(perm);
        Q = Q.index_select(1, inv);
        C = C.index_select(1, inv);
    }
    return {C, Q};
}

} // namespace

class TestGptq : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void gridRoundTrip_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<bool>("sym");
        for (int b : {1, 2, 3, 4, 8})
            for (bool s : {false, true})
                QTest::newRow(qPrintable(QString("%1-bit %2").arg(b).arg(s ? "sym" : "asym"))) << b << s;
    }
    void gridRoundTrip()
    {
        QFETCH(int, bits);
        QFETCH(bool, sym);
        auto g = gen(7);
        const at::Tensor W = at::randn({48, 96}, g);
        const Grid grid = fitGrid(W, bits, sym);
        const at::Tensor codes = quantizeToCodes(W, grid);
        QVERIFY(codes.min().item<float>() >= 0);
        QVERIFY(codes.max().item<float>() <= float((1 << bits) - 1));
        QVERIFY(at::equal(codes, at::round(codes)));
        const at::Tensor err = (dequantizeCodes(codes, grid) - W).abs();
        // Inside the grid's range every value is within half a step of its code.
        const at::Tensor bound = grid.scale.expand_as(W) * 0.5 + 1e-6;
        if (!sym || bits > 1)
            QVERIFY(at::le(err, bound).all().item<bool>());
    }

    void rtnHonoursPerColumnBits()
    {
        auto g = gen(3);
        const at::Tensor W = at::randn({32, 100}, g);
        const at::Tensor bits = at::randint(2, 5, {100}, g, at::TensorOptions().dtype(at::kInt));
        const QuantizedWeight q = rtnQuantize(W, bits, {25, false});
        for (int64_t j = 0; j < 100; ++j) {
            const int b = bits[j].item<int>();
            QCOMPARE(q.slotBits[size_t(q.slotOfColumn[j].item<int>())], b);
            QVERIFY(q.codes.select(1, j).max().item<int>() < (1 << b));
        }
        QVERIFY(at::allclose(q.dequant, q.dequantize()));
        QCOMPARE(q.codeBits(), bits.to(at::kDouble).mean().item<double>());
    }

    void gptqMatchesReference_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("group");
        QTest::addColumn<bool>("actOrder");
        QTest::addColumn<bool>("staticGroups");
        QTest::addColumn<bool>("sym");
        QTest::newRow("4-bit per-channel") << 4 << -1 << false << false << false;
        QTest::newRow("3-bit per-channel act-order") << 3 << -1 << true << false << false;
        QTest::newRow("2-bit g32") << 2 << 32 << false << false << false;
        QTest::newRow("3-bit g32 act-order") << 3 << 32 << true << false << false;
        QTest::newRow("3-bit g32 act-order static") << 3 << 32 << true << true << false;
        QTest::newRow("4-bit g64 sym") << 4 << 64 << false << false << true;
        QTest::newRow("4-bit g128") << 4 << 128 << false << false << false;
    }
    void gptqMatchesReference()
    {
        QFETCH(int, bits);
        QFETCH(int, group);
        QFETCH(bool, actOrder);
        QFETCH(bool, staticGroups);
        QFETCH(bool, sym);
        auto g = gen(11);
        const int64_t cols = 256;
        const at::Tensor W = at::randn({40, cols}, g);
        const at::Tensor H = hessianFor(cols, 2048, 5);
        GptqOptions opt;
        opt.actOrder = actOrder;
        opt.staticGroups = staticGroups;
        opt.grid = {group, sym};
        const QuantizedWeight q = gptqQuantize(W, H, at::full({cols}, bits, at::kInt), opt);
        // The reference fits a dynamic group on the weights as they are when the group starts;
        // with blocks as long as the groups that is the fully compensated weight, as here.
        const int64_t refBlock = (group > 0 && !staticGroups) ? std::min<int64_t>(128, group) : 128;
        const RefResult ref = referenceGptq(W, H, bits, group, actOrder, staticGroups, refBlock, sym);
        const int64_t mismatches = (q.codes.to(at::kFloat) != ref.codes).sum().item<int64_t>();
        // Floating-point summation order differs (block kernel vs per-column ops), so a code that
        // sits on a rounding boundary may flip; anything beyond a handful is a real difference.
        QVERIFY2(mismatches <= W.numel() / 1000,
                 qPrintable(QString("%1 of %2 codes differ").arg(mismatches).arg(W.numel())));
        QVERIFY(at::allclose(q.dequant, q.dequantize(), 1e-5, 1e-6));
        QVERIFY(q.codes.max().item<int>() < (1 << bits));
    }

    void gptqBeatsRtnOnTheSameGrid_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("group");
        QTest::addColumn<bool>("actOrder");
        for (int b : {2, 3, 4})
            for (int gs : {-1, 32})
                for (bool ao : {false, true})
                    QTest::newRow(qPrintable(QString("%1-bit g%2%3").arg(b).arg(gs).arg(ao ? " act" : "")))
                        << b << gs << ao;
    }
    void gptqBeatsRtnOnTheSameGrid()
    {
        QFETCH(int, bits);
        QFETCH(int, group);
        QFETCH(bool, actOrder);
        auto g = gen(100 + uint64_t(bits));
        const int64_t cols = 192;
        const at::Tensor W = at::randn({64, cols}, g);
        const at::Tensor H = hessianFor(cols, 1024, 9);
        const at::Tensor b = at::full({cols}, bits, at::kInt);
        GptqOptions opt;
        opt.actOrder = actOrder;
        opt.grid = {group, false};
        const double eG = outputError(W, gptqQuantize(W, H, b, opt).dequant, H);
        const double eR = outputError(W, rtnQuantize(W, b, opt.grid).dequant, H);
        QVERIFY2(eG <= eR, qPrintable(QString("GPTQ %1 > RTN %2").arg(eG).arg(eR)));
    }

    void gptqPerColumnBits()
    {
        auto g = gen(21);
        const int64_t cols = 160;
        const at::Tensor W = at::randn({24, cols}, g);
        const at::Tensor H = hessianFor(cols, 1024, 2);
        const at::Tensor bits = at::randint(2, 5, {cols}, g, at::TensorOptions().dtype(at::kInt));
        for (bool actOrder : {false, true})
            for (int64_t group : {int64_t(-1), int64_t(32)}) {
                GptqOptions opt;
                opt.actOrder = actOrder;
                opt.grid = {group, false};
                const QuantizedWeight q = gptqQuantize(W, H, bits, opt);
                for (int64_t j = 0; j < cols; ++j) {
                    const int bj = bits[j].item<int>();
                    QCOMPARE(q.slotBits[size_t(q.slotOfColumn[j].item<int>())], bj);
                    QVERIFY(q.codes.select(1, j).max().item<int>() < (1 << bj));
                }
                QVERIFY(at::allclose(q.dequant, q.dequantize(), 1e-5, 1e-6));
                QCOMPARE(q.codeBits(), bits.to(at::kDouble).mean().item<double>());
                // Mixed bits cost more than the lowest and less than the highest uniform width.
                const double e = outputError(W, q.dequant, H);
                const double e2 = outputError(W, gptqQuantize(W, H, at::full({cols}, 2, at::kInt), opt).dequant, H);
                const double e4 = outputError(W, gptqQuantize(W, H, at::full({cols}, 4, at::kInt), opt).dequant, H);
                QVERIFY(e4 < e && e < e2);
            }
    }

    void actOrderGroupsAreConsistent()
    {
        auto g = gen(5);
        const int64_t cols = 128;
        const at::Tensor W = at::randn({16, cols}, g);
        const at::Tensor H = hessianFor(cols, 512, 4);
        GptqOptions opt;
        opt.actOrder = true;
        opt.grid = {32, false};
        const QuantizedWeight q = gptqQuantize(W, H, at::full({cols}, 3, at::kInt), opt);
        QCOMPARE(q.permutation.numel(), cols);
        QCOMPARE(int64_t(q.slotBits.size()), cols / 32);
        // Dynamic groups are consecutive in processing (act) order.
        for (int64_t k = 0; k < cols; ++k)
            QCOMPARE(q.slotOfColumn[q.permutation[k].item<int64_t>()].item<int>(), int(k / 32));
        // Static groups are consecutive in the original order.
        opt.staticGroups = true;
        const QuantizedWeight s = gptqQuantize(W, H, at::full({cols}, 3, at::kInt), opt);
        for (int64_t j = 0; j < cols; ++j)
            QCOMPARE(s.slotOfColumn[j].item<int>(), int(j / 32));
    }

    /// GPTQ's Hinv by the reversed factorisation (CUDA's) equals the reference scripts' (the
    /// CPU's): both are the unique upper Cholesky factor U of Hd⁻¹ = Uᵀ U.
    void inverseCholeskyMethodsAgree()
    {
        for (const int64_t cols : {1, 7, 96}) {
            at::Tensor Hd = hessianFor(cols, 4 * cols + 8, 11 + uint64_t(cols));
            Hd = Hd + 0.01 * Hd.diagonal().mean().item<double>() * at::eye(cols);
            const at::Tensor a = gptqHinv(Hd, HinvMethod::CholeskyInverse);
            const at::Tensor b = gptqHinv(Hd, HinvMethod::Reversed);
            QVERIFY(a.defined() && b.defined());
            QCOMPARE(b.sizes(), a.sizes());
            QVERIFY(at::equal(b, b.triu())); // upper triangular
            QVERIFY((b.diagonal() > 0).all().item<bool>());
            const double scale = a.abs().max().item<double>();
            QVERIFY2((a - b).abs().max().item<double>() <= 1e-4 * scale, qPrintable(QString::number(cols)));
            const at::Tensor inv = at::matmul(b.t(), b); // = Hd⁻¹
            const double err = (at::matmul(inv, Hd) - at::eye(cols)).abs().max().item<double>();
            QVERIFY2(err < 1e-3, qPrintable(QString::number(err)));
        }
        // Not positive definite: both say so (undefined), so that the caller raises the damping.
        at::Tensor bad = at::eye(4);
        bad[3][3] = -1.0;
        QVERIFY(!gptqHinv(bad, HinvMethod::CholeskyInverse).defined());
        QVERIFY(!gptqHinv(bad, HinvMethod::Reversed).defined());
    }

    /// GPTQ on CUDA (reversed factorisation, TF32-free fp32 blocks) against the CPU on the same
    /// W and H: the same codes but for rounding ties, dequantized weights within a small error.
    void cudaMatchesCpu()
    {
        if (!mpq::cudaAvailable())
            QSKIP("no CUDA device here (the GPU machine runs this case)");
        auto g = gen(5);
        const int64_t rows = 64, cols = 256;
        const at::Tensor W = at::randn({rows, cols}, g) * 0.02;
        const at::Tensor H = hessianFor(cols, 4 * cols, 6);
        const at::Tensor bits = at::full({cols}, 3, at::kInt);
        const QuantizedWeight cpu = gptqQuantize(W, H, bits, {});
        const QuantizedWeight gpu = gptqQuantize(W.to(at::kCUDA), H.to(at::kCUDA), bits, {});
        const double same = cpu.codes.eq(gpu.codes.cpu()).to(at::kFloat).mean().item<double>();
        const double err = (cpu.dequant - gpu.dequant.cpu()).abs().max().item<double>();
        const double step = cpu.scales.abs().max().item<double>();
        qInfo("CPU vs CUDA: %.4f%% of codes equal, max |dequant difference| %.3g (largest step %.3g)",
              100 * same, err, step);
        QVERIFY2(same >= 0.99, qPrintable(QString::number(same)));
        QVERIFY(err <= step + 1e-6); // a flipped code moves a weight by one step at most
    }

    void deadInputsAndDampingRetry()
    {
        auto g = gen(8);
        const int64_t cols = 64;
        const at::Tensor W = at::randn({8, cols}, g);
        at::Tensor H = hessianFor(cols, 512, 1);
        H.select(0, 5).zero_();
        H.select(1, 5).zero_();
        const QuantizedWeight q = gptqQuantize(W, H, at::full({cols}, 4, at::kInt), {});
        QVERIFY(q.dequant.select(1, 5).abs().max().item<float>() == 0.0f);

        // An indefinite H: the damping is raised (with a warning) until Cholesky succeeds.
        at::Tensor bad = at::eye(cols);
        bad[cols - 1][cols - 1] = -0.5;
        JobContext ctx;
        const QuantizedWeight r = gptqQuantize(W, bad, at::full({cols}, 4, at::kInt), {}, &ctx);
        QVERIFY(!ctx.warnings().empty());
        QVERIFY(r.damping > 0.5);
        QVERIFY(at::isfinite(r.dequant).all().item<bool>());
    }
};

QTEST_GUILESS_MAIN(TestGptq)
#include "tst_gptq.moc"
