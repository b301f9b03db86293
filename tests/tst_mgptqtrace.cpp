// MgptqTrace (issue 19, teaching mode): MG-PTQ's training replayed on a session's matrix ends in
// the run's own allocation and stored softmax; its frames are what the playback shows.
#include "TestData.h"

#include "alloc/mgptq/MgptqTrace.h"
#include "core/Error.h"
#include "demo/SyntheticModel.h"
#include "pipeline/QuantizeJob.h"
#include "session/Session.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace mpq;

class TestMgptqTrace : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_session;

private Q_SLOTS:
    void initTestCase()
    {
        const std::string model = mpq::test::writeTinySyntheticModel(m_dir.filePath(QStringLiteral("model"))).toStdString();
        m_session = m_dir.filePath(QStringLiteral("s.h5")).toStdString();
        QuantizeParams p;
        p.model = model;
        p.calibTokens = syntheticCalibrationFile(model);
        p.session = m_session;
        p.runName = "mg";
        p.allocator = "mgptq-gcn";
        p.mgptq.targetBits = 3.0;
        p.mgptq.epochs = 30;
        JobContext ctx;
        quantizeModel(p, ctx);
        p.allocator.clear();
        p.runName = "g";
        quantizeModel(p, ctx);
    }

    void endsInTheRunsAllocation()
    {
        const session::Session s = session::Session::open(m_session);
        for (const auto& m : s.matrices("mg")) {
            const MgptqTrace t = traceMgptqFromSession(m_session, "mg", m.tensor, 10);
            const session::MatrixDetail d = s.matrix("mg", m.tensor);
            QVERIFY2(t.columnBits == d.columnBits, m.tensor.c_str());
            // The last frame's softmax is the one the run stored (4 decimals).
            const auto diag = nlohmann::json::parse(d.diagnosticsJson);
            const std::vector<double> stored = diag["softmax"]["p"].get<std::vector<double>>();
            const auto& last = t.frames.back().probabilities;
            QCOMPARE(last.size(), stored.size());
            for (size_t k = 0; k < stored.size(); ++k)
                QVERIFY(std::abs(double(last[k]) - stored[k]) <= 0.6e-4);
        }
    }

    void framesShowTauFallingAndSamplesSharpening()
    {
        const MgptqTrace t = traceMgptqFromSession(m_session, "mg", "model.layers.1.mlp.down_proj.weight", 10);
        QCOMPARE(t.widths, (std::vector<int>{2, 3, 4}));
        QCOMPARE(t.epochs, 30);
        QCOMPARE(t.knob, std::string("target 3 bits"));
        QCOMPARE(int(t.frames.size()), 11); // every 3rd epoch of 30, and the last
        QCOMPARE(t.frames.front().epoch, 0);
        QCOMPARE(t.frames.back().epoch, 29);
        const size_t K = t.widths.size();
        auto sharpness = [&](const std::vector<float>& y) { // mean of each column's largest entry
            double s = 0;
            for (int64_t j = 0; j < t.cols; ++j)
                s += *std::max_element(y.begin() + long(size_t(j) * K), y.begin() + long(size_t(j + 1) * K));
            return s / double(t.cols);
        };
        for (size_t f = 0; f < t.frames.size(); ++f) {
            const auto& fr = t.frames[f];
            QCOMPARE(int64_t(fr.probabilities.size()), t.cols * int64_t(K));
            for (int64_t j = 0; j < t.cols; ++j) {
                double p = 0, y = 0;
                for (size_t c = 0; c < K; ++c) {
                    p += fr.probabilities[size_t(j) * K + c];
                    y += fr.sample[size_t(j) * K + c];
                }
                QVERIFY(std::abs(p - 1) < 1e-5 && std::abs(y - 1) < 1e-5);
            }
            QVERIFY(fr.expectedBits >= 2 && fr.expectedBits <= 4);
            if (f > 0) {
                QVERIFY(fr.epoch > t.frames[f - 1].epoch);
                QVERIFY(fr.tau < t.frames[f - 1].tau);
            }
            QVERIFY(fr.loss > 0);
        }
        QVERIFY(sharpness(t.frames.back().sample) > sharpness(t.frames.front().sample) + 0.1);
        QVERIFY(sharpness(t.frames.back().sample) > 0.9); // nearly one-hot at the last τ
    }

    void refusesOtherRuns()
    {
        try {
            traceMgptqFromSession(m_session, "g", "model.layers.0.mlp.up_proj.weight");
            QFAIL("a GPTQ run was played back");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("MG-PTQ runs only") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestMgptqTrace)
#include "tst_mgptqtrace.moc"
