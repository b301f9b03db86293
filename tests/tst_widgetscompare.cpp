// Issue 19: comparing runs (the maths, the models, the views), the bit map's zoom/search/keys, CSV
// export of plots and tables, and the plots' dark palette. Offscreen, deterministic, no timing.
#include "BitMapView.h"
#include "ColumnGrid.h"
#include "CompareTradeoffView.h"
#include "CompareView.h"
#include "DiffMapView.h"
#include "MatrixCompareModel.h"
#include "PerplexityView.h"
#include "RunComparison.h"
#include "RunsTableModel.h"
#include "SyntheticRuns.h"

#include <QCheckBox>
#include <QLineEdit>
#include <QListWidget>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace mpq::gui;

namespace {

MatrixResult matrix(int layer, const QString& linear, std::vector<uint8_t> bits, double error = -1)
{
    MatrixResult m;
    m.layer = layer;
    m.linear = linear;
    m.tensor = QStringLiteral("model.layers.%1.%2.weight").arg(layer).arg(linear);
    m.rows = 8;
    m.cols = int64_t(bits.size());
    m.columnBits = std::move(bits);
    m.outputError = error;
    m.bitsWithOverhead = m.averageBits() + 0.1;
    m.quantizer = QStringLiteral("gptq");
    return m;
}

RunData run(const QString& name, const QString& method, std::vector<MatrixResult> ms, double wiki = -1)
{
    RunData r;
    r.name = name;
    r.method = method;
    r.matrices = std::move(ms);
    r.complete = true;
    r.status = QStringLiteral("complete");
    double s = 0, n = 0;
    for (const auto& m : r.matrices) {
        for (uint8_t b : m.columnBits)
            s += b;
        n += double(m.columnBits.size());
    }
    r.avgBits = n > 0 ? s / n : 0;
    r.avgBitsWithOverhead = r.avgBits + 0.1;
    r.seconds = 12;
    if (wiki > 0)
        r.perplexity[QStringLiteral("wikitext2")] = wiki;
    return r;
}

Workbench smallWorkbench()
{
    Workbench wb;
    wb.sessionFile = QStringLiteral("/tmp/none.h5");
    wb.reference[QStringLiteral("wikitext2")] = 5.0;
    wb.runs.push_back(run(QStringLiteral("a"), QStringLiteral("gptq"),
                          {matrix(0, QStringLiteral("q_proj"), {3, 3, 3, 3}, 1.0), matrix(0, QStringLiteral("down_proj"), {3, 3, 3, 3, 3, 3}, 2.0)},
                          7.0));
    wb.runs.push_back(run(QStringLiteral("b"), QStringLiteral("mgptq-gcn"),
                          {matrix(0, QStringLiteral("q_proj"), {2, 3, 4, 3}, 0.5), matrix(0, QStringLiteral("down_proj"), {3, 3, 3, 3, 3, 3}, 2.5)},
                          6.5));
    wb.runs.push_back(run(QStringLiteral("c"), QStringLiteral("mxq"), {matrix(0, QStringLiteral("q_proj"), {4, 4, 4, 4})}));
    wb.runs[1].sweepAxis = QStringLiteral("target-bits");
    wb.runs[1].sweepValue = 3;
    return wb;
}

void key(QWidget* w, Qt::Key k)
{
    QTest::keyClick(w, k);
    QApplication::processEvents();
}

} // namespace

class TestWidgetsCompare : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void columnGridBinsExactlyAndAggregated()
    {
        ColumnGrid g;
        g.rows = {{2, 2, 4, 4, 3, 3, 3}, {8, 8}};
        QCOMPARE(g.maxCols(), int64_t(7));
        const auto exact = g.bin(0, 7, 100);
        QCOMPARE(exact.columnsPerCell, int64_t(1));
        QCOMPARE(exact.cells, 7);
        QCOMPARE(exact.at(0, 2), 4.0);
        QVERIFY(std::isnan(exact.at(1, 3))); // the narrower row has no column 3
        const auto two = g.bin(0, 7, 4);     // ⌈7/4⌉ = 2 columns per cell
        QCOMPARE(two.columnsPerCell, int64_t(2));
        QCOMPARE(two.cells, 4);
        QCOMPARE(two.at(0, 0), 2.0);
        QCOMPARE(two.at(0, 1), 4.0);
        QCOMPARE(two.at(0, 3), 3.0); // a last, partial cell: column 6 alone
        QCOMPARE(two.at(1, 0), 8.0);
        const auto window = g.bin(3, 6, 10);
        QCOMPARE(window.first, int64_t(3));
        QCOMPARE(window.cells, 3);
        QCOMPARE(window.at(0, 0), 4.0);
        QCOMPARE(ColumnGrid::columnsPerCell(11008, 1000), int64_t(12));
        QCOMPARE(ColumnGrid::columnsPerCell(900, 1000), int64_t(1));
        QCOMPARE(g.bin(-5, 99, 100).cells, 7); // clamped
    }

    void comparisonRowsAndDifference()
    {
        const Workbench wb = smallWorkbench();
        const auto rows = RunComparison::matrices({&wb.runs[0], &wb.runs[1], &wb.runs[2]});
        QCOMPARE(rows.size(), size_t(2));
        const MatrixComparison& q = rows[0];
        QCOMPARE(q.linear, QStringLiteral("q_proj"));
        QCOMPARE(q.avgBits[0], 3.0);
        QCOMPARE(q.avgBits[2], 4.0);
        QCOMPARE(q.spread, 1.0);
        QCOMPARE(q.changedColumns, int64_t(4)); // run c differs in every column
        QVERIFY(q.inAll);
        const MatrixComparison& d = rows[1];
        QVERIFY(!d.inAll);
        QVERIFY(std::isnan(d.avgBits[2]));
        QCOMPARE(d.changedColumns, int64_t(0));
        QCOMPARE(d.error[1], 2.5);

        QStringList tensors, labels;
        const ColumnGrid diff = RunComparison::difference(wb.runs[0], wb.runs[1], &tensors, &labels);
        QCOMPARE(diff.rows.size(), size_t(2));
        QCOMPARE(diff.rows[0], (std::vector<int8_t>{-1, 0, 1, 0}));
        QCOMPARE(labels[0], QStringLiteral("L0 q_proj  +0.00"));
        QCOMPARE(tensors[1], wb.runs[0].matrices[1].tensor);
        // Matrices of another shape are left out.
        RunData other = wb.runs[0];
        other.matrices[0].columnBits.push_back(3);
        QCOMPARE(RunComparison::difference(wb.runs[0], other, nullptr, nullptr).rows.size(), size_t(1));
        QCOMPARE(RunComparison::settingsText(wb.runs[1]), QStringLiteral("target 3 · gptq · per-channel"));
    }

    void matrixTableSortsFiltersAndHidesEqualRows()
    {
        const Workbench wb = smallWorkbench();
        MatrixCompareModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setComparison(RunComparison::matrices({&wb.runs[0], &wb.runs[1]}), {QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.columnCount(), 4 + 2 + 2 + 2);
        QCOMPARE(model.headerData(4, Qt::Horizontal).toString(), QStringLiteral("bits: a"));
        QCOMPARE(model.headerData(7, Qt::Horizontal).toString(), QStringLiteral("changed columns"));
        QCOMPARE(model.index(0, 7).data().toString(), QStringLiteral("2 (50.0%)"));
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(MatrixCompareModel::SortRole);
        proxy.sort(3, Qt::DescendingOrder); // columns: 6 before 4, as numbers
        QCOMPARE(proxy.index(0, 1).data().toString(), QStringLiteral("down_proj"));
        proxy.sort(7, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 1).data().toString(), QStringLiteral("q_proj"));
        proxy.setFilterRole(MatrixCompareModel::TensorRole);
        proxy.setFilterRegularExpression(QStringLiteral("down"));
        QCOMPARE(proxy.rowCount(), 1);
        model.setOnlyDifferent(true);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.comparison(0).linear, QStringLiteral("q_proj"));
    }

    void runsTable()
    {
        const Workbench wb = smallWorkbench();
        RunsTableModel model;
        std::vector<CompareEntry> entries;
        for (const RunData& r : wb.runs)
            entries.push_back({QStringLiteral("s#") + r.name, r.name, QStringLiteral("/x/s.h5"), r});
        model.setRuns(entries);
        QCOMPARE(model.datasets(), QStringList{QStringLiteral("wikitext2")});
        QCOMPARE(model.columnCount(), RunsTableModel::FirstPerplexity + 2);
        QCOMPARE(model.index(1, RunsTableModel::Method).data().toString(), QStringLiteral("MG-PTQ (GCN)"));
        QCOMPARE(model.index(1, RunsTableModel::FirstPerplexity).data().toString(), QStringLiteral("6.500"));
        QCOMPARE(model.index(2, RunsTableModel::FirstPerplexity).data().toString(), QStringLiteral("—"));
        QCOMPARE(model.index(0, RunsTableModel::Source).data().toString(), QStringLiteral("s.h5"));
        QVERIFY(!model.index(0, RunsTableModel::FirstPerplexity + 1).data().toString().isEmpty()); // time
    }

    void compareViewBuildsOnlyTheShownPage()
    {
        // Picking runs rebuilds the page shown; the others are rebuilt when shown, with the
        // current picks and the selected matrix.
        CompareView view;
        view.resize(1200, 700);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setWorkbench(smallWorkbench());
        view.tabs()->setCurrentIndex(CompareView::SideBySidePage);
        int builds[CompareView::PageCount];
        for (int p = 0; p < CompareView::PageCount; ++p)
            builds[p] = view.pageBuilds(CompareView::Page(p));
        view.setPicked({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
        QVERIFY(view.isPageUpToDate(CompareView::SideBySidePage));
        QCOMPARE(view.pageBuilds(CompareView::SideBySidePage), builds[CompareView::SideBySidePage] + 1);
        for (int p = CompareView::DifferencePage; p < CompareView::PageCount; ++p) {
            QVERIFY(!view.isPageUpToDate(CompareView::Page(p)));
            QCOMPARE(view.pageBuilds(CompareView::Page(p)), builds[p]);
        }
        const QString down = QStringLiteral("model.layers.0.down_proj.weight");
        view.selectTensor(down);
        // Showing a page brings it up to date, once.
        view.tabs()->setCurrentIndex(CompareView::MatricesPage);
        QVERIFY(view.isPageUpToDate(CompareView::MatricesPage));
        QCOMPARE(view.pageBuilds(CompareView::MatricesPage), builds[CompareView::MatricesPage] + 1);
        QCOMPARE(view.matrixModel()->rowCount(), 2);
        QCOMPARE(view.matrixTable()->currentIndex().data(MatrixCompareModel::TensorRole).toString(), down);
        view.tabs()->setCurrentIndex(CompareView::RunsPage);
        view.tabs()->setCurrentIndex(CompareView::MatricesPage);
        QCOMPARE(view.pageBuilds(CompareView::MatricesPage), builds[CompareView::MatricesPage] + 1);
        QCOMPARE(view.runsModel()->rowCount(), 3);
        // Hidden, the view builds nothing; shown again, its current page is rebuilt.
        view.hide();
        const int matrices = view.pageBuilds(CompareView::MatricesPage);
        view.setPicked({QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(view.pageBuilds(CompareView::MatricesPage), matrices);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QCOMPARE(view.pageBuilds(CompareView::MatricesPage), matrices + 1);
        QCOMPARE(view.matrixModel()->rowCount(), 2);
        QVERIFY(!view.isPageUpToDate(CompareView::SideBySidePage));
        QCOMPARE(view.maps()[0]->selectedTensor(), down); // the accessor brings the page up to date
        QVERIFY(!view.maps()[2]->isVisibleTo(&view));
    }

    void compareViewPicksSyncsAndExports()
    {
        CompareView view;
        view.resize(1200, 700);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setWorkbench(smallWorkbench());
        QCOMPARE(view.picked().size(), 2); // the first two complete runs
        QCOMPARE(view.maps()[0]->tensors().size(), 2);
        QVERIFY(view.maps()[1]->isVisible());
        QVERIFY(!view.maps()[2]->isVisible());
        QCOMPARE(view.differenceMap()->changedColumns(), int64_t(2));
        QCOMPARE(view.differenceMap()->comparedColumns(), int64_t(10));
        QCOMPARE(view.runsModel()->rowCount(), 2);
        QCOMPARE(view.matrixModel()->rowCount(), 2);
        QCOMPARE(view.tradeoffView()->pointLabels(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));

        // Ticking a third run in the list adds it everywhere.
        auto* list = view.findChild<QListWidget*>(QStringLiteral("compareRuns"));
        QVERIFY(list);
        list->item(2)->setCheckState(Qt::Checked);
        QCOMPARE(view.picked().size(), 3);
        QVERIFY(view.maps()[2]->isVisible());
        QCOMPARE(view.runsModel()->rowCount(), 3);

        // A matrix chosen in one map is outlined in every map and current in the table.
        QSignalSpy chosen(&view, &CompareView::matrixChosen);
        const QString down = QStringLiteral("model.layers.0.down_proj.weight");
        view.selectTensor(down);
        QCOMPARE(chosen.count(), 1);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(view.maps()[size_t(i)]->selectedTensor(), down);
        QCOMPARE(view.matrixTable()->currentIndex().data(MatrixCompareModel::TensorRole).toString(), down);

        // Zoom in one map: the others follow (the 6-column map cannot zoom below 6 columns, the
        // smallest window being min(8 columns, the map)).
        view.maps()[0]->setColumnRange(1.5, 4.5);
        QApplication::processEvents();
        QCOMPARE(view.maps()[0]->columnRange().first, -0.5);
        QCOMPARE(view.maps()[1]->columnRange(), view.maps()[0]->columnRange());
        QCOMPARE(view.maps()[2]->columnRange().second, 3.5); // run c is 4 columns wide: clamped to its own map
        view.maps()[1]->setRowRange(0.5, 1.5);
        QApplication::processEvents();
        QCOMPARE(view.maps()[0]->rowRange(), view.maps()[1]->rowRange());

        // Filter and "only different" in the table.
        view.matrixFilter()->setText(QStringLiteral("q_proj"));
        QCOMPARE(view.matrixProxy()->rowCount(), 1);
        view.matrixFilter()->clear();
        view.onlyDifferent()->setChecked(true);
        QCOMPARE(view.matrixProxy()->rowCount(), 2); // run c lacks down_proj: it differs
        view.setPicked({QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(view.matrixProxy()->rowCount(), 1);

        // Tables to CSV, numbers at full precision.
        QTemporaryDir dir;
        const QString csv = dir.filePath(QStringLiteral("m.csv"));
        QVERIFY(CompareView::writeTableCsv(view.matrixProxy(), csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines[0].startsWith(QStringLiteral("Layer,Matrix,Tensor,Columns,bits: a,bits: b")));
        QVERIFY2(lines[1].contains(QStringLiteral(",3,3,")), qPrintable(lines[1]));
    }

    void compareViewAddsSourcesAndNamesBadOnes()
    {
        QTemporaryDir dir;
        Workbench other = smallWorkbench();
        other.runs.resize(1);
        other.runs[0].name = QStringLiteral("elsewhere");
        other.runs[0].model = QStringLiteral("/models/x");
        other.runs[0].perplexity[QStringLiteral("wikitext2")] = 9.5;
        const QString index = SyntheticRuns::writeWorkspace(other, dir.filePath(QStringLiteral("ws")));
        CompareView view;
        view.setWorkbench(smallWorkbench());
        QVERIFY(view.addSource(index));
        QCOMPARE(view.pool().size(), size_t(4));
        QCOMPARE(view.pool().back().label, QStringLiteral("synthetic-7b.h5: elsewhere"));
        // The same run's result folder on its own: the same entry (by folder and name), relabelled.
        QVERIFY(view.addSource(dir.filePath(QStringLiteral("ws/elsewhere"))));
        QCOMPARE(view.pool().size(), size_t(4));
        QCOMPARE(view.pool().back().label, QStringLiteral("elsewhere"));
        // Added sources stay when the session's runs change.
        view.setWorkbench(smallWorkbench());
        QCOMPARE(view.pool().size(), size_t(4));
        view.setPicked({QStringLiteral("a"), QStringLiteral("elsewhere")});
        QCOMPARE(view.picked().size(), 2);
        QCOMPARE(view.differenceMap()->changedColumns(), int64_t(0)); // the same run, written and read back
        QCOMPARE(view.differenceMap()->comparedColumns(), int64_t(10));
        QString error;
        QVERIFY(!view.addSource(dir.filePath(QStringLiteral("nothing.h5")), &error));
        QVERIFY2(error.contains(QStringLiteral("nothing.h5")), qPrintable(error));
    }

    void bitMapSearchKeysAndZoom()
    {
        BitMapView map;
        map.resize(900, 600);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        std::vector<MatrixResult> ms;
        for (int l = 0; l < 4; ++l)
            for (const char* lin : {"q_proj", "down_proj"})
                ms.push_back(matrix(l, QLatin1String(lin), std::vector<uint8_t>(lin[0] == 'd' ? 3000 : 1000, uint8_t(2 + l % 3))));
        map.setMatrices(ms, QStringLiteral("t"));
        QVERIFY(map.columnsPerCell() > 1); // 3000 columns on fewer pixels: an overview
        QVERIFY(map.drawnCells() <= map.width());
        QSignalSpy clicked(&map, &BitMapView::matrixClicked);
        QCOMPARE(map.findTensor(QStringLiteral("down_proj")), 4);
        QCOMPARE(map.selectedTensor(), ms[1].tensor);
        QCOMPARE(map.findTensor(QStringLiteral("down_proj"), 2), 4);
        QCOMPARE(map.selectedTensor(), ms[5].tensor);
        QCOMPARE(map.findTensor(QStringLiteral("layers\\.3\\..*q_")), 1);
        QCOMPARE(map.selectedTensor(), ms[6].tensor);
        QCOMPARE(map.findTensor(QStringLiteral("no such")), 0);
        QCOMPARE(clicked.count(), 3);

        // Keys on the plot: next matrix, zoom in (columns halve), pan, whole map.
        QWidget* plot = nullptr;
        for (QWidget* w : map.findChildren<QWidget*>())
            if (QString::fromLatin1(w->metaObject()->className()) == QLatin1String("QCustomPlot"))
                plot = w;
        QVERIFY(plot);
        plot->setFocus();
        key(plot, Qt::Key_Down);
        QCOMPARE(map.selectedTensor(), ms[7].tensor);
        key(plot, Qt::Key_Up);
        QCOMPARE(map.selectedTensor(), ms[6].tensor);
        const double before = map.columnRange().second - map.columnRange().first;
        key(plot, Qt::Key_Plus);
        key(plot, Qt::Key_Plus);
        key(plot, Qt::Key_Plus);
        map.flushPendingReplot();
        const double after = map.columnRange().second - map.columnRange().first;
        QVERIFY2(std::abs(after - before / 8) < 1e-6, qPrintable(QStringLiteral("%1 → %2").arg(before).arg(after)));
        QCOMPARE(map.columnsPerCell(), int64_t(1)); // 375 columns fit the pixels: exact cells
        const double left = map.columnRange().first;
        key(plot, Qt::Key_Right);
        QVERIFY(map.columnRange().first > left);
        key(plot, Qt::Key_0);
        map.flushPendingReplot();
        QCOMPARE(map.columnRange().first, -0.5);
        QCOMPARE(map.columnRange().second, 2999.5);
        // Zoom and pan stay inside the map.
        map.setColumnRange(-500, 100);
        QVERIFY(map.columnRange().first >= -0.5);
        map.setRowRange(2.5, 6.5);
        QCOMPARE(map.rowRange().first, 2.5);
        map.setRowRange(2.5, 3.5); // at least 4 rows
        QCOMPARE(map.rowRange().second - map.rowRange().first, 4.0);
        map.replotNow();
        const QString hover = map.hoverText(map.dataRect().center());
        QVERIFY2(hover.startsWith(QStringLiteral("model.layers.")) && hover.contains(QStringLiteral("bits")), qPrintable(hover));
        QVERIFY(map.hoverText(QPoint(-5, -5)).isEmpty());
    }

    void plotsExportCsv()
    {
        QTemporaryDir dir;
        BitMapView map;
        map.setMatrices({matrix(0, QStringLiteral("q_proj"), {2, 3, 4}), matrix(1, QStringLiteral("k_proj"), {4, 4})},
                        QStringLiteral("t"));
        QVERIFY(PlotView::exportFilter().contains(QStringLiteral("*.csv")));
        const QString file = dir.filePath(QStringLiteral("map.csv"));
        QString error;
        QVERIFY2(map.exportTo(file, &error), qPrintable(error));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0], QStringLiteral("tensor,label,columns,average_bits,column_bits"));
        QCOMPARE(lines[1], QStringLiteral("model.layers.0.q_proj.weight,L0 q_proj  3.00,3,3.0000,2 3 4"));

        // The generic writer: every plotted series with its points.
        CompareTradeoffView trade;
        const Workbench wb = smallWorkbench();
        std::vector<CompareEntry> picked;
        for (const RunData& r : wb.runs)
            picked.push_back({r.name, r.name, QStringLiteral("s"), r});
        trade.setRuns(picked, {}, wb.reference);
        const QString tfile = dir.filePath(QStringLiteral("trade"));
        QVERIFY(trade.exportTo(PlotView::withFilterSuffix(tfile, QStringLiteral("CSV data (*.csv)")), &error));
        QFile t(tfile + QStringLiteral(".csv"));
        QVERIFY(t.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(t.readAll());
        QVERIFY2(text.startsWith(QStringLiteral("series,x: average bits per weight (scales and zeros included),y: perplexity on WikiText-2")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("GPTQ,3.1,7\n")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("MG-PTQ (GCN),3.1,6.5\n")), qPrintable(text));
        QVERIFY(!trade.exportTo(dir.filePath(QStringLiteral("x.doc")), &error));
        QVERIFY(error.contains(QStringLiteral(".csv")));
    }

    void plotsFollowADarkPalette()
    {
        PerplexityView view;
        QPalette dark = view.palette();
        dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2e));
        dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Base, QColor(0x1f, 0x1f, 0x22));
        dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
        QVERIFY(PlotView::isDark(dark));
        QVERIFY(!PlotView::isDark(QPalette(Qt::white)));
        view.setPalette(dark);
        view.resize(600, 400);
        view.replotNow();
        // The drawn plot's corner (outside the axes) has the dark base colour.
        const QImage img = view.grab().toImage();
        const QColor corner = img.pixelColor(img.width() - 3, img.height() - 3);
        QVERIFY2(corner.lightness() < 60, qPrintable(corner.name()));
    }
};

QTEST_MAIN(TestWidgetsCompare)
#include "tst_widgetscompare.moc"
