// Issue 19, teaching mode: Help ▸ Guided tour runs the demo when nothing is open, then walks its
// eight stops, each switching the window to what it explains. Offscreen.
#include "BitMapView.h"
#include "CompareView.h"
#include "ExplainView.h"
#include "GptqTeachView.h"
#include "GuidedTour.h"
#include "MainWindow.h"
#include "MgptqTeachView.h"
#include "MxqTeachView.h"

#include <QAction>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QMenu>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpq::gui;

class TestGuiTour : public QObject {
    Q_OBJECT
    QTemporaryDir m_home;
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        qputenv("MPQ_WORKBENCH_HOME", m_home.filePath(QStringLiteral("ws")).toLocal8Bit());
        QStandardPaths::setTestModeEnabled(true);
    }

    void tourOnTheDemo()
    {
        MainWindow w;
        w.setInteractive(false);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* help = w.findChild<QMenu*>(QStringLiteral("helpMenu"));
        QAction* action = nullptr;
        for (QAction* a : help->actions())
            if (a->objectName() == QLatin1String("guidedTourAction"))
                action = a;
        QVERIFY(action);
        action->trigger();
        GuidedTour* tour = w.guidedTour();
        QVERIFY(tour->isVisible());
        QVERIFY(tour->waiting()); // nothing open: the demo runs first
        QVERIFY(tour->text().contains(QStringLiteral("demo")));
        QElapsedTimer clock;
        clock.start();
        QTRY_VERIFY_WITH_TIMEOUT(!tour->waiting(), 300000);
        qInfo("demo before the first stop: %.1f s", double(clock.elapsed()) / 1000);
        QCOMPARE(tour->stops(), 8);
        QCOMPARE(tour->stop(), 0);
        QVERIFY(w.currentRun().startsWith(QStringLiteral("mgptq")));
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.bitMapView()));

        tour->setStop(1); // Explain: the dock opens and fills
        QVERIFY(w.findChild<QDockWidget*>(QStringLiteral("explain"))->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(w.explainView()->text().contains(QStringLiteral("Column")), 30000);
        tour->setStop(3); // GPTQ played on a GPTQ run
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.teachView()));
        QVERIFY(w.currentRun().startsWith(QStringLiteral("gptq")));
        QVERIFY(w.teachView()->hasTrace());
        QVERIFY(w.teachView()->playing());
        tour->setStop(4); // MG-PTQ's allocator
        QVERIFY(!w.teachView()->playing());
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.teachMgptqView()));
        QVERIFY(w.teachMgptqView()->hasTrace());
        QVERIFY(w.teachMgptqView()->playing());
        tour->setStop(5); // MXQ: the demo has no MXQ run, the tab says how to make one
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.teachMxqView()));
        QVERIFY(!w.teachMxqView()->hasRun());
        tour->setStop(7);
        QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.compareView()));
        QVERIFY(tour->title().contains(QStringLiteral("8 of 8")));
        tour->setStop(99);
        QCOMPARE(tour->stop(), 7);
    }
};

QTEST_MAIN(TestGuiTour)
#include "tst_guitour.moc"
