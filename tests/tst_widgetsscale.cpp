// Issue 19, scale: the views on a synthetic LLaMA-7B-shaped run (224 matrices, up to 11008
// columns) stay usable — an aggregated overview with at most one cell per pixel, exact cells
// when zoomed, search by tensor name, the comparison of two such runs. Structure only: the redraw
// times are measured by bench/gui/mpq-bench-views (docs/gui.md), not here.
#include "BitMapView.h"
#include "CompareView.h"
#include "DiffMapView.h"
#include "HessianGraphView.h"
#include "LayerTreeModel.h"
#include "MatrixCompareModel.h"
#include "SyntheticRuns.h"

#include <QtTest>

#include <cmath>

using namespace mpq::gui;

class TestWidgetsScale : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { m_wb = SyntheticRuns::llama7b(); }

    void syntheticRunsAreSevenBShaped()
    {
        QCOMPARE(m_wb.runs.size(), size_t(5));
        for (const RunData& r : m_wb.runs) {
            QVERIFY(r.name.startsWith(QStringLiteral("synthetic-")));
            QCOMPARE(r.matrices.size(), size_t(224));
            int wide = 0;
            for (const MatrixResult& m : r.matrices) {
                QCOMPARE(int64_t(m.columnBits.size()), m.cols);
                wide += m.cols == 11008 ? 1 : 0;
                QVERIFY(m.cols == 4096 || m.cols == 11008);
            }
            QCOMPARE(wide, 32);
            QVERIFY(r.perplexity.value(QStringLiteral("wikitext2")) > 0);
        }
        QCOMPARE(m_wb.run(QStringLiteral("synthetic-gptq-4bit"))->avgBits, 4.0);
        QVERIFY(std::abs(m_wb.run(QStringLiteral("synthetic-mgptq-target3"))->avgBits - 3.0) < 0.15);
        QVERIFY(std::abs(m_wb.run(QStringLiteral("synthetic-mgptq-target2.5"))->avgBits - 2.5) < 0.15);
        const RunData* mxq = m_wb.run(QStringLiteral("synthetic-mxq-3.5bits"));
        QVERIFY2(mxq->avgBitsWithOverhead <= 3.5 && mxq->avgBitsWithOverhead > 3.0, qPrintable(QString::number(mxq->avgBitsWithOverhead)));
        // Deterministic.
        const Workbench again = SyntheticRuns::llama7b();
        QCOMPARE(again.runs[2].matrices[100].columnBits, m_wb.runs[2].matrices[100].columnBits);
    }

    void bitMapOverviewZoomAndSearch()
    {
        BitMapView map;
        map.resize(1000, 700);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        const RunData* r = m_wb.run(QStringLiteral("synthetic-mgptq-target3"));
        map.setMatrices(r->matrices, r->name);
        QCOMPARE(map.tensors().size(), 224);
        // Overview: never more cells than pixels; each cell a whole number of columns.
        QVERIFY2(map.drawnCells() <= map.dataRect().width() + 1, qPrintable(QStringLiteral("%1 cells, %2 px").arg(map.drawnCells()).arg(map.dataRect().width())));
        QCOMPARE(map.columnsPerCell(), int64_t(std::ceil(11008.0 / map.dataRect().width())));
        // Labels thin out but stay readable: never more than the rows' height allows.
        QVERIFY(map.rowLabels().size() < 224);
        QVERIFY(map.rowLabels().size() >= 224 / 12);
        // Zoomed into 600 columns: one cell per column.
        map.setColumnRange(5000, 5600);
        map.flushPendingReplot();
        QCOMPARE(map.columnsPerCell(), int64_t(1));
        QVERIFY(map.drawnCells() <= 602);
        // Rows zoomed: every row of the window labelled.
        map.setRowRange(99.5, 119.5);
        map.replotNow();
        QCOMPARE(map.rowLabels().size(), 20);
        // Search by name scrolls the match into view.
        QCOMPARE(map.findTensor(QStringLiteral("layers.3.mlp.down_proj")), 1);
        QCOMPARE(map.selectedTensor(), QStringLiteral("model.layers.3.mlp.down_proj.weight"));
        QVERIFY(map.rowRange().first <= 27 && map.rowRange().second >= 27);
        QCOMPARE(map.findTensor(QStringLiteral("down_proj")), 32);
        map.resetZoom();
        map.flushPendingReplot();
        QVERIFY(map.columnsPerCell() > 1);
    }

    void compareTwoSevenBRuns()
    {
        CompareView view;
        view.resize(1280, 760);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setWorkbench(m_wb);
        view.setPicked({QStringLiteral("synthetic-gptq-3bit"), QStringLiteral("synthetic-mgptq-target3")});
        QCOMPARE(view.matrixModel()->rowCount(), 224);
        QCOMPARE(view.differenceMap()->tensors().size(), 224);
        const int64_t all = int64_t(224 - 32) * 4096 + 32 * 11008;
        QCOMPARE(view.differenceMap()->comparedColumns(), all);
        QVERIFY(view.differenceMap()->changedColumns() > all / 10);
        QApplication::processEvents(); // the splitter lays the two maps out; each redraws for its width
        for (BitMapView* m : view.maps())
            if (m->isVisible()) {
                m->replotNow();
                QVERIFY2(m->drawnCells() <= m->dataRect().width() + 1,
                         qPrintable(QStringLiteral("%1 cells, %2 px").arg(m->drawnCells()).arg(m->dataRect().width())));
            }
    }

    void layerTreeAndHessianAtScale()
    {
        LayerTreeModel tree;
        tree.setRun(m_wb.runs[2]);
        QCOMPARE(tree.rowCount(), 32);
        QCOMPARE(tree.rowCount(tree.index(31, 0)), 7);
        QCOMPARE(tree.index(6, LayerTreeModel::Bits, tree.index(0, 0)).data().toString(),
                 QString::number(m_wb.runs[2].matrices[6].averageBits(), 'f', 3));
        // The widest graph a session stores (4096 columns) is pooled to at most 512 cells a side.
        HessianGraphData g;
        g.available = true;
        g.tensor = QStringLiteral("wide");
        g.cols = 1500;
        g.diagonal.assign(1500, 1.0);
        g.adjacency.assign(size_t(1500 * 1500), 0.f);
        for (int64_t i = 0; i + 1 < 1500; ++i)
            g.adjacency[size_t(i * 1500 + i + 1)] = g.adjacency[size_t((i + 1) * 1500 + i)] = 0.5f;
        HessianGraphView view;
        view.resize(1000, 600);
        view.setGraph(g);
        QCOMPARE(view.heatBlock(), int64_t(3));
        QVERIFY(view.caption().contains(QStringLiteral("3×3 block")));
    }

private:
    Workbench m_wb;
};

QTEST_MAIN(TestWidgetsScale)
#include "tst_widgetsscale.moc"
