// ColumnExplain (issue 19, "Explain"): what the engine says about one column of a stored run,
// checked against independent computations from the stored arrays and the base weights.
#include "TestData.h"

#include "alloc/mgptq/HessianGreedy.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/Error.h"
#include "demo/SyntheticModel.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeJob.h"
#include "session/ColumnExplain.h"
#include "session/Session.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <numeric>

using namespace mpq;

namespace {

/// Per-channel asymmetric min-max RTN of one column written out by hand (GPTQ's Quantizer):
/// the squared error of column j when every column is at `bits`.
double handColumnError(const at::Tensor& W, int64_t j, int bits)
{
    const at::Tensor Wd = W.to(at::kDouble);
    const at::Tensor lo = at::clamp_max(std::get<0>(Wd.min(1)), 0.0);
    const at::Tensor hi = at::clamp_min(std::get<0>(Wd.max(1)), 0.0);
    const double maxq = std::pow(2.0, bits) - 1;
    double err = 0;
    for (int64_t r = 0; r < W.size(0); ++r) {
        double a = lo[r].item<double>(), b = hi[r].item<double>();
        if (a == 0 && b == 0) {
            a = -1;
            b = 1;
        }
        const double scale = (b - a) / maxq;
        const double zero = std::round(-a / scale);
        const double x = Wd[r][j].item<double>();
        const double q = std::clamp(std::round(x / scale) + zero, 0.0, maxq);
        const double xh = scale * (q - zero);
        err += (x - xh) * (x - xh);
    }
    return err;
}

} // namespace

class TestExplain : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_model, m_session;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_model = mpq::test::writeTinySyntheticModel(m_dir.filePath(QStringLiteral("model"))).toStdString();
        m_session = m_dir.filePath(QStringLiteral("s.h5")).toStdString();
        QuantizeParams p;
        p.model = m_model;
        p.calibTokens = syntheticCalibrationFile(m_model);
        p.session = m_session;
        p.runName = "mg";
        p.allocator = "mgptq-gcn";
        p.mgptq.targetBits = 3.0;
        p.mgptq.epochs = 20;
        JobContext ctx;
        quantizeModel(p, ctx);
        p.allocator.clear();
        p.runName = "g4";
        p.bits = 4;
        quantizeModel(p, ctx);
    }

    void explainsAnMgptqColumn()
    {
        const std::string tensor = "model.layers.1.mlp.down_proj.weight";
        const session::Session s = session::Session::open(m_session);
        const session::MatrixDetail d = s.matrix("mg", tensor);
        const int64_t n = d.summary.cols;
        QCOMPARE(n, int64_t(64));
        QCOMPARE(int64_t(d.hessian.size()), n * n); // the full H is stored at this size
        for (int64_t j : {int64_t(0), int64_t(17), n - 1}) {
            const auto e = session::explainColumn(m_session, "mg", tensor, j);
            QCOMPARE(e.bits, int(d.columnBits[size_t(j)]));
            QCOMPARE(e.layer, int64_t(1));
            QCOMPARE(e.linear, std::string("down_proj"));
            QVERIFY(e.hasHessian);
            QCOMPARE(e.hessianDiagonal, double(d.hessianDiagonal[size_t(j)]));
            int64_t rank = 1;
            for (float h : d.hessianDiagonal)
                rank += double(h) > e.hessianDiagonal;
            QCOMPARE(e.hessianRank, rank);

            // Neighbours: |H_ij|/sqrt(H_ii H_jj), strongest first, the top 8 of all.
            QCOMPARE(int(e.neighbours.size()), 8);
            std::vector<double> all;
            for (int64_t i = 0; i < n; ++i)
                if (i != j)
                    all.push_back(std::abs(double(d.hessian[size_t(j * n + i)])) /
                                  std::sqrt(double(d.hessian[size_t(i * n + i)]) * double(d.hessian[size_t(j * n + j)])));
            std::sort(all.rbegin(), all.rend());
            for (size_t k = 0; k < e.neighbours.size(); ++k) {
                QVERIFY(std::abs(e.neighbours[k].weight - all[k]) < 1e-9);
                QCOMPARE(e.neighbours[k].bits, int(d.columnBits[size_t(e.neighbours[k].column)]));
                QVERIFY(e.neighbours[k].column != j);
            }

            // The allocator's softmax: one probability per candidate, summing to 1.
            QCOMPARE(e.candidates, (std::vector<int>{2, 3, 4}));
            QVERIFY2(e.hasSoftmax, e.softmaxNote.c_str());
            double sum = 0;
            for (const auto& w : e.widths) {
                QVERIFY(w.probability >= 0 && w.probability <= 1);
                sum += w.probability;
            }
            QVERIFY(std::abs(sum - 1) < 1e-3);

            // Errors: the hand-written RTN of the base weights, times H_jj.
            const ModelSource src = ModelSource::open(m_model);
            const at::Tensor W = mpq::detail::loadTensor(src, tensor, at::kFloat, at::Device(at::kCPU));
            for (const auto& w : e.widths) {
                const double ref = handColumnError(W, j, w.bits);
                QVERIFY2(std::abs(w.columnError - ref) <= 1e-5 * std::max(1.0, ref),
                         qPrintable(QStringLiteral("%1 bits: %2 vs %3").arg(w.bits).arg(w.columnError).arg(ref)));
                QVERIFY(std::abs(w.predictedError - ref * e.hessianDiagonal) <= 1e-5 * std::max(1.0, w.predictedError));
            }

            // The greedy baseline at the matrix's average width.
            std::vector<double> score(static_cast<size_t>(n));
            const at::Tensor norms = W.to(at::kDouble).pow(2).sum(0);
            for (int64_t i = 0; i < n; ++i)
                score[size_t(i)] = double(d.hessianDiagonal[size_t(i)]) * norms[i].item<double>();
            double avg = 0;
            for (auto b : d.columnBits)
                avg += b;
            avg /= double(n);
            QCOMPARE(e.greedyBits, int(hessianGreedyBits(score, {2, 3, 4}, avg)[size_t(j)]));
            QVERIFY(e.errorNote.empty());
        }
    }

    void gptqRunHasNoSoftmaxButErrors()
    {
        const auto e = session::explainColumn(m_session, "g4", "model.layers.0.self_attn.q_proj.weight", 5);
        QCOMPARE(e.bits, 4);
        QVERIFY(!e.hasSoftmax);
        QVERIFY(e.softmaxNote.find("gptq") != std::string::npos);
        QCOMPARE(e.candidates, (std::vector<int>{2, 3, 4}));
        QVERIFY(e.widths[0].predictedError > e.widths[2].predictedError); // 2 bits worse than 4
        QCOMPARE(e.greedyBits, 4); // target 4 of {2,3,4}: every column at 4
    }

    void withoutWeightsSaysWhy()
    {
        session::ColumnExplainOptions o;
        o.readWeights = false;
        const auto e = session::explainColumn(m_session, "mg", "model.layers.0.mlp.up_proj.weight", 3, o);
        QVERIFY(!e.errorNote.empty());
        QCOMPARE(e.widths[0].predictedError, -1.0);
        QCOMPARE(e.greedyBits, -1);
        QVERIFY(e.hasSoftmax);
    }

    void badRequestsAreRefused()
    {
        auto message = [&](auto f) {
            try {
                f();
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        QVERIFY(message([&] { session::explainColumn(m_session, "mg", "model.layers.0.mlp.up_proj.weight", 32); })
                    .find("column 32") != std::string::npos);
        QVERIFY(!message([&] { session::explainColumn(m_session, "nope", "model.layers.0.mlp.up_proj.weight", 0); })
                     .empty());
        QVERIFY(!message([&] { session::explainColumn(m_session, "mg", "model.layers.9.mlp.up_proj.weight", 0); })
                     .empty());
    }

    void shadowPriceOfAHandTable()
    {
        // A: (2,10) (3,4) (4,3): hull steps rate 6 then 1. B: (2,8) (3,6) (4,1): (3,6) is above
        // the hull, one step of 2 bits at rate 3.5. Base storage 4.
        const std::vector<std::vector<double>> cost{{10, 4, 3}, {8, 6, 1}};
        const std::vector<std::vector<double>> storage{{2, 3, 4}, {2, 3, 4}};
        QCOMPARE(session::mxqShadowPrice(cost, storage, 3), -1.0);  // infeasible
        QCOMPARE(session::mxqShadowPrice(cost, storage, 4), 6.0);   // nothing bought yet
        QCOMPARE(session::mxqShadowPrice(cost, storage, 4.5), 6.0);
        QCOMPARE(session::mxqShadowPrice(cost, storage, 5), 3.5);   // A's step bought exactly
        QCOMPARE(session::mxqShadowPrice(cost, storage, 6.5), 3.5);
        QCOMPARE(session::mxqShadowPrice(cost, storage, 7.5), 1.0);
        QCOMPARE(session::mxqShadowPrice(cost, storage, 8), 0.0);   // everything fits
    }

    void explainsAnMxqMatrix()
    {
        MxqCostParams cp;
        cp.model = m_model;
        cp.configs = parseMxqConfigs("2,3,4,8x16,32");
        JobContext ctx;
        const MxqCostTable table = computeMxqCosts(cp, ctx);
        const MxqBudget budget = MxqBudget::bitsPerParameter(3.5);
        const MxqSolution sol = solveMxq(table, budget);
        QVERIFY(sol.hasSolution());
        QuantizeParams p;
        p.model = m_model;
        p.session = m_session;
        p.runName = "mx";
        p.plan = toPlan(table, sol);
        p.method = "hqq";
        p.solver.budget = budget;
        quantizeModel(p, ctx);
        session::saveMxqCostTable(m_session, "mx", table);
        // The run's solver record comes back typed (the views take the run's knob from it).
        const session::RunInfo stored = session::Session::open(m_session).run("mx");
        QVERIFY(stored.solver.budget && *stored.solver.budget == budget);

        const std::string tensor = "model.layers.0.mlp.gate_proj.weight";
        const auto e = session::explainColumn(m_session, "mx", tensor, 0);
        QCOMPARE(e.method, std::string("mxq"));
        QVERIFY(e.isMxq);
        QVERIFY(!e.hasHessian);
        QCOMPARE(int(e.configs.size()), 8);
        int chosen = 0;
        size_t mi = 0;
        while (table.matrices[mi].tensor != tensor)
            ++mi;
        for (size_t k = 0; k < e.configs.size(); ++k) {
            chosen += e.configs[k].chosen;
            QCOMPARE(e.configs[k].cost, table.matrices[mi].cost[k]);
            if (e.configs[k].chosen)
                QCOMPARE(int(k), sol.choice[mi]);
        }
        QCOMPARE(chosen, 1);
        QCOMPARE(e.budgetBits, 3.5 * double(table.totalParameters()));
        std::vector<std::vector<double>> c, st;
        for (const auto& m : table.matrices) {
            c.push_back(m.cost);
            st.push_back(m.storageBits);
        }
        QCOMPARE(e.shadowPrice, session::mxqShadowPrice(c, st, e.budgetBits));
        QVERIFY(e.shadowPrice >= 0);
    }
};

QTEST_GUILESS_MAIN(TestExplain)
#include "tst_explain.moc"
