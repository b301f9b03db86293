// Smoke test of the main window on the offscreen platform: bad input (incl. a file that is no
// session) gives a readable error (no crash), a synthetic model quantizes through the worker thread
// into the HDF5 session, the maps and the Hessian graph fill in, save-as / new session, reopen.
#include "BitMapView.h"
#include "DemoPlan.h"
#include "JobRunner.h"
#include "MainWindow.h"
#include "MxqResolver.h"
#include "MxqFixtures.h"
#include "SliderBench.h"
#include "TradeoffView.h"

#include "core/Device.h"
#include "core/Version.h"
#include "session/Session.h"

#include "TestData.h"
#include "demo/SyntheticModel.h"

#include <QComboBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpq::gui;

class TestGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        qputenv("MPQ_WORKBENCH_HOME", m_home.path().toLocal8Bit());
    }
    void badInputShowsErrors()
    {
        MainWindow w;
        w.setInteractive(false);
        QVERIFY(!w.openPath(m_home.filePath(QStringLiteral("missing-model"))));
        QVERIFY(w.lastError().contains(QLatin1String("does not exist")));
        const QString corrupt = m_home.filePath(QStringLiteral("corrupt.mpqwb"));
        QFile f(corrupt);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"format\":\"mpq-workbench\",\"version\":1,\"runs\":[");
        f.close();
        QVERIFY(!w.openPath(corrupt));
        QVERIFY(w.lastError().contains(QLatin1String("not a workbench session")));
        const QString notModel = m_home.filePath(QStringLiteral("empty-folder"));
        QDir().mkpath(notModel);
        QVERIFY(!w.openPath(notModel));
        QVERIFY(!w.lastError().isEmpty());
        // A file that is no session: the engine's message, not a crash.
        const QString notSession = m_home.filePath(QStringLiteral("garbage.h5"));
        QFile g(notSession);
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write(QByteArray(2048, 'x'));
        g.close();
        QVERIFY(!w.openPath(notSession));
        QVERIFY2(w.lastError().contains(QLatin1String("not HDF5 at all")), qPrintable(w.lastError()));
    }
    void quantizeSyntheticModelAndReopen()
    {
        const QString model = mpq::test::writeTinySyntheticModel(m_home.filePath(QStringLiteral("synthetic")));

        QString session;
        {
            MainWindow w;
            w.setInteractive(false);
            w.resize(1280, 800);
            w.show();
            QVERIFY(w.openPath(model));
            QVERIFY(w.workbench().synthetic);
            QSignalSpy idle(&w, &MainWindow::idle);
            JobRequest r;
            r.method = QStringLiteral("gptq");
            r.values = {4, 2};
            r.params.model = model.toStdString();
            r.params.calibTokens = mpq::syntheticCalibrationFile(model.toStdString());
            w.enqueue(r);
            QVERIFY(w.isBusy());
            QVERIFY(idle.wait(120000));
            QVERIFY2(w.lastError().isEmpty(), qPrintable(w.lastError()));
            QCOMPARE(w.workbench().runs.size(), size_t(2));
            QVERIFY(w.workbench().runs[0].complete);
            QCOMPARE(w.bitMapView()->tensors().size(), 14);
            // The slider goes along the GPTQ points and switches the bit map between them.
            QVERIFY(w.tradeoffView()->setCurrentMethod(QStringLiteral("GPTQ")));
            w.tradeoffView()->moveSlider(0);
            QCOMPARE(w.currentRun(), QStringLiteral("gptq-2bit"));
            w.tradeoffView()->moveSlider(w.tradeoffView()->sliderSteps());
            QCOMPARE(w.currentRun(), QStringLiteral("gptq-4bit"));
            // The Hessian graph of the selected matrix comes from the session.
            w.selectTensor(w.bitMapView()->tensors().front());
            auto* hessian = qobject_cast<PlotView*>(w.tabs()->widget(2));
            QVERIFY(hessian);
            QVERIFY2(hessian->caption().contains(QLatin1String("strongest edges")), qPrintable(hessian->caption()));
            const SliderBench::Result b = SliderBench::run(w, QStringLiteral("GPTQ"), 6);
            QCOMPARE(b.moves, 6);
            QVERIFY(b.maxMs > 0);
            const QStringList shots = w.saveScreenshots(m_home.filePath(QStringLiteral("shots")));
            // Every tab, the bit map in grey and the Explain dock over the bit map (a session run).
            QCOMPARE(shots.size(), w.tabs()->count() + 2);
            QVERIFY(shots.contains(m_home.filePath(QStringLiteral("shots/view-explain.png"))));
            QVERIFY(shots.contains(m_home.filePath(QStringLiteral("shots/view-teach-gptq.png"))));
            session = w.sessionPath();
            QVERIFY(session.endsWith(QLatin1String(".h5")));
            // Save as: the copy holds the runs, new jobs go there.
            const QString copy = m_home.filePath(QStringLiteral("copy.h5"));
            QVERIFY(w.saveSessionAs(copy));
            QCOMPARE(w.sessionPath(), copy);
            QCOMPARE(mpq::session::Session::open(copy.toStdString()).runs().size(), size_t(2));
            // New session: same model, no runs.
            QVERIFY(w.newSession(m_home.filePath(QStringLiteral("fresh.h5"))));
            QVERIFY(w.workbench().runs.empty());
            QCOMPARE(w.workbench().model, model);
        }
        QVERIFY(QFileInfo::exists(session));
        // The session the GUI wrote is the engine's HDF5 file: `mpq` reads the same runs.
        const mpq::session::Session s = mpq::session::Session::open(session.toStdString());
        QCOMPARE(s.runs().size(), size_t(2));
        QCOMPARE(s.runs()[0].name, std::string("gptq-4bit"));
        MainWindow again;
        again.setInteractive(false);
        QVERIFY(again.openPath(session));
        QCOMPARE(again.workbench().runs.size(), size_t(2));
        QVERIFY(again.workbench().synthetic);
        QCOMPARE(again.workbench().run(QStringLiteral("gptq-2bit"))->matrices.size(), size_t(14));
    }

    // The icon comes from the Qt resource (every size of resources/icons), on every window.
    void windowIconFromResource()
    {
        const QIcon icon = MainWindow::applicationIcon();
        QVERIFY(!icon.isNull());
        for (int size : {16, 32, 48, 64, 128, 256})
            QVERIFY2(icon.availableSizes().contains(QSize(size, size)), qPrintable(QString::number(size)));
        QVERIFY(!QImage(QStringLiteral(":/icons/mpq-workbench.svg")).isNull()); // the SVG renders
        MainWindow w;
        QVERIFY(!w.windowIcon().isNull());
    }

    // --version on the workbench: CMake's project() version, as `mpq --version`; it and --help
    // answer on a machine without any display (no DISPLAY, no QT_QPA_PLATFORM).
    void versionFromCMake()
    {
        QCOMPARE(QString::fromLatin1(mpq::version()), QStringLiteral(MPQ_PROJECT_VERSION));
        QProcessEnvironment headless = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            headless.remove(QString::fromLatin1(name));
        QProcess p;
        p.setProcessEnvironment(headless);
        p.start(QStringLiteral(MPQ_WORKBENCH_PATH), {QStringLiteral("--version")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QCOMPARE(QString::fromUtf8(p.readAllStandardOutput()).trimmed(),
                 QStringLiteral("mpq-workbench %1").arg(QStringLiteral(MPQ_PROJECT_VERSION)));
        QProcess help;
        help.setProcessEnvironment(headless);
        help.start(QStringLiteral(MPQ_WORKBENCH_PATH), {QStringLiteral("--help")});
        QVERIFY(help.waitForFinished(60000));
        QCOMPARE(help.exitStatus(), QProcess::NormalExit);
        QCOMPARE(help.exitCode(), 0);
        QVERIFY(QString::fromUtf8(help.readAllStandardOutput()).contains(QStringLiteral("--demo")));
    }

    // The device box lists CPU and each CUDA device LibTorch sees; new jobs take its choice, and
    // the log and the progress text say where a job runs.
    void deviceChoice()
    {
        MainWindow w;
        w.setInteractive(false);
        const QStringList devices = w.devices();
        QCOMPARE(devices.value(0), QStringLiteral("cpu"));
        QCOMPARE(devices.size(), int(mpq::availableDevices().size()));
        if (!mpq::cudaAvailable())
            QCOMPARE(devices.size(), 1); // a CPU-only LibTorch offers the CPU only
        for (int i = 1; i < devices.size(); ++i)
            QCOMPARE(devices[i], QStringLiteral("cuda:%1").arg(i - 1));
        QCOMPARE(w.device(), QStringLiteral("cpu"));
        QVERIFY(!w.setDevice(QStringLiteral("cuda:99")));
        QVERIFY(!w.setDevice(QStringLiteral("tpu")));
        QCOMPARE(w.device(), QStringLiteral("cpu"));
        auto* box = w.findChild<QComboBox*>(QStringLiteral("deviceBox"));
        QVERIFY(box);
        QCOMPARE(box->count(), devices.size());

        const QString model = mpq::test::writeTinySyntheticModel(m_home.filePath(QStringLiteral("synthetic-device")));
        QVERIFY(w.openPath(model));
        QSignalSpy idle(&w, &MainWindow::idle);
        JobRequest r;
        r.method = QStringLiteral("rtn");
        r.values = {4};
        r.params.model = model.toStdString();
        r.params.device = "cuda:7"; // the window's choice wins: jobs run where the box says
        r.params.calibTokens = mpq::syntheticCalibrationFile(model.toStdString());
        w.enqueue(r);
        QCOMPARE(w.runningDevice(), QStringLiteral("cpu"));
        QVERIFY(idle.wait(120000));
        QVERIFY2(w.lastError().isEmpty(), qPrintable(w.lastError()));
        QVERIFY(w.runningDevice().isEmpty());
        const QString log = w.findChild<QPlainTextEdit*>()->toPlainText();
        QVERIFY2(log.contains(QStringLiteral("— on cpu (CPU")), qPrintable(log));
    }

    // The demo uses the embedded model (no MPQ_DATA_DIR needed): its texts, 128-token windows.
    void demoPlanUsesEmbeddedModel()
    {
        MPQ_DEMO_MODEL(demo);
        const DemoPlan plan = DemoPlan::make(QString(), m_home.filePath(QStringLiteral("never-written")));
        QCOMPARE(plan.model, QString::fromStdString(demo.dir));
        QVERIFY(!plan.synthetic);
        QVERIFY(plan.label.contains(QLatin1String("embedded demo")));
        QVERIFY(!QFileInfo::exists(m_home.filePath(QStringLiteral("never-written"))));
        QCOMPARE(plan.jobs.size(), size_t(3)); // reference, GPTQ 4/3, MG-PTQ 3/2.5
        for (const JobRequest& r : plan.jobs) {
            QCOMPARE(r.params.seqlen, int64_t(128));
            QCOMPARE(r.eval.seqlen, int64_t(128));
            QCOMPARE(r.params.calib, demo.calibText);
            QCOMPARE(r.evalDatasets, QStringList{QString::fromStdString(demo.validText)});
        }
    }

    // Issue 17: the slider's MXQ re-solves have their own thread, so a job that holds the worker
    // (here a task that waits until released) does not hold them up.
    void sliderResolvesWhileTheWorkerIsBusy()
    {
        MainWindow w;
        w.setInteractive(false);
        MxqResolver* resolver = w.resolver();
        QVERIFY(resolver->thread() != w.runner()->thread());
        QVERIFY(resolver->thread() != w.thread());
        const auto table = mpq::test::upProjCostTable(2);
        QObject::disconnect(resolver, nullptr, &w, nullptr); // no session shows this table
        resolver->setTable(table);
        QSemaphore release;
        QMetaObject::invokeMethod(w.runner(), [&release] { release.acquire(); }, Qt::QueuedConnection);
        QSignalSpy solved(resolver, &MxqResolver::solved);
        QSignalSpy failed(resolver, &MxqResolver::failed);
        resolver->request(4.5);
        const bool answered = QTest::qWaitFor([&] { return !solved.isEmpty() || !failed.isEmpty(); }, 10000);
        release.release(); // the worker may stop now
        QVERIFY2(answered, "the re-solve waited for the job on the worker thread");
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().at(1).toString()));
        QCOMPARE(solved.first().at(0).value<MxqResolved>().matrices.size(), size_t(2));
    }

private:
    QTemporaryDir m_home;
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
