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

    void hessianGraphOfDownProj()
    {
        // An 11008-column down_proj as a session stores it (diag H and each column's 16 strongest
        // neighbours; docs/session-format.md): it has a graph, pooled and with aggregated nodes.
        const int64_t n = 11008;
        HessianGraphData g;
        g.available = true;
        g.tensor = QStringLiteral("model.layers.0.mlp.down_proj.weight");
        g.source = QStringLiteral("test");
        g.key = QStringLiteral("test#down");
        g.cols = n;
        for (int64_t i = 0; i < n; ++i) {
            g.diagonal.push_back(1.0 + double((i * 31) % 977));
            g.bits.push_back(uint8_t(2 + (i / 64) % 3));
            for (int64_t d = 1; d <= 16; ++d)
                g.edges.push_back({int32_t(i), int32_t((i + d * 37) % n), float(1.0 / double(d))});
        }
        HessianGraphData::normalise(g.edges);
        HessianGraphView view;
        view.resize(1000, 600);
        view.setGraph(g);
        QVERIFY2(view.caption().contains(QStringLiteral("11008 columns")), qPrintable(view.caption()));
        QVERIFY(view.caption().contains(QStringLiteral("240 strongest edges")));
        QCOMPARE(view.heatBlock(), int64_t(22)); // ≤ 512 cells a side
        QVERIFY(view.caption().contains(QStringLiteral("1 dot = 22 adjacent columns")));
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.replotNow();
        bool hovered = false; // some point of the heat map reads out a column
        for (int x = 10; x < view.width() / 2 && !hovered; x += 5)
            for (int y = 10; y < view.height() && !hovered; y += 5)
                hovered = view.hoverText(QPoint(x, y)).startsWith(QStringLiteral("column "));
        QVERIFY(hovered);
    }
    void hessianGraphSummaryIsCached()
    {
        // Showing a matrix again, switching the order and redrawing do not rescan its coupling.
        const auto graph = [](const QString& key, int64_t n) {
            HessianGraphData g;
            g.available = true;
            g.tensor = key;
            g.key = key;
            g.cols = n;
            g.diagonal.assign(size_t(n), 1.0);
            for (int64_t i = 0; i + 1 < n; ++i)
                g.edges.push_back({int32_t(i), int32_t(i + 1), 0.5f});
            return g;
        };
        HessianGraphView view;
        view.resize(900, 500);
        view.setGraph(graph(QStringLiteral("a"), 4096));
        QCOMPARE(view.summariesComputed(), 1);
        view.setActOrder(true);
        view.setActOrder(false);
        view.replotNow();
        QCOMPARE(view.summariesComputed(), 1);
        view.setGraph(graph(QStringLiteral("b"), 11008));
        QCOMPARE(view.summariesComputed(), 2);
        view.setGraph(graph(QStringLiteral("a"), 4096));
        QCOMPARE(view.summariesComputed(), 2); // from the cache
        QVERIFY(view.caption().contains(QStringLiteral("4096 columns")));
        // The cache is bounded: after kCacheSize other graphs, "a" is computed again.
        for (int i = 0; i < HessianGraphView::kCacheSize; ++i)
            view.setGraph(graph(QStringLiteral("other%1").arg(i), 64));
        const int before = view.summariesComputed();
        view.setGraph(graph(QStringLiteral("a"), 4096));
        QCOMPARE(view.summariesComputed(), before + 1);
        // A graph without a key is not cached.
        HessianGraphData anonymous = graph(QString(), 64);
        view.setGraph(anonymous);
        view.setGraph(anonymous);
        QCOMPARE(view.summariesComputed(), before + 3);
    }

private:
    Workbench m_wb;
};

QTEST_MAIN(TestWidgetsScale)
#include "tst_widgetsscale.moc"
