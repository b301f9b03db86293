// GptqTrace (issue 19, teaching mode): the step-by-step record reproduces gptqQuantize exactly,
// its steps are what the playback says they are, and on a session's matrix it reproduces the
// stored GPTQ run.
#include "TestData.h"

#include "core/Error.h"
#include "demo/SyntheticModel.h"
#include "pipeline/QuantizeJob.h"
#include "runs/detail/QuantizedRun.h"
#include "quant/GptqTrace.h"
#include "quant/detail/Gptq.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace mpq;

namespace {

std::vector<float> vec(const at::Tensor& t)
{
    const at::Tensor c = t.to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

/// A random matrix and a Hessian from correlated inputs.
std::pair<at::Tensor, at::Tensor> problem(int64_t rows, int64_t cols, uint64_t seed)
{
    auto g = at::detail::createCPUGenerator(seed);
    const at::Tensor W = at::randn({rows, cols}, g);
    const at::Tensor mix = at::randn({cols, cols}, g) * 0.3 + at::eye(cols);
    const at::Tensor X = at::matmul(at::randn({4 * cols, cols}, g), mix);
    const at::Tensor H = at::matmul(X.t(), X) * (2.0 / double(X.size(0)));
    return {W, H};
}

} // namespace

class TestGptqTrace : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reproducesGptq_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("block");
        for (int b : {2, 3, 4})
            for (int block : {8, 16, 40, 128})
                QTest::newRow(qPrintable(QStringLiteral("%1 bits, block %2").arg(b).arg(block))) << b << block;
    }
    void reproducesGptq()
    {
        QFETCH(int, bits);
        QFETCH(int, block);
        const int64_t rows = 24, cols = 40;
        const auto [W, H] = problem(rows, cols, 11);
        GptqTraceOptions o;
        o.bits = bits;
        o.blockSize = block;
        const GptqTrace t = traceGptq(vec(W), rows, cols, vec(H), o);
        mpq::detail::GptqOptions g;
        g.blockSize = block;
        g.dampPercent = o.dampPercent;
        const mpq::detail::QuantizedWeight q = mpq::detail::gptqQuantize(W, H, at::full({cols}, bits, at::kInt), g);
        QCOMPARE(t.quantized, vec(q.dequant)); // bit for bit
        const double loss = q.columnLoss.sum().item<double>();
        QVERIFY(std::abs(t.totalLoss - loss) <= 1e-4 * loss);
        QVERIFY(t.gptqOutputError < t.rtnOutputError); // GPTQ beats RTN on the same grid

        // The steps: every column in order, one lazy update after each block but the last.
        const int64_t blocks = (cols + block - 1) / block;
        QCOMPARE(int64_t(t.steps.size()), cols + blocks - 1);
        int64_t next = 0;
        std::vector<float> previous = t.original;
        for (const GptqTraceStep& s : t.steps) {
            QCOMPARE(int64_t(s.weights.size()), rows * cols);
            for (size_t k = 0; k < s.weights.size(); ++k)
                QCOMPARE(s.change[k], s.weights[k] - t.original[k]);
            if (s.kind == GptqTraceStep::Kind::Column) {
                QCOMPARE(s.column, next++);
                QCOMPARE(s.blockStart, (s.column / block) * block);
                // The quantized column holds its final Q; columns past the block are untouched.
                for (int64_t r = 0; r < rows; ++r) {
                    QCOMPARE(s.weights[size_t(r * cols + s.column)], t.quantized[size_t(r * cols + s.column)]);
                    for (int64_t c = s.blockEnd; c < cols; ++c)
                        QCOMPARE(s.weights[size_t(r * cols + c)], previous[size_t(r * cols + c)]);
                }
            } else {
                QCOMPARE(s.blockEnd, next);
                // The lazy update changes only the columns after the block.
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t c = 0; c < s.blockEnd; ++c)
                        QCOMPARE(s.weights[size_t(r * cols + c)], previous[size_t(r * cols + c)]);
                QVERIFY(s.maxUpdate > 0);
            }
            previous = s.weights;
        }
        QCOMPARE(next, cols);
        QCOMPARE(t.steps.back().weights, t.quantized);
    }

    void reproducesAStoredRun()
    {
        QTemporaryDir dir;
        const std::string model = mpq::test::writeTinySyntheticModel(dir.filePath(QStringLiteral("model"))).toStdString();
        QuantizeParams p;
        p.model = model;
        p.calibTokens = syntheticCalibrationFile(model);
        p.session = dir.filePath(QStringLiteral("s.h5")).toStdString();
        p.runName = "g3";
        p.bits = 3;
        p.blockSize = 16;
        JobContext ctx;
        quantizeModel(p, ctx);
        const auto run = mpq::detail::openQuantizedRun(p.session + "#g3");
        for (int64_t layer : {0, 1})
            for (const auto& [tensor, q] : run->layer(layer)) {
                GptqTraceOptions o;
                o.bits = 3;
                o.blockSize = 16;
                const GptqTrace t = traceGptqFromSession(p.session, "g3", tensor, o);
                QCOMPARE(t.tensor, tensor);
                QVERIFY2(t.quantized == vec(q.dequant), tensor.c_str());
            }
    }

    void refusesWhatItCannotPlay()
    {
        const auto [W, H] = problem(8, 8, 3);
        GptqTraceOptions o;
        o.maxCells = 32;
        QVERIFY(QString::fromStdString([&] {
                    try {
                        traceGptq(vec(W), 8, 8, vec(H), o);
                    } catch (const Error& e) {
                        return std::string(e.what());
                    }
                    return std::string();
                }()).contains(QStringLiteral("too large to play back")));
        o = {};
        o.bits = 9;
        QVERIFY_THROWS_EXCEPTION(Error, traceGptq(vec(W), 8, 8, vec(H), o));
        QVERIFY_THROWS_EXCEPTION(Error, traceGptq(vec(W), 8, 9, vec(H), {}));
    }
};

QTEST_GUILESS_MAIN(TestGptqTrace)
#include "tst_gptqtrace.moc"
