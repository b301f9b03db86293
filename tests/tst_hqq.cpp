// HQQ (engine/quant/Hqq.cpp) against an independent min-max round-to-nearest quantizer written
// here: on Gaussian and heavy-tailed matrices HQQ's ‖W − Ŵ‖_F must be no larger at every MXQ
// configuration. Then the representation's promises: codes in range, dequantize() == dequant,
// scales and zeros that are exactly 8-bit meta-quantized values, determinism, a remainder group,
// one group per row, and argument checks.

#include "TestData.h"

#include "core/Device.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/Hqq.h"

#include <ATen/ATen.h>

#include <QtTest>

#include <cmath>
#include <set>
#include <vector>

namespace {

using mpq::HqqOptions;
using mpq::HqqStats;
using mpq::detail::hqqQuantize;
using mpq::detail::metaQuantize;
using mpq::detail::QuantizedWeight;

/// 8-bit min-max round trip of a [rows, slots] tensor in groups of 128 consecutive values of its
/// row-major order (how MXQ stores scales and zeros), written independently of the engine's.
at::Tensor meta8(const at::Tensor& t)
{
    const at::Tensor flat = t.reshape({-1});
    at::Tensor out = at::empty_like(flat);
    for (int64_t i = 0; i < flat.numel(); i += 128) {
        const at::Tensor v = flat.slice(0, i, std::min(flat.numel(), i + 128));
        const double lo = v.min().item<double>(), hi = v.max().item<double>();
        const double step = hi > lo ? (hi - lo) / 255.0 : 1.0;
        out.slice(0, i, i + v.numel()).copy_(((v - lo) / step).round() * step + lo);
    }
    return out.view(t.sizes());
}

/// Plain asymmetric min-max RTN, one grid per `g` consecutive columns of a row:
/// s = (max − min)/(2^b − 1), z = round(−min/s), q = clamp(round(w/s) + z), ŵ = s·(q − z).
/// With `meta`, s and z are stored as MXQ stores them (meta8) and the codes use the stored values.
at::Tensor rtnMinMax(const at::Tensor& W, int bits, int64_t g, bool meta = false)
{
    const int64_t rows = W.size(0), cols = W.size(1), slots = (cols + g - 1) / g;
    const double maxq = std::ldexp(1.0, bits) - 1.0;
    at::Tensor s = at::empty({rows, slots}), z = at::empty({rows, slots});
    for (int64_t k = 0; k < slots; ++k) {
        const at::Tensor x = W.slice(1, k * g, std::min(cols, (k + 1) * g));
        const at::Tensor lo = std::get<0>(x.min(1));
        const at::Tensor hi = std::get<0>(x.max(1));
        const at::Tensor sk = (hi - lo) / maxq;
        s.select(1, k).copy_(at::where(sk > 0, sk, at::ones_like(sk)));
        z.select(1, k).copy_((-lo / s.select(1, k)).round());
    }
    if (meta) {
        s = meta8(s);
        z = meta8(z);
    }
    at::Tensor out = at::empty_like(W);
    for (int64_t k = 0; k < slots; ++k) {
        const at::Tensor x = W.slice(1, k * g, std::min(cols, (k + 1) * g));
        const at::Tensor sk = s.select(1, k).unsqueeze(1), zk = z.select(1, k).unsqueeze(1);
        const at::Tensor q = (x / sk + zk).round().clamp(0.0, maxq);
        out.slice(1, k * g, std::min(cols, (k + 1) * g)).copy_(sk * (q - zk));
    }
    return out;
}

double fnorm(const at::Tensor& a, const at::Tensor& b)
{
    return (a - b).pow(2).sum(at::kDouble).sqrt().item<double>();
}

at::Tensor gaussian(int64_t rows, int64_t cols, uint64_t seed)
{
    at::Generator gen = at::globalContext().defaultGenerator(at::kCPU);
    {
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_current_seed(seed);
    }
    return at::randn({rows, cols}, gen) * 0.02;
}

/// Student-t with 3 degrees of freedom (normal / sqrt(χ²₃/3)) and 0.1 % planted outliers (×25).
at::Tensor heavyTailed(int64_t rows, int64_t cols, uint64_t seed)
{
    at::Generator gen = at::globalContext().defaultGenerator(at::kCPU);
    {
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_current_seed(seed);
    }
    const at::Tensor n = at::randn({rows, cols}, gen);
    const at::Tensor chi2 = at::randn({3, rows, cols}, gen).pow(2).sum(0);
    at::Tensor t = n / (chi2 / 3.0).sqrt() * 0.01;
    const at::Tensor mask = at::rand({rows, cols}, gen) < 0.001;
    return at::where(mask, t * 25.0, t);
}

const std::vector<int> kBits = {2, 3, 4, 8};
const std::vector<int64_t> kGroups = {32, 64, 128};

} // namespace

class TestHqq : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { mpq::configureThreads(1); } // tiny tensors: threads only contend

    void noWorseThanRtn_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("bits");
        QTest::addColumn<qlonglong>("group");
        for (const char* kind : {"gaussian", "heavy-tailed"})
            for (int b : kBits)
                for (int64_t g : kGroups)
                    QTest::newRow(qPrintable(QString("%1 b%2g%3").arg(kind).arg(b).arg(g)))
                        << QString(kind) << b << qlonglong(g);
    }

    /// HQQ against min-max RTN at equal storage: both with fp32 scales and zeros (strictly no
    /// worse), and both with MXQ's 8-bit meta-quantized ones. HQQ minimises an ℓ0.7 error and
    /// stops on the ℓ1 error, not on ‖·‖_F: with 8-bit scales on the heavy-tailed matrix at b2g128
    /// it comes out 0.04 % above RTN, so that one comparison allows 0.1 %. (HQQ with 8-bit scales
    /// against RTN with fp32 ones is printed; docs/mxq.md lists the figures.)
    void noWorseThanRtn()
    {
        QFETCH(QString, kind);
        QFETCH(int, bits);
        QFETCH(qlonglong, group);
        const at::Tensor W = kind == "gaussian" ? gaussian(192, 512, 11) : heavyTailed(192, 512, 12);
        HqqOptions fp;
        fp.metaBits = 0;
        HqqStats st;
        const double hqqFp = fnorm(W, hqqQuantize(W, bits, group, fp, &st).dequant);
        const double rtnFp = fnorm(W, rtnMinMax(W, bits, group));
        QVERIFY2(hqqFp <= rtnFp, qPrintable(QString("fp32 scales: HQQ %1 > RTN %2").arg(hqqFp).arg(rtnFp)));
        QVERIFY(st.iterations <= HqqOptions().iterations);
        QVERIFY(st.finalError <= st.initialError);

        const double hqq = fnorm(W, hqqQuantize(W, bits, group, {}, &st).dequant);
        const double rtn = fnorm(W, rtnMinMax(W, bits, group, true));
        const double slack = kind == "heavy-tailed" ? 1.001 : 1.0;
        QVERIFY2(hqq <= rtn * slack, qPrintable(QString("8-bit scales: HQQ %1 > RTN %2").arg(hqq).arg(rtn)));
        QVERIFY(st.finalError <= st.initialError);
        qInfo("%-12s b%dg%-3lld ‖W−Ŵ‖_F  fp32 meta: HQQ %.5g RTN %.5g (%+.2f %%)  8-bit meta: HQQ %.5g "
              "RTN %.5g (%+.2f %%)  HQQ 8-bit vs RTN fp32 %+.2f %%  updates %d (best %d)",
              qPrintable(kind), bits, group, hqqFp, rtnFp, 100.0 * (hqqFp / rtnFp - 1), hqq, rtn,
              100.0 * (hqq / rtn - 1), 100.0 * (hqq / rtnFp - 1), st.iterations, st.bestIteration);
    }

    /// The same comparison on real weights: q, o, up and down of the first and last decoder layer
    /// (both matrix shapes, attention and MLP), every configuration; of the embedded demo model
    /// (every clone) and of mpq-llama-42m (shared data).
    void noWorseThanRtnOnRealWeights_data()
    {
        QTest::addColumn<QString>("modelName");
        QTest::newRow("demo") << "demo";
        QTest::newRow("mpq-llama-42m") << "mpq-llama-42m";
    }

    void noWorseThanRtnOnRealWeights()
    {
        QFETCH(QString, modelName);
        std::string path;
        if (modelName == QLatin1String("demo")) {
            MPQ_DEMO_MODEL(demo);
            path = demo.dir;
        } else {
            MPQ_DATA_PATH(dir, "models/mpq-llama-42m");
            path = dir;
        }
        const mpq::ModelSource source = mpq::ModelSource::open(path);
        const int64_t last = source.config().numLayers - 1;
        double worstFp = -1, worstMeta = -1, worstMixed = -1;
        for (int64_t layer : {int64_t(0), last})
            for (mpq::llama::Role l : {mpq::llama::Role::Q, mpq::llama::Role::O,
                                       mpq::llama::Role::Up, mpq::llama::Role::Down}) {
                const std::string name = mpq::llama::denseLinearTensor(layer, l);
                const at::Tensor W = mpq::detail::loadTensor(source, name, at::kFloat, at::kCPU);
                for (int b : kBits)
                    for (int64_t g : kGroups) {
                        HqqOptions fp;
                        fp.metaBits = 0;
                        const double hqqFp = fnorm(W, hqqQuantize(W, b, g, fp).dequant);
                        const double rtnFp = fnorm(W, rtnMinMax(W, b, g));
                        const double hqq = fnorm(W, hqqQuantize(W, b, g).dequant);
                        const double rtn = fnorm(W, rtnMinMax(W, b, g, true));
                        const QString where = QString("%1 b%2g%3").arg(name.c_str()).arg(b).arg(g);
                        QVERIFY2(hqqFp <= rtnFp, qPrintable(where + QString(" fp32: %1 > %2").arg(hqqFp).arg(rtnFp)));
                        QVERIFY2(hqq <= rtn, qPrintable(where + QString(" 8-bit: %1 > %2").arg(hqq).arg(rtn)));
                        worstFp = std::max(worstFp, hqqFp / rtnFp - 1);
                        worstMeta = std::max(worstMeta, hqq / rtn - 1);
                        worstMixed = std::max(worstMixed, hqq / rtnFp - 1);
                    }
            }
        qInfo("%s q/o/up/down of layers 0 and %lld, 12 configurations: HQQ/RTN − 1 at worst %+.2f %% (fp32 "
              "scales), %+.2f %% (8-bit scales both), %+.2f %% (HQQ 8-bit vs RTN fp32)",
              qPrintable(modelName), (long long)last, 100 * worstFp, 100 * worstMeta, 100 * worstMixed);
    }

    void codesAndSlots()
    {
        const at::Tensor W = heavyTailed(64, 256, 3);
        for (int b : {1, 2, 3, 4, 5, 8}) {
            const QuantizedWeight q = hqqQuantize(W, b, 64);
            QCOMPARE(q.codes.scalar_type(), at::kByte);
            QCOMPARE(q.codes.sizes().vec(), W.sizes().vec());
            QVERIFY(q.codes.max().item<int>() <= (1 << b) - 1);
            QCOMPARE(q.scales.sizes().vec(), (std::vector<int64_t>{64, 4}));
            QCOMPARE(q.zeros.sizes().vec(), (std::vector<int64_t>{64, 4}));
            QCOMPARE(int64_t(q.slotBits.size()), int64_t(4));
            QCOMPARE(q.slotBits[0], b);
            QCOMPARE(q.groupSize, int64_t(64));
            QVERIFY(at::equal(q.slotOfColumn.to(at::kLong), at::div(at::arange(256, at::kLong), 64, "floor")));
            QVERIFY((q.scales > 0).all().item<bool>());
            QCOMPARE(q.codeBits(), double(b));
        }
    }

    void dequantizeIsExact()
    {
        const at::Tensor W = gaussian(96, 320, 5);
        for (int b : kBits)
            for (int64_t g : kGroups) {
                const QuantizedWeight q = hqqQuantize(W, b, g);
                QVERIFY2(at::equal(q.dequantize(), q.dequant), qPrintable(QString("b%1g%2").arg(b).arg(g)));
            }
    }

    /// The stored scales and zeros are 8-bit meta-quantized: in each group of 128 consecutive
    /// values (row-major) at most 256 distinct values, all on the group's grid; quantizing them
    /// again changes nothing.
    void metaQuantizedScalesAndZeros()
    {
        const at::Tensor W = heavyTailed(256, 512, 8);
        const QuantizedWeight q = hqqQuantize(W, 3, 32); // 256 × 16 slots = 32 meta groups
        for (const at::Tensor& t : {q.scales, q.zeros}) {
            QVERIFY(at::allclose(metaQuantize(t, 8, 128), t, 1e-6, 1e-7));
            const at::Tensor groups = t.reshape({-1, 128});
            for (int64_t i = 0; i < groups.size(0); ++i) {
                const at::Tensor v = groups[i];
                const double lo = v.min().item<double>(), hi = v.max().item<double>();
                const at::Tensor k = (v - lo) / ((hi - lo) / 255.0);
                QVERIFY((k - k.round()).abs().max().item<double>() < 1e-3);
                QVERIFY(std::get<0>(at::_unique(v)).numel() <= 256);
            }
        }
        // Without meta-quantization the scales are free floats and no group is on a grid.
        HqqOptions fp;
        fp.metaBits = 0;
        const QuantizedWeight f = hqqQuantize(W, 3, 32, fp);
        QVERIFY(!at::allclose(metaQuantize(f.scales, 8, 128), f.scales, 1e-6, 1e-9));
    }

    void metaQuantizeRoundTrip()
    {
        const at::Tensor x = gaussian(1, 1000, 21).abs() + 0.001; // 8 groups of 128, last of 104
        const at::Tensor r = metaQuantize(x, 8, 128);
        QCOMPARE(r.sizes().vec(), x.sizes().vec());
        const at::Tensor xp = at::cat({x.reshape({-1}), x.reshape({-1}).slice(0, 999).expand({24})}).view({8, 128});
        const at::Tensor rp = at::cat({r.reshape({-1}), r.reshape({-1}).slice(0, 999).expand({24})}).view({8, 128});
        const at::Tensor step = (xp.amax(1) - xp.amin(1)) / 255.0;
        // error at most half a step; extremes kept
        QVERIFY(((rp - xp).abs().amax(1) <= step * 0.5 + 1e-9).all().item<bool>());
        QVERIFY(at::allclose(rp.amin(1), xp.amin(1), 0, 1e-9));
        QVERIFY(at::allclose(rp.amax(1), xp.amax(1), 1e-6, 1e-9));
        // a constant group comes back unchanged
        const at::Tensor c = at::full({300}, 0.125);
        QVERIFY(at::equal(metaQuantize(c, 8, 128), c));
    }

    void deterministic()
    {
        const at::Tensor W = heavyTailed(128, 384, 4);
        const QuantizedWeight a = hqqQuantize(W, 3, 64);
        const QuantizedWeight b = hqqQuantize(W, 3, 64);
        QVERIFY(at::equal(a.codes, b.codes));
        QVERIFY(at::equal(a.scales, b.scales));
        QVERIFY(at::equal(a.zeros, b.zeros));
    }

    /// 172 columns (stories260K's down_proj) in groups of 64: two full groups and one of 44.
    void remainderGroup()
    {
        const at::Tensor W = heavyTailed(64, 172, 6);
        for (int b : kBits) {
            const QuantizedWeight q = hqqQuantize(W, b, 64);
            QCOMPARE(q.scales.size(1), int64_t(3));
            QCOMPARE(q.slotOfColumn[171].item<int>(), 2);
            QCOMPARE(q.slotOfColumn[128].item<int>(), 2);
            QCOMPARE(q.slotOfColumn[127].item<int>(), 1);
            QVERIFY(at::equal(q.dequantize(), q.dequant));
            QVERIFY2(fnorm(W, q.dequant) <= fnorm(W, rtnMinMax(W, b, 64, true)), qPrintable(QString("b%1").arg(b)));
        }
    }

    void oneGroupPerRow()
    {
        const at::Tensor W = gaussian(32, 200, 7);
        const QuantizedWeight q = hqqQuantize(W, 4, -1);
        QCOMPARE(q.scales.size(1), int64_t(1));
        QCOMPARE(q.groupSize, int64_t(-1));
        QVERIFY(fnorm(W, q.dequant) <= fnorm(W, rtnMinMax(W, 4, 200, true)));
    }

    void degenerateGroups()
    {
        at::Tensor W = gaussian(8, 128, 9);
        W.slice(0, 0, 1).zero_();                   // an all-zero row
        W.slice(0, 1, 2).slice(1, 0, 32).fill_(0.03); // a constant group
        W.slice(0, 2, 3).slice(1, 32, 64).fill_(-0.05);
        const QuantizedWeight q = hqqQuantize(W, 2, 32);
        QVERIFY(q.dequant.isfinite().all().item<bool>());
        QVERIFY(q.dequant[0].abs().max().item<double>() < 1e-12);
        QVERIFY((q.dequant[1].slice(0, 0, 32) - 0.03).abs().max().item<double>() < 1e-3);
        QVERIFY((q.dequant[2].slice(0, 32, 64) + 0.05).abs().max().item<double>() < 1e-3);
    }

    void halfInputIsQuantizedInFp32()
    {
        const at::Tensor W = gaussian(32, 128, 10);
        const QuantizedWeight a = hqqQuantize(W.to(at::kHalf), 4, 32);
        const QuantizedWeight b = hqqQuantize(W.to(at::kHalf).to(at::kFloat), 4, 32);
        QCOMPARE(a.dequant.scalar_type(), at::kFloat);
        QVERIFY(at::equal(a.codes, b.codes));
    }

    void rejectsBadArguments()
    {
        const at::Tensor W = gaussian(8, 64, 1);
        QVERIFY_THROWS_EXCEPTION(c10::Error, hqqQuantize(W, 0, 32));
        QVERIFY_THROWS_EXCEPTION(c10::Error, hqqQuantize(W, 9, 32));
        QVERIFY_THROWS_EXCEPTION(c10::Error, hqqQuantize(W, 4, 0));
        QVERIFY_THROWS_EXCEPTION(c10::Error, hqqQuantize(W.view({-1}), 4, 32));
    }

    void cudaMatchesCpu()
    {
        if (!mpq::cudaAvailable())
            QSKIP("no CUDA GPU (or a CPU-only LibTorch): HQQ on CUDA is not compared with the CPU");
        const at::Tensor W = heavyTailed(256, 1024, 13);
        for (int b : kBits) {
            const QuantizedWeight c = hqqQuantize(W, b, 64);
            const QuantizedWeight g = hqqQuantize(W.to(at::kCUDA), b, 64);
            const double ec = fnorm(W, c.dequant), eg = fnorm(W, g.dequant.cpu());
            QVERIFY2(std::abs(ec - eg) <= 1e-3 * ec, qPrintable(QString("b%1: %2 vs %3").arg(b).arg(ec).arg(eg)));
        }
    }
};

QTEST_GUILESS_MAIN(TestHqq)
#include "tst_hqq.moc"
