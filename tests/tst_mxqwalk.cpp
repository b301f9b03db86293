// MxqWalk (issue 19, teaching mode for MXQ): the greedy walk along the cost hulls on a hand-made
// table, and on a real cost table against the LP shadow price and the MIP's optimum.
#include "TestData.h"

#include "alloc/mxq/MxqSolver.h"
#include "alloc/mxq/MxqWalk.h"
#include "core/Error.h"
#include "session/ColumnExplain.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace mpq;

namespace {

MxqCostTable handTable()
{
    MxqCostTable t;
    t.configs = parseMxqConfigs("b2g64,b3g64,b4g64");
    for (auto [name, cost] : {std::pair<const char*, std::vector<double>>{"a", {10, 4, 3}}, {"b", {8, 6, 1}}}) {
        MxqMatrixCosts m;
        m.tensor = name;
        m.rows = 1;
        m.cols = 1;
        m.cost = cost;
        m.storageBits = {2, 3, 4};
        t.matrices.push_back(m);
    }
    return t;
}

} // namespace

class TestMxqWalk : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void handTableWalk()
    {
        const MxqWalk w = mxqWalk(handTable(), 7.5);
        QCOMPARE(w.start, (std::vector<int>{0, 0}));
        QCOMPARE(w.startStorageBits, 4.0);
        QCOMPARE(w.startCost, 18.0);
        // A 0→1 at rate 6, then B 0→2 at 3.5 (its 0→1 lies above the hull); A 1→2 (rate 1) does not fit.
        QCOMPARE(int(w.steps.size()), 2);
        QCOMPARE(w.steps[0].matrix, int64_t(0));
        QCOMPARE(w.steps[0].to, 1);
        QCOMPARE(w.steps[0].rate, 6.0);
        QCOMPARE(w.steps[1].matrix, int64_t(1));
        QCOMPARE(w.steps[1].from, 0);
        QCOMPARE(w.steps[1].to, 2);
        QCOMPARE(w.steps[1].rate, 3.5);
        QCOMPARE(w.steps[1].totalStorageBits, 7.0);
        QCOMPARE(w.steps[1].totalCost, 5.0);
        QCOMPARE(w.blocked.matrix, int64_t(0));
        QCOMPARE(w.blocked.rate, 1.0);
        QCOMPARE(w.greedyChoice, (std::vector<int>{1, 2}));
        QCOMPARE(w.choiceAfter(1), (std::vector<int>{1, 0}));
        QCOMPARE(mxqWalk(handTable(), 8).blocked.matrix, int64_t(-1)); // everything fits
        QVERIFY_THROWS_EXCEPTION(Error, mxqWalk(handTable(), 3));
    }

    void realTable()
    {
        QTemporaryDir dir;
        MxqCostParams cp;
        cp.model = mpq::test::writeTinySyntheticModel(dir.filePath(QStringLiteral("model"))).toStdString();
        cp.configs = parseMxqConfigs("2,3,4,8x16,32");
        JobContext ctx;
        const MxqCostTable table = computeMxqCosts(cp, ctx);
        for (double bits : {2.8, 3.5, 5.0}) try {
            const double budget = MxqBudget::bitsPerParameter(bits).toBits(table.totalParameters());
            const MxqWalk w = mxqWalk(table, budget);
            QVERIFY(!w.steps.empty());
            for (size_t k = 0; k < w.steps.size(); ++k) {
                QVERIFY(w.steps[k].storageBits > 0 && w.steps[k].costSaved > 0);
                if (k > 0)
                    QVERIFY(w.steps[k].rate <= w.steps[k - 1].rate);
            }
            QVERIFY(w.steps.back().totalStorageBits <= budget);
            std::vector<std::vector<double>> c, st;
            for (const auto& m : table.matrices) {
                c.push_back(m.cost);
                st.push_back(m.storageBits);
            }
            QCOMPARE(w.blocked.matrix < 0 ? 0.0 : w.blocked.rate, session::mxqShadowPrice(c, st, budget));
            // The MIP does at least as well as the greedy walk.
            const MxqSolution sol = solveMxq(table, MxqBudget::bitsPerParameter(bits));
            QVERIFY(sol.hasSolution());
            QVERIFY(sol.objective <= w.steps.back().totalCost * (1 + 1e-9));
            double cost = 0;
            for (size_t i = 0; i < table.matrices.size(); ++i)
                cost += table.matrices[i].cost[size_t(w.greedyChoice[i])];
            QVERIFY(std::abs(cost - w.steps.back().totalCost) <= 1e-9 * cost);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestMxqWalk)
#include "tst_mxqwalk.moc"
