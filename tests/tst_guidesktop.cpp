// Issue 19, desktop conventions: the Help menu (user guide, shortcuts, About), the window and
// dock layout saved and restored, the dark theme, the Compare runs tab and opening a synthetic
// 7B-shaped workspace in the main window. Offscreen, settings in Qt's test location.
#include "BitMapView.h"
#include "CompareView.h"
#include "HelpMenu.h"
#include "MainWindow.h"
#include "PlotView.h"
#include "SyntheticRuns.h"
#include "Theme.h"
#include "WindowState.h"

#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpq::gui;

class TestGuiDesktop : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        qputenv("MPQ_WORKBENCH_HOME", m_home.filePath(QStringLiteral("workspaces")).toLocal8Bit());
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("mpq-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guidesktop"));
        QCoreApplication::setApplicationVersion(QStringLiteral("9.9.9"));
        QSettings().clear();
    }

    void helpMenuHasGuideShortcutsAndAbout()
    {
        MainWindow w;
        w.setInteractive(false);
        QMenu* help = w.findChild<QMenu*>(QStringLiteral("helpMenu"));
        QVERIFY(help);
        QCOMPARE(w.menuBar()->actions().last()->menu(), help);
        QStringList names;
        for (QAction* a : help->actions())
            names << a->objectName();
        QVERIFY(names.contains(QStringLiteral("userGuideAction")));
        QVERIFY(names.contains(QStringLiteral("shortcutsAction")));
        QVERIFY(names.contains(QStringLiteral("aboutAction")));
        // The shortcuts list names the menus' shortcuts and the views' keys.
        const QList<HelpMenu::Shortcut> list = HelpMenu::shortcuts(&w);
        bool quantize = false, find = false, keysUpDown = false;
        for (const HelpMenu::Shortcut& s : list) {
            quantize = quantize || (s.what.startsWith(QStringLiteral("Quantize")) && s.keys == QKeySequence(Qt::CTRL | Qt::Key_R).toString(QKeySequence::NativeText));
            find = find || s.what.startsWith(QStringLiteral("find a tensor"));
            keysUpDown = keysUpDown || s.keys == QStringLiteral("Up / Down");
        }
        QVERIFY(quantize && find && keysUpDown);
        QWidget* dialog = HelpMenu::shortcutsDialog(&w);
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("shortcutsTable"));
        QVERIFY(table);
        QCOMPARE(table->rowCount(), int(list.size()));
        delete dialog;
        // The user guide is found (the source tree's docs/gui.md in a build tree).
        const QUrl guide = HelpMenu::documentationUrl();
        QVERIFY(guide.isLocalFile());
        QVERIFY(guide.toLocalFile().endsWith(QStringLiteral("docs/gui.md")));
        QVERIFY(HelpMenu::aboutText().contains(QStringLiteral("9.9.9")));
        QVERIFY(HelpMenu::aboutText().contains(QStringLiteral("General Public License")));
    }

    void windowAndDockLayoutAreRestored()
    {
        QByteArray saved;
        {
            MainWindow w;
            w.setInteractive(false);
            w.resize(1100, 700);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            auto* log = w.findChild<QDockWidget*>(QStringLiteral("log"));
            QVERIFY(log);
            log->hide();
            WindowState::save(&w);
            saved = QSettings().value(QStringLiteral("window/state")).toByteArray();
        }
        QVERIFY(!saved.isEmpty());
        MainWindow w;
        w.setInteractive(false);
        w.show();
        auto* log = w.findChild<QDockWidget*>(QStringLiteral("log"));
        QVERIFY(log->isVisible()); // a batch window does not restore
        QVERIFY(WindowState::restore(&w));
        QVERIFY(!log->isVisible());
        // An interactive window restores on its first show.
        MainWindow w2;
        w2.setInteractive(true);
        w2.show();
        QVERIFY(!w2.findChild<QDockWidget*>(QStringLiteral("log"))->isVisible());
        // A layout of another version is ignored.
        QSettings().setValue(QStringLiteral("window/state"), QByteArray("garbage"));
        MainWindow w3;
        QVERIFY(!WindowState::restore(&w3));
    }

    void darkThemeIsDarkAndChosenFromTheEnvironment()
    {
        QVERIFY(PlotView::isDark(Theme::dark()));
        qputenv("MPQ_WORKBENCH_THEME", "dark");
        QCOMPARE(Theme::fromEnvironment(), Theme::Choice::Dark);
        qputenv("MPQ_WORKBENCH_THEME", "light");
        QCOMPARE(Theme::fromEnvironment(), Theme::Choice::Light);
        qunsetenv("MPQ_WORKBENCH_THEME");
        const QPalette before = QApplication::palette();
        Theme::apply(Theme::Choice::Dark);
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(PlotView::isDark(w.bitMapView()->palette()));
        QApplication::setPalette(before);
    }

    void compareTabOpensASevenBShapedWorkspace()
    {
        QTemporaryDir dir;
        const QString session = SyntheticRuns::writeWorkspace(SyntheticRuns::llama7b(), dir.filePath(QStringLiteral("7b")));
        MainWindow w;
        w.setInteractive(false);
        w.resize(1280, 800);
        w.show();
        QVERIFY2(w.openPath(session), qPrintable(w.lastError()));
        QCOMPARE(w.workbench().runs.size(), size_t(5));
        QCOMPARE(w.tabs()->tabText(w.tabs()->indexOf(w.compareView())), QStringLiteral("Compare runs"));
        QCOMPARE(w.compareView()->pool().size(), size_t(5));
        QCOMPARE(w.compareView()->picked().size(), 2);
        QCOMPARE(w.bitMapView()->tensors().size(), 224);
        // A matrix chosen in the comparison is selected in the main views too.
        w.compareView()->selectTensor(QStringLiteral("model.layers.5.mlp.up_proj.weight"));
        QCOMPARE(w.bitMapView()->selectedTensor(), QStringLiteral("model.layers.5.mlp.up_proj.weight"));
    }

private:
    QTemporaryDir m_home;
};

QTEST_MAIN(TestGuiDesktop)
#include "tst_guidesktop.moc"
