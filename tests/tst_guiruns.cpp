// Issue 21 at the main window (offscreen): a workspace is a session (Recent lists sessions, an
// empty workspace and the demo leave no empty folders, a model opened again while a job runs stays
// in that job's session, Save as before any job does not pretend), the run menu's jobs (evaluate,
// export in every format, resume, rename, delete), truthful labels (cancelled runs, the resume
// hint, the Hessian caption during a run, a live MXQ solution and reselecting a run), actions
// disabled without a model, no Esc cancel, and the run dialog's memory.
#include "BitMapView.h"
#include "HessianGraphView.h"
#include "JobRunner.h"
#include "MainWindow.h"
#include "RunDialog.h"
#include "alloc/mgptq/MgptqOptions.h"

#include "session/Session.h"

#include "TestData.h"
#include "demo/SyntheticModel.h"

#include <QAction>
#include <QComboBox>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <atomic>

using namespace mpq::gui;

namespace {

QString logText(const MainWindow& w)
{
    auto* log = w.findChild<QPlainTextEdit*>();
    return log ? log->toPlainText() : QString();
}

QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
}

JobRequest gptq(const QString& model, std::vector<double> bits)
{
    JobRequest r;
    r.method = QStringLiteral("gptq");
    r.values = std::move(bits);
    r.params.model = model.toStdString();
    r.params.calibTokens = mpq::syntheticCalibrationFile(model.toStdString());
    return r;
}

QAction* findAction(QMenu* menu, const QString& startsWith)
{
    for (QAction* a : menu->actions()) {
        if (a->text().remove(QLatin1Char('&')).startsWith(startsWith))
            return a;
        if (a->menu())
            if (QAction* inner = findAction(a->menu(), startsWith))
                return inner;
    }
    return nullptr;
}

} // namespace

class TestGuiRuns : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        QVERIFY(m_config.isValid());
        qputenv("MPQ_WORKBENCH_HOME", m_home.filePath(QStringLiteral("workspaces")).toLocal8Bit());
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("mpq-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guiruns"));
        QSettings().clear();
        m_model = mpq::test::writeTinySyntheticModel(m_home.filePath(QStringLiteral("synthetic")));
        m_otherModel = mpq::test::writeTinySyntheticModel(m_home.filePath(QStringLiteral("synthetic-2")));
    }
    void actionsNeedAModelAndEscDoesNotCancel()
    {
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(!w.canQuantize());
        QAction* quantize = nullptr;
        QAction* newSession = nullptr;
        for (QAction* a : w.findChildren<QAction*>()) {
            QVERIFY2(a->shortcut() != QKeySequence(Qt::Key_Escape), qPrintable(a->text()));
            if (a->text().startsWith(QLatin1String("&Quantize")))
                quantize = a;
            if (a->text().startsWith(QLatin1String("&New session")))
                newSession = a;
        }
        QVERIFY(quantize && newSession);
        QVERIFY(!quantize->isEnabled());
        QVERIFY(!newSession->isEnabled());
        QVERIFY(w.openPath(m_model));
        QVERIFY(quantize->isEnabled());
        QVERIFY(newSession->isEnabled());
    }
    void emptyWorkspaceLeavesNothingAndSaveAsDoesNotPretend()
    {
        const QString root = m_home.filePath(QStringLiteral("workspaces"));
        {
            MainWindow w;
            w.setInteractive(false);
            QVERIFY(w.openPath(m_model));
            QVERIFY(!QFileInfo::exists(w.sessionPath()));
            // Save as before any job: nothing is written, nothing goes into Recent.
            const QString target = m_home.filePath(QStringLiteral("early.h5"));
            QVERIFY(w.saveSessionAs(target));
            QCOMPARE(w.sessionPath(), target);
            QVERIFY(!QFileInfo::exists(target));
            QVERIFY(!MainWindow::recentSessions().contains(target));
            QVERIFY(!logText(w).contains(QLatin1String("saved as")));
            QVERIFY(logText(w).contains(QLatin1String("nothing saved yet")));
        }
        QVERIFY2(entries(root).isEmpty(), qPrintable(entries(root).join(QLatin1Char(' '))));
        QVERIFY(MainWindow::recentSessions().isEmpty());
    }
    // The demo runs end to end on the embedded model with no MPQ_DATA_DIR (the GUI path of
    // loading, calibration, GPTQ, MG-PTQ, evaluation and the session): every run complete and
    // evaluated on the demo text, no synthetic model written.
    void demoRunsOnTheEmbeddedModel()
    {
        MPQ_DEMO_MODEL(demo);
        const QByteArray data = qgetenv("MPQ_DATA_DIR");
        qunsetenv("MPQ_DATA_DIR");
        const QString root = m_home.filePath(QStringLiteral("workspaces"));
        MainWindow w;
        w.setInteractive(false);
        QSignalSpy idle(&w, &MainWindow::idle);
        w.startDemo();
        QCOMPARE(w.workbench().model, QString::fromStdString(demo.dir));
        QVERIFY(w.windowTitle().contains(QLatin1String("embedded demo")));
        QVERIFY(idle.wait(600000));
        if (!data.isEmpty())
            qputenv("MPQ_DATA_DIR", data);
        QVERIFY2(w.lastError().isEmpty(), qPrintable(w.lastError()));
        for (const QString& e : entries(root))
            QVERIFY2(!e.startsWith(QLatin1String("synthetic")), qPrintable(e));
        QStringList names;
        for (const auto& r : w.workbench().runs) {
            names << r.name;
            QCOMPARE(r.status, QStringLiteral("complete"));
            QCOMPARE(r.perplexity.size(), 1);
            const double ppl = r.perplexity.first();
            // The reference is the figure of docs/packaging.md; quantized runs cost a little.
            QVERIFY2(ppl > 1.37 && ppl < 2.0, qPrintable(QStringLiteral("%1: %2").arg(r.name).arg(ppl)));
        }
        QCOMPARE(names.size(), 4); // gptq 4 and 3 bits, mgptq 3 and 2.5 target bits (the reference is no run)
        QVERIFY2(logText(w).contains(QStringLiteral("— on cpu")), qPrintable(logText(w)));
    }
    void sessionWorkflowAndRunMenu()
    {
        MainWindow w;
        w.setInteractive(false);
        w.resize(1280, 800);
        w.show();
        QVERIFY(w.openPath(m_model));
        const QString session = w.sessionPath();
        QSignalSpy idle(&w, &MainWindow::idle);

        // A two-point job, cancelled in the second point's first layers.
        std::atomic<bool> cancelled{false};
        QString hessianCaption;
        const auto conn = connect(&w, &MainWindow::layerShown, this, [&](const QString& run) {
            if (hessianCaption.isEmpty()) {
                // The Hessian view during a run that writes a session: from the session.
                w.selectTensor(w.workbench().run(run)->matrices.front().tensor);
                hessianCaption = qobject_cast<PlotView*>(w.tabs()->widget(2))->caption();
                // The model opened again while the job runs: the same session stays.
                QVERIFY(w.openPath(m_model));
                QCOMPARE(w.sessionPath(), session);
                QVERIFY(!w.openPath(m_otherModel)); // another model waits for the job
                QVERIFY(w.lastError().contains(QLatin1String("Wait for the running job")));
            }
        });
        // Cancelled on the worker thread as soon as the 2-bit point's first layer is stored, so
        // that the point stops before its second layer.
        JobRunner* runner = w.runner();
        const auto cancelConn = connect(runner, &JobRunner::layerReady, runner, [runner, &cancelled](const QString& run) {
            if (run == QLatin1String("gptq-2bit") && !cancelled.exchange(true)) {
                runner->cancel();
            }
        }, Qt::DirectConnection);
        w.enqueue(gptq(m_model, {4, 2}));
        QVERIFY(idle.wait(120000));
        disconnect(conn);
        disconnect(cancelConn);
        QVERIFY(cancelled);
        QVERIFY2(hessianCaption.contains(QLatin1String("strongest edges")), qPrintable(hessianCaption));
        // The session is in Recent once written.
        QCOMPARE(MainWindow::recentSessions().value(0), session);
        // The cancelled run says so, and the hint names it.
        const RunData* two = w.workbench().run(QStringLiteral("gptq-2bit"));
        QVERIFY(two);
        QCOMPARE(two->status, QStringLiteral("cancelled"));
        w.showRun(QStringLiteral("gptq-2bit"));
        QVERIFY2(!w.bitMapView()->caption().contains(QLatin1String("running")), qPrintable(w.bitMapView()->caption()));
        QVERIFY(w.bitMapView()->caption().contains(QLatin1String("cancelled")));
        QVERIFY2(logText(w).contains(QStringLiteral("--resume %1#gptq-2bit").arg(session)), qPrintable(logText(w)));
        QVERIFY(!logText(w).contains(QLatin1String("#RUN")));

        // The run menu: every action, one export per format.
        std::unique_ptr<QMenu> menu(w.runMenu(QStringLiteral("gptq-2bit"), &w));
        for (const char* a : {"Evaluate", "Resume", "Rename", "Delete"})
            QVERIFY2(findAction(menu.get(), QString::fromLatin1(a)), a);
        QVERIFY(findAction(menu.get(), QStringLiteral("Resume"))->isEnabled());
        QVERIFY(!findAction(menu.get(), QStringLiteral("Evaluate"))->isEnabled()); // synthetic: no tokenizer
        const QStringList formats = MainWindow::exportFormats();
        for (const char* f : {"hf", "gptq", "mpq-packed"})
            QVERIFY(formats.contains(QString::fromLatin1(f)));
        int exportActions = 0;
        for (QAction* a : menu->actions())
            if (a->menu())
                exportActions += int(a->menu()->actions().size());
        QCOMPARE(exportActions, int(formats.size()));
        QVERIFY(!w.evaluateRun(QStringLiteral("gptq-4bit")));
        QVERIFY(w.lastError().contains(QLatin1String("tokenizer")));

        // Resume: the cancelled run completes.
        QVERIFY(w.resumeRun(QStringLiteral("gptq-2bit")));
        QVERIFY(idle.wait(120000));
        QVERIFY2(w.workbench().run(QStringLiteral("gptq-2bit"))->complete, qPrintable(w.lastError()));
        QCOMPARE(w.workbench().run(QStringLiteral("gptq-2bit"))->matrices.size(), size_t(14));
        QVERIFY(!w.resumeRun(QStringLiteral("gptq-2bit"))); // complete now

        // Export in every format the engine offers for a uniform run (GPTQ's packing included).
        for (const QString& f : formats) {
            const QString dir = m_home.filePath(QStringLiteral("export-") + f);
            QVERIFY(w.exportRun(QStringLiteral("gptq-4bit"), f, dir));
            QVERIFY(idle.wait(120000));
            // GGUF is one file (llama.cpp's format); the others are folders.
            const bool written = f == QLatin1String("gguf") ? QFileInfo(dir).isFile() && QFileInfo(dir).size() > 0
                                                            : QFileInfo(dir).isDir() && !entries(dir).isEmpty();
            QVERIFY2(written, qPrintable(f + QStringLiteral(": ") + w.lastError()));
        }

        // Rename: the run, its evaluation and the run list follow.
        mpq::session::Evaluation e;
        e.run = "gptq-4bit";
        e.model = (session + QStringLiteral("#gptq-4bit")).toStdString();
        e.dataset = "wikitext2";
        e.perplexity = 42;
        mpq::session::addEvaluation(session.toStdString(), e);
        w.showRun(QStringLiteral("gptq-4bit"));
        QVERIFY(w.renameRun(QStringLiteral("gptq-4bit"), QStringLiteral("four-bits")));
        QVERIFY(idle.wait(60000));
        QVERIFY2(w.workbench().run(QStringLiteral("four-bits")), qPrintable(w.lastError()));
        QVERIFY(!w.workbench().run(QStringLiteral("gptq-4bit")));
        QCOMPARE(w.currentRun(), QStringLiteral("four-bits"));
        QCOMPARE(w.workbench().run(QStringLiteral("four-bits"))->perplexity.value(QStringLiteral("wikitext2")), 42.0);
        {
            const mpq::session::Session s = mpq::session::Session::open(session.toStdString());
            QCOMPARE(s.evaluations().back().run, std::string("four-bits"));
            QCOMPARE(s.evaluations().back().model, (session + QStringLiteral("#four-bits")).toStdString());
        }
        QVERIFY(!w.renameRun(QStringLiteral("four-bits"), QStringLiteral("bad name")));

        // Delete: gone from the window and the file.
        QVERIFY(w.deleteRun(QStringLiteral("gptq-2bit")));
        QVERIFY(idle.wait(60000));
        QVERIFY(!w.workbench().run(QStringLiteral("gptq-2bit")));
        QCOMPARE(mpq::session::Session::open(session.toStdString()).runs().size(), size_t(1));

        // A live MXQ solution takes the maps; picking the run in the run list shows it again.
        MxqResolved live;
        live.generation = w.resolver()->latest();
        live.budget = 3.5;
        live.bitsPerParameter = 3.49;
        live.status = QStringLiteral("optimal");
        live.matrices = w.workbench().run(QStringLiteral("four-bits"))->matrices;
        for (auto& m : live.matrices)
            std::fill(m.columnBits.begin(), m.columnBits.end(), uint8_t(3));
        w.showResolved(live);
        auto* runBox = w.findChild<QComboBox*>(QStringLiteral("runBox"));
        QVERIFY(runBox);
        QCOMPARE(runBox->currentIndex(), -1);
        QVERIFY(w.bitMapView()->caption().contains(QLatin1String("live")));
        QVERIFY(w.sideBitMapView()->caption().contains(QLatin1String("live")));
        const int i = runBox->findText(QStringLiteral("four-bits"));
        QVERIFY(i >= 0);
        runBox->setCurrentIndex(i);
        Q_EMIT runBox->activated(i);
        QVERIFY2(w.bitMapView()->caption().startsWith(QLatin1String("[SYNTHETIC model] four-bits")), qPrintable(w.bitMapView()->caption()));
        QVERIFY(!w.sideBitMapView()->caption().contains(QLatin1String("live")));
    }
    void runDialogRemembersItsSettings()
    {
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(w.openPath(m_model));
        QString seen;
        const auto drive = [&](bool change) {
            QTimer::singleShot(50, [&, change] {
                auto* dialog = qobject_cast<RunDialog*>(QApplication::activeModalWidget());
                QVERIFY(dialog);
                QLineEdit* values = nullptr;
                for (QLineEdit* e : dialog->findChildren<QLineEdit*>())
                    if (e->toolTip().contains(QLatin1String("comma-separated")))
                        values = e;
                QVERIFY(values);
                seen = values->text();
                if (change) {
                    values->setText(QStringLiteral("3,2"));
                    dialog->accept();
                } else {
                    dialog->reject();
                }
            });
        };
        QSignalSpy idle(&w, &MainWindow::idle);
        drive(true);
        QMetaObject::invokeMethod(&w, [&] {
            for (QAction* a : w.findChildren<QAction*>())
                if (a->text().startsWith(QLatin1String("&Quantize")))
                    a->trigger();
        });
        QTRY_VERIFY_WITH_TIMEOUT(w.isBusy() || idle.count() > 0, 10000);
        w.cancelJobs();
        QVERIFY(w.isBusy() ? idle.wait(60000) : true);
        drive(false);
        for (QAction* a : w.findChildren<QAction*>())
            if (a->text().startsWith(QLatin1String("&Quantize")))
                a->trigger();
        QCOMPARE(seen, QStringLiteral("3,2"));
    }

    // MXQ's cost in the dialog: auto by default, each kind selectable, kept with the settings.
    void runDialogOffersMxqCosts()
    {
        RunDialog dialog;
        dialog.preset(QStringLiteral("mxq"), {3.5});
        QComboBox* cost = nullptr;
        for (QComboBox* b : dialog.findChildren<QComboBox*>())
            if (b->findData(QStringLiteral("probed")) >= 0)
                cost = b;
        QVERIFY(cost);
        QCOMPARE(cost->currentData().toString(), QStringLiteral("auto"));
        for (const char* kind : {"fnorm", "relative", "relative-mse", "hessian", "relative-hessian", "sensitivity"})
            QVERIFY2(cost->findData(QString::fromLatin1(kind)) >= 0, kind);
        QString error;
        std::optional<JobRequest> r = dialog.request(m_model, QString(), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->mxqCost, QStringLiteral("auto"));
        cost->setCurrentIndex(cost->findData(QStringLiteral("fnorm")));
        r = dialog.request(m_model, QString(), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->mxqCost, QStringLiteral("fnorm"));
        RunDialog again;
        again.restoreState(dialog.state());
        QCOMPARE(again.request(m_model, QString(), &error)->mxqCost, QStringLiteral("fnorm"));
        if (!qEnvironmentVariableIsEmpty("MPQ_SCREENSHOT_DIR")) { // for a person to look at
            dialog.show();
            QVERIFY(QTest::qWaitForWindowExposed(&dialog));
            dialog.grab().save(QDir(qEnvironmentVariable("MPQ_SCREENSHOT_DIR")).filePath("run-dialog-mxq.png"));
        }
    }

    // MG-PTQ's epochs in the dialog: "auto" (0, the mode's default: mgptqEpochs) unless set.
    void runDialogShowsAutoEpochs()
    {
        RunDialog dialog;
        dialog.preset(QStringLiteral("mgptq"), {2.5});
        QSpinBox* epochs = nullptr;
        for (QSpinBox* b : dialog.findChildren<QSpinBox*>())
            if (b->specialValueText() == QStringLiteral("auto"))
                epochs = b;
        QVERIFY(epochs);
        QCOMPARE(epochs->value(), 0);
        QCOMPARE(epochs->text(), QStringLiteral("auto"));
        QString error;
        std::optional<JobRequest> r = dialog.request(m_model, QString(), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->params.mgptq.epochs, 0);
        QCOMPARE(mpq::mgptqEpochs(r->params.mgptq), r->params.mgptq.targetBits ? mpq::kMgptqRelaxedEpochs : mpq::kMgptqEpochs);
        epochs->setValue(120);
        r = dialog.request(m_model, QString(), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->params.mgptq.epochs, 120);
        QCOMPARE(mpq::mgptqEpochs(r->params.mgptq), 120);
        epochs->setValue(0);
        if (!qEnvironmentVariableIsEmpty("MPQ_SCREENSHOT_DIR")) { // for a person to look at
            dialog.show();
            QVERIFY(QTest::qWaitForWindowExposed(&dialog));
            dialog.grab().save(QDir(qEnvironmentVariable("MPQ_SCREENSHOT_DIR")).filePath("run-dialog-mgptq.png"));
        }
    }

private:
    QTemporaryDir m_home;
    QTemporaryDir m_config;
    QString m_model;
    QString m_otherModel;
};

QTEST_MAIN(TestGuiRuns)
#include "tst_guiruns.moc"
