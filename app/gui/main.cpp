// mpq-workbench: the Qt main of MPQ Workbench. Thin: options, then the main window.
#include "GuidedTour.h"
#include "MainWindow.h"
#include "SliderBench.h"
#include "Theme.h"

#include "core/Version.h"

#include <QApplication>
#include <QDir>
#include <QThread>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <string_view>

using mpq::gui::MainWindow;

namespace {

/// The command line: one definition, used both for --help/--version (no display needed) and
/// for the real run.
struct CliOptions {
    const QCommandLineOption demo{QStringLiteral("demo"), QStringLiteral("open the embedded demo model (0.33 M-parameter LLaMA; $MPQ_DEMO_DIR overrides where it is found) and run a fast GPTQ + MG-PTQ on it")};
    const QCommandLineOption device{QStringLiteral("device"), QStringLiteral("device of the jobs: cpu or cuda:N (as the status bar's device box offers; default cpu)"), QStringLiteral("DEVICE")};
    const QCommandLineOption shots{QStringLiteral("screenshots"), QStringLiteral("when idle, save every view as PNG into DIR and quit"), QStringLiteral("DIR")};
    const QCommandLineOption costs{QStringLiteral("mxq-costs"), QStringLiteral("MXQ cost table (JSON) for the live re-solve"), QStringLiteral("FILE")};
    const QCommandLineOption ggufCosts{QStringLiteral("gguf-costs"), QStringLiteral("GGUF cost table (JSON, mpq quantize --method gguf-mxq --gguf-costs FILE) for the GGUF mixes view"), QStringLiteral("FILE")};
    const QCommandLineOption bench{QStringLiteral("bench-slider"), QStringLiteral("time slider moves on the opened session, print the figures and quit")};
    const QCommandLineOption benchMethod{QStringLiteral("bench-method"), QStringLiteral("series for --bench-slider (default: MXQ, else the first)"), QStringLiteral("NAME")};
    const QCommandLineOption quitIdle{QStringLiteral("quit-when-idle"), QStringLiteral("quit when the job queue is empty")};
    const QCommandLineOption showRun{QStringLiteral("show-run"), QStringLiteral("show this run of the opened session (bit maps, layer browser, trade-off slider)"), QStringLiteral("NAME")};
    const QCommandLineOption size{QStringLiteral("window-size"), QStringLiteral("window size in pixels, e.g. 1024x768 (default 1280x800)"), QStringLiteral("WxH")};
    const QCommandLineOption explain{QStringLiteral("explain"), QStringLiteral("--screenshots: the column the Explain dock shows (default: the selected matrix's column with the largest H_jj)"), QStringLiteral("TENSOR:COLUMN")};
    const QCommandLineOption tourStop{QStringLiteral("tour-stop"), QStringLiteral("--screenshots: also the window at this stop (1-8) of the guided tour, as view-tour.png"), QStringLiteral("N")};

    void describe(QCommandLineParser& cli) const
    {
        cli.setApplicationDescription(QStringLiteral("MPQ Workbench: mixed-precision quantization of LLaMA models"));
        cli.addHelpOption();
        cli.addVersionOption();
        cli.addPositionalArgument(QStringLiteral("path"), QStringLiteral("model folder, llama2.c .bin, result folder or HDF5 session (.h5; old .mpqwb indexes too)"));
        cli.addOptions({demo, device, shots, costs, ggufCosts, bench, benchMethod, quitIdle, showRun, size, explain, tourStop});
    }
};

/// True when the command line only asks for text (--help, --version): answered without a
/// display, so that `mpq-workbench --version` works on a headless machine.
bool asksOnlyForText(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view a(argv[i]);
        if (a == "-h" || a == "--help" || a == "-?" || a == "--help-all" || a == "-v" || a == "--version")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication::setOrganizationName(QStringLiteral("mpq"));
    QCoreApplication::setApplicationName(QStringLiteral("mpq-workbench"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(mpq::version())); // CMake's project() version
    if (asksOnlyForText(argc, argv)) {
        const QCoreApplication core(argc, argv);
        QCommandLineParser cli;
        const CliOptions opt;
        opt.describe(cli);
        cli.process(core); // prints the text and exits
        return 0;
    }
    QApplication app(argc, argv);
    QGuiApplication::setDesktopFileName(QStringLiteral("mpq-workbench"));
    QApplication::setWindowIcon(MainWindow::applicationIcon());
    mpq::gui::Theme::followSystem(); // dark when the desktop is dark (MPQ_WORKBENCH_THEME=dark|light overrides)

    QCommandLineParser cli;
    const CliOptions opt;
    opt.describe(cli);
    cli.process(app);

    MainWindow window;
    if (cli.isSet(opt.size)) {
        const QStringList wh = cli.value(opt.size).split(QLatin1Char('x'));
        bool okW = false, okH = false;
        const int w = wh.value(0).toInt(&okW), h = wh.value(1).toInt(&okH);
        if (wh.size() != 2 || !okW || !okH || w < 320 || h < 240) {
            std::fprintf(stderr, "mpq-workbench: --window-size: expected WxH of at least 320x240, got \"%s\"\n",
                         qPrintable(cli.value(opt.size)));
            return 2;
        }
        window.resize(w, h);
    }
    if (cli.isSet(opt.device)) {
        QString id = cli.value(opt.device);
        if (id == QLatin1String("cuda"))
            id = QStringLiteral("cuda:0");
        if (!window.setDevice(id)) {
            std::fprintf(stderr, "mpq-workbench: --device: \"%s\" is not available here (available: %s)\n",
                         qPrintable(cli.value(opt.device)), qPrintable(window.devices().join(QStringLiteral(", "))));
            return 2;
        }
    }
    const bool batch = cli.isSet(opt.shots) || cli.isSet(opt.bench) || cli.isSet(opt.quitIdle);
    window.setInteractive(!batch);
    window.show();
    int rc = 0;
    if (!cli.positionalArguments().isEmpty() && !window.openPath(cli.positionalArguments().front()) && batch) {
        std::fprintf(stderr, "mpq-workbench: %s\n", qPrintable(window.lastError()));
        return 1;
    }
    if (cli.isSet(opt.costs))
        window.setMxqCosts(cli.value(opt.costs));
    if (cli.isSet(opt.ggufCosts))
        window.setGgufCosts(cli.value(opt.ggufCosts));

    const auto whenIdle = [&] {
        if (cli.isSet(opt.bench)) {
            try {
                const auto r = mpq::gui::SliderBench::run(window, cli.value(opt.benchMethod), 40);
                std::printf("slider benchmark: %s, %d moves, %d matrices in the bit map: median %.2f ms, mean %.2f ms, max %.2f ms\n",
                            qPrintable(r.method), r.moves, r.matrices, r.medianMs, r.meanMs, r.maxMs);
                std::printf("last drawn: %s\n", qPrintable(r.lastCaption));
                if (!window.lastError().isEmpty())
                    std::printf("last error: %s\n", qPrintable(window.lastError()));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "mpq-workbench: %s\n", e.what());
                rc = 1;
            }
        }
        if (cli.isSet(opt.shots)) {
            // Show the last MG-PTQ run (mixed bits) when there is one: the most telling map.
            if (cli.isSet(opt.showRun) && !window.workbench().run(cli.value(opt.showRun))) {
                std::fprintf(stderr, "mpq-workbench: --show-run: the session has no run named \"%s\"\n",
                             qPrintable(cli.value(opt.showRun)));
                rc = 1;
            } else if (cli.isSet(opt.showRun)) {
                window.showRun(cli.value(opt.showRun));
            } else {
                for (const auto& r : window.workbench().runs)
                    if (r.method.startsWith(QLatin1String("mgptq")))
                        window.showRun(r.name);
            }
            if (cli.isSet(opt.explain)) {
                const QString v = cli.value(opt.explain);
                const qsizetype colon = v.lastIndexOf(QLatin1Char(':'));
                bool ok = colon > 0;
                const qint64 column = ok ? v.mid(colon + 1).toLongLong(&ok) : -1;
                if (!ok || column < 0) {
                    std::fprintf(stderr, "mpq-workbench: --explain %s: give TENSOR:COLUMN\n", qPrintable(v));
                    rc = 1;
                } else {
                    window.selectTensor(v.left(colon));
                    window.setScreenshotColumn(column);
                }
            }
            QStringList files = window.saveScreenshots(cli.value(opt.shots));
            if (cli.isSet(opt.tourStop)) {
                mpq::gui::GuidedTour* tour = window.guidedTour();
                tour->start();
                tour->setStop(cli.value(opt.tourStop).toInt() - 1);
                for (int k = 0; k < 30; ++k) { // let the Explain thread answer and the views draw
                    QApplication::processEvents();
                    QThread::msleep(20);
                }
                const QString file = QDir(cli.value(opt.shots)).filePath(QStringLiteral("view-tour.png"));
                if (window.grab().save(file))
                    files << file;
            }
            for (const QString& f : files)
                std::printf("%s\n", qPrintable(f));
        }
        if (cli.isSet(opt.quitIdle)) {
            // What the jobs left, for scripts (packaging/verify-deb.sh): one line per run.
            for (const auto& r : window.workbench().runs) {
                QStringList ppl;
                for (auto it = r.perplexity.cbegin(); it != r.perplexity.cend(); ++it)
                    ppl << QStringLiteral("ppl %1 on %2").arg(it.value(), 0, 'f', 4).arg(QFileInfo(it.key()).fileName());
                std::printf("run %s: %s, %.3f bits/weight%s%s\n", qPrintable(r.name), qPrintable(r.status),
                            r.avgBitsWithOverhead, ppl.isEmpty() ? "" : ", ", qPrintable(ppl.join(QStringLiteral(", "))));
            }
            if (!window.lastError().isEmpty()) {
                std::fprintf(stderr, "mpq-workbench: %s\n", qPrintable(window.lastError()));
                rc = 1;
            }
        }
        if (batch)
            QApplication::exit(rc);
    };
    QObject::connect(&window, &MainWindow::idle, &app, whenIdle, Qt::QueuedConnection);
    if (cli.isSet(opt.demo))
        window.startDemo();
    else if (batch)
        QTimer::singleShot(0, &app, whenIdle);
    const int code = QApplication::exec();
    return rc ? rc : code;
}
