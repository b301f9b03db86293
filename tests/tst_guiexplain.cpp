// Issue 19, Explain: a click on a bit-map column fills the Explain dock from the session
// (ColumnExplainer on its own thread, newest request wins), what the dock shows, and the
// one-line messages where there is nothing to explain. Offscreen.
#include "BitMapView.h"
#include "ColumnExplainer.h"
#include "ExplainView.h"
#include "GptqTeachView.h"
#include "MgptqTeachView.h"
#include "JobRunner.h"
#include "MainWindow.h"
#include "TestData.h"

#include "demo/SyntheticModel.h"
#include "pipeline/Override.h"
#include "pipeline/QuantizeJob.h"
#include "session/Session.h"

#include <QDockWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpq;
using namespace mpq::gui;

namespace {

QWidget* plotWidget(QWidget* view)
{
    for (QWidget* w : view->findChildren<QWidget*>())
        if (QString::fromLatin1(w->metaObject()->className()) == QLatin1String("QCustomPlot"))
            return w;
    return nullptr;
}

} // namespace

class TestGuiExplain : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session;
    const QString m_tensor = QStringLiteral("model.layers.1.mlp.down_proj.weight");

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("MPQ_WORKBENCH_HOME", m_dir.filePath(QStringLiteral("home")).toLocal8Bit());
        QStandardPaths::setTestModeEnabled(true);
        const std::string model = mpq::test::writeTinySyntheticModel(m_dir.filePath(QStringLiteral("model"))).toStdString();
        m_session = m_dir.filePath(QStringLiteral("s.h5"));
        QuantizeParams p;
        p.model = model;
        p.calibTokens = syntheticCalibrationFile(model);
        p.session = m_session.toStdString();
        p.runName = "mg";
        p.allocator = "mgptq-gcn";
        p.mgptq.targetBits = 3.0;
        p.mgptq.epochs = 10;
        JobContext ctx;
        quantizeModel(p, ctx);
    }

    void clickingAColumnEmitsIt()
    {
        BitMapView view;
        view.resize(900, 500);
        const session::Session s = session::Session::open(m_session.toStdString());
        std::vector<MatrixResult> ms;
        for (const auto& t : {std::string("model.layers.0.self_attn.q_proj.weight"), m_tensor.toStdString()}) {
            const auto d = s.matrix("mg", t);
            MatrixResult m;
            m.tensor = QString::fromStdString(t);
            m.cols = d.summary.cols;
            m.rows = d.summary.rows;
            m.columnBits = d.columnBits;
            ms.push_back(m);
        }
        view.setMatrices(ms, QStringLiteral("mg"));
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.replotNow();
        QSignalSpy spy(&view, &BitMapView::columnClicked);
        QWidget* plot = plotWidget(&view);
        QVERIFY(plot);
        // Both rows, columns at the start, middle and end (every column is its own cell here).
        for (auto [row, column] : {std::pair<int, qint64>{0, 0}, {1, 40}, {1, 63}}) {
            const QPoint at = view.pixelOf(row, column);
            QCOMPARE(view.cellAt(at), (QPair<int, qint64>(row, column)));
            QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, at);
            QCOMPARE(spy.size(), 1);
            QCOMPARE(spy.takeFirst(), (QList<QVariant>{ms[size_t(row)].tensor, column}));
        }
        // Outside the map: no column.
        QCOMPARE(view.cellAt(QPoint(1, 1)).first, -1);
    }

    void explainerNewestWins()
    {
        ColumnExplainer ex;
        QThread thread;
        ex.moveToThread(&thread);
        QSignalSpy done(&ex, &ColumnExplainer::explained);
        QSignalSpy failed(&ex, &ColumnExplainer::failed);
        // Queued before the thread runs: only the last of the three is computed.
        ex.request(m_session, QStringLiteral("mg"), m_tensor, 1);
        ex.request(m_session, QStringLiteral("mg"), m_tensor, 2);
        const quint64 last = ex.request(m_session, QStringLiteral("mg"), m_tensor, 3);
        thread.start();
        // The spies record on the worker's thread: a signal may land before a wait() would start.
        QTRY_COMPARE_WITH_TIMEOUT(done.size(), 1, 20000);
        QTest::qWait(100);
        QCOMPARE(done.size(), 1);
        QCOMPARE(done.at(0).at(0).toULongLong(), last);
        QCOMPARE(done.at(0).at(1).value<session::ColumnExplanation>().column, int64_t(3));
        ex.request(m_session, QStringLiteral("mg"), m_tensor, 64);
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 20000);
        QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("column 64")));
        thread.quit();
        thread.wait();
    }

    void viewShowsTheFigures()
    {
        const auto e = session::explainColumn(m_session.toStdString(), "mg", m_tensor.toStdString(), 7);
        ExplainView v;
        v.setExplanation(e);
        const QString t = v.text();
        QVERIFY(t.contains(QStringLiteral("Column 7")));
        QVERIFY(t.contains(QStringLiteral("down_proj")));
        QVERIFY(t.contains(QString::number(e.hessianDiagonal, 'g', 4)));
        QVERIFY(t.contains(QStringLiteral("rank %1 of 64").arg(e.hessianRank)));
        for (const auto& w : e.widths) {
            QVERIFY(t.contains(QString::number(w.probability, 'f', 3)));
            QVERIFY(t.contains(QString::number(w.predictedError, 'g', 4)));
        }
        QVERIFY(t.contains(QStringLiteral("Hessian-greedy baseline")));
        QVERIFY(t.contains(QString::number(e.neighbours.front().weight, 'f', 4)));
        QVERIFY(!t.contains(QStringLiteral("MXQ configurations"))); // not an MXQ run
    }

    void clickInTheMainWindowFillsTheDock()
    {
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(w.openPath(m_session));
        w.showRun(QStringLiteral("mg"));
        auto* dock = w.findChild<QDockWidget*>(QStringLiteral("explain"));
        QVERIFY(dock);
        QVERIFY(!dock->isVisible());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy spy(w.explainer(), &ColumnExplainer::explained);
        BitMapView* map = w.bitMapView();
        map->replotNow();
        const int row = int(map->tensors().indexOf(m_tensor));
        QVERIFY(row >= 0);
        QWidget* plot = plotWidget(map);
        map->setRowRange(row - 0.5, row + 0.5);
        map->setColumnRange(-0.5, 63.5);
        map->replotNow();
        QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, map->pixelOf(row, 21));
        QVERIFY(dock->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(w.explainView()->text().contains(QStringLiteral("Column 21")), 20000);
        QVERIFY2(w.explainView()->text().contains(QStringLiteral("Column 21")), qPrintable(w.explainView()->text()));
        QVERIFY(w.explainView()->text().contains(QStringLiteral("run mg")));
        QCOMPARE(map->selectedTensor(), m_tensor); // the click also selected the matrix

        // Override from the dock: Shift+click extends the range to column 30, 8 bits, a new run.
        QTest::mouseClick(plot, Qt::LeftButton, Qt::ShiftModifier, map->pixelOf(row, 30));
        ExplainView* v = w.explainView();
        v->setOverrideBits(8);
        const auto spec = OverrideSpec::fromJson(v->overrideJson().toStdString(), "form");
        QCOMPARE(spec.base, std::string("mg"));
        QCOMPARE(spec.entries.at(0).firstColumn, int64_t(21));
        QCOMPARE(spec.entries.at(0).lastColumn, int64_t(30));
        QCOMPARE(spec.entries.at(0).bits, 8);
        QSignalSpy finished(w.runner(), &JobRunner::runFinished);
        QVERIFY(v->overrideButton()->isEnabled());
        QTest::mouseClick(v->overrideButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 120000);
        QTRY_COMPARE_WITH_TIMEOUT(w.currentRun(), QStringLiteral("mg-override"), 10000); // shown when done
        const session::Session s = session::Session::open(m_session.toStdString());
        const auto base = s.matrix("mg", m_tensor.toStdString()).columnBits;
        const auto bits = s.matrix("mg-override", m_tensor.toStdString()).columnBits;
        for (size_t j = 0; j < bits.size(); ++j)
            QCOMPARE(int(bits[j]), j >= 21 && j <= 30 ? 8 : int(base[j]));
        QVERIFY(s.run("mg-override").settingsJson.find("\"override\"") != std::string::npos);
    }

    void teachTabPlaysTheSelectedMatrix()
    {
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(w.openPath(m_session));
        w.showRun(QStringLiteral("mg"));
        w.selectTensor(m_tensor);
        QVERIFY(!w.teachView()->hasTrace()); // built when the tab is shown
        w.tabs()->setCurrentWidget(w.teachView());
        QVERIFY(w.teachView()->hasTrace());
        QVERIFY(w.teachView()->caption().contains(QStringLiteral("layer 1 · down_proj of mg")));
        QCOMPARE(w.teachView()->steps(), 64 + 3); // 64 columns in blocks of 16
        w.selectTensor(QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
        QCOMPARE(w.teachView()->steps(), 32 + 1);
        // MG-PTQ's tab replays the run's allocator on the selected matrix.
        w.tabs()->setCurrentWidget(w.teachMgptqView());
        QVERIFY(w.teachMgptqView()->hasTrace());
        QVERIFY(w.teachMgptqView()->caption().contains(QStringLiteral("layer 0 · q_proj of mg")));
        QCOMPARE(w.teachMgptqView()->frames(), 10); // every one of the run's 10 epochs
    }

    void overrideFormScopes()
    {
        const auto e = session::explainColumn(m_session.toStdString(), "mg", m_tensor.toStdString(), 5);
        ExplainView v;
        QVERIFY(v.overrideJson().isEmpty()); // nothing explained yet
        QVERIFY(!v.overrideButton()->isEnabled() || !v.overrideButton()->parentWidget()->isEnabled());
        v.setExplanation(e);
        v.setOverrideScope(ExplainView::Scope::Layer);
        v.setOverrideBits(4);
        auto spec = OverrideSpec::fromJson(v.overrideJson().toStdString(), "form");
        QCOMPARE(spec.entries.at(0).layer, int64_t(1));
        QVERIFY(spec.entries.at(0).tensor.empty());
        QCOMPARE(v.overrideDescription(), QStringLiteral("decoder layer 1 to 4 bits"));
        v.setOverrideScope(ExplainView::Scope::Matrix);
        spec = OverrideSpec::fromJson(v.overrideJson().toStdString(), "form");
        QCOMPARE(spec.entries.at(0).tensor, m_tensor.toStdString());
        QCOMPARE(spec.entries.at(0).firstColumn, int64_t(-1));
        v.extendColumns(m_tensor, 2); // Shift+click before the clicked column: range 2–5
        spec = OverrideSpec::fromJson(v.overrideJson().toStdString(), "form");
        QCOMPARE(spec.entries.at(0).firstColumn, int64_t(2));
        QCOMPARE(spec.entries.at(0).lastColumn, int64_t(5));
        v.extendColumns(QStringLiteral("another.weight"), 40); // another matrix: ignored
        QCOMPARE(OverrideSpec::fromJson(v.overrideJson().toStdString(), "form").entries.at(0).lastColumn, int64_t(5));
    }
};

QTEST_MAIN(TestGuiExplain)
#include "tst_guiexplain.moc"
