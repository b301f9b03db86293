// mpq-bench-views [--reps N] [--tsv FILE] [--screenshots DIR]: times the workbench's redraws on a
// synthetic LLaMA-7B-shaped workspace (SyntheticRuns: 224 matrices, up to 11008 columns), in the
// real main window at 1280×800. Each figure is one user action plus the redraw it causes (the
// plot rendered and painted), median and maximum over N repetitions. Run under Xvfb for figures
// with real painting (docs/gui.md, "Scale"); --screenshots also saves the Compare runs views, the
// 7B bit map and the Hessian graph of a synthetic 11008-column graph (view-hessian-7b.png).
#include "BitMapView.h"
#include "CompareTradeoffView.h"
#include "CompareView.h"
#include "DiffMapView.h"
#include "HessianGraphView.h"
#include "MainWindow.h"
#include "PlotView.h"
#include "PerplexityView.h"
#include "SyntheticRuns.h"
#include "TradeoffView.h"
#include "TrainingCurvesView.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QTreeView>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <functional>
#include <random>

using namespace mpq::gui;

namespace {

struct Figure {
    QString view, action;
    double median = 0, max = 0;       ///< wall clock, ms
    double cpuMedian = 0, cpuMax = 0; ///< this process's CPU time, ms (robust when the machine is shared)
};

double processCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

std::vector<Figure> g_figures;

void settle()
{
    QApplication::sendPostedEvents();
    QApplication::processEvents();
}

/// `prepare(i)`, when given, runs before step i untimed (then the events it posted are handled).
void measure(const QString& view, const QString& action, int reps, const std::function<void(int)>& step,
             const std::function<void(int)>& prepare = {})
{
    std::vector<double> ms, cpu;
    if (prepare)
        prepare(0);
    step(0); // warm-up (first layout, caches)
    settle();
    for (int i = 1; i <= reps; ++i) {
        if (prepare) {
            prepare(i);
            settle();
        }
        QElapsedTimer t;
        const double c0 = processCpuMs();
        t.start();
        step(i);
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
        cpu.push_back(processCpuMs() - c0);
        settle();
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    Figure f{view, action, ms[ms.size() / 2], ms.back(), cpu[cpu.size() / 2], cpu.back()};
    g_figures.push_back(f);
    std::printf("%-24s %-56s wall median %7.2f max %7.2f | cpu median %7.2f max %7.2f ms\n", qPrintable(view),
                qPrintable(action), f.median, f.max, f.cpuMedian, f.cpuMax);
    std::fflush(stdout);
}

void paint(QWidget* w) { w->repaint(); }

/// A graph shaped like what a session stores for an n-column matrix (docs/session-format.md):
/// diag H and each column's 16 strongest neighbours, made symmetric — not a dense n² matrix.
HessianGraphData syntheticGraph(int64_t n)
{
    HessianGraphData g;
    g.available = true;
    g.tensor = QStringLiteral("synthetic %1-column graph").arg(n);
    g.source = QStringLiteral("synthetic");
    g.cols = n;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    g.diagonal.resize(size_t(n));
    g.bits.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        g.diagonal[size_t(i)] = std::exp(3 * u(rng));
        g.bits[size_t(i)] = uint8_t(2 + int(3 * u(rng)));
    }
    for (int64_t i = 0; i < n; ++i)
        for (int k = 0; k < 16; ++k) {
            const int64_t j = int64_t(u(rng) * double(n)) % n;
            if (j != i)
                g.edges.push_back({int32_t(i), int32_t(j), float(std::exp(-6 * u(rng)))});
        }
    HessianGraphData::normalise(g.edges);
    return g;
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("mpq-bench"));
    QApplication::setApplicationName(QStringLiteral("mpq-bench-views"));
    const QStringList args = QApplication::arguments();
    const auto value = [&](const QString& name, const QString& fallback) {
        const qsizetype i = args.indexOf(name);
        return i > 0 && i + 1 < args.size() ? args[i + 1] : fallback;
    };
    const int reps = value(QStringLiteral("--reps"), QStringLiteral("15")).toInt();
    const QString tsv = value(QStringLiteral("--tsv"), {});
    const QString shots = value(QStringLiteral("--screenshots"), {});

    QTemporaryDir tmp;
    QElapsedTimer t;
    t.start();
    const Workbench wb = SyntheticRuns::llama7b();
    const double genMs = double(t.nsecsElapsed()) / 1e6;
    t.restart();
    const QString session = SyntheticRuns::writeWorkspace(wb, tmp.filePath(QStringLiteral("synthetic-7b")));
    const double writeMs = double(t.nsecsElapsed()) / 1e6;

    MainWindow w;
    w.setInteractive(false);
    w.resize(1280, 800);
    w.show();
    settle();
    t.restart();
    if (!w.openPath(session)) {
        std::fprintf(stderr, "mpq-bench-views: %s\n", qPrintable(w.lastError()));
        return 1;
    }
    settle();
    const double openMs = double(t.nsecsElapsed()) / 1e6;
    std::printf("platform %s; synthetic 7B-shaped workspace: %zu runs × %zu matrices; generated in %.0f ms, written in "
                "%.0f ms, opened (read 5 result folders + first draw) in %.0f ms\n",
                qPrintable(QGuiApplication::platformName()), wb.runs.size(), wb.runs.front().matrices.size(), genMs,
                writeMs, openMs);

    QTabWidget* tabs = w.tabs();
    BitMapView* map = w.bitMapView();
    const QStringList runs = {QStringLiteral("synthetic-mgptq-target3"), QStringLiteral("synthetic-gptq-4bit"),
                              QStringLiteral("synthetic-mgptq-target2.5"), QStringLiteral("synthetic-mxq-3.5bits")};

    tabs->setCurrentWidget(map);
    settle();
    measure(QStringLiteral("bit map"), QStringLiteral("show another run (224 rows, overview)"), reps,
            [&](int i) { w.showRun(runs[i % runs.size()]); map->flushPendingReplot(); map->replotNow(); });
    if (qEnvironmentVariableIsSet("MPQ_BENCH_DETAIL")) {
        const RunData* r0 = w.workbench().run(runs[0]);
        measure(QStringLiteral("bit map"), QStringLiteral("[detail] setMatrices + replot, one map"), reps,
                [&](int) { map->setMatrices(r0->matrices, QStringLiteral("x")); });
        measure(QStringLiteral("bit map"), QStringLiteral("[detail] replot only"), reps, [&](int) { map->replotNow(); });
        measure(QStringLiteral("main window"), QStringLiteral("[detail] showRun without replots"), reps,
                [&](int i) { w.showRun(runs[i % runs.size()]); });
        measure(QStringLiteral("main window"), QStringLiteral("[detail] paint the tree"), reps,
                [&](int) { w.findChild<QTreeView*>()->viewport()->repaint(); });
    }
    std::mt19937 rng(1);
    measure(QStringLiteral("bit map"), QStringLiteral("zoom to 1024 columns at a random place"), reps, [&](int) {
        const double a = double(rng() % 10000);
        map->setColumnRange(a, a + 1024);
        map->flushPendingReplot();
    });
    measure(QStringLiteral("bit map"), QStringLiteral("pan by 256 columns at 1024 columns"), reps, [&](int) {
        map->setColumnRange(map->columnRange().first + 256, map->columnRange().second + 256);
        map->flushPendingReplot();
    });
    measure(QStringLiteral("bit map"), QStringLiteral("zoom out to the whole map (11008 columns)"), reps, [&](int) {
        map->resetZoom();
        map->flushPendingReplot();
    });
    measure(QStringLiteral("bit map"), QStringLiteral("search \"layers.N.mlp.down\" (selects, scrolls)"), reps, [&](int i) {
        map->findTensor(QStringLiteral("layers.%1.mlp.down").arg(i % 32));
        map->replotNow();
    });
    measure(QStringLiteral("main window"), QStringLiteral("select a matrix (tree, maps, Hessian and training views)"), reps,
            [&](int i) {
                w.selectTensor(QStringLiteral("model.layers.%1.self_attn.q_proj.weight").arg(i % 32));
                map->replotNow();
            });

    tabs->setCurrentIndex(1);
    settle();
    TradeoffView* trade = w.tradeoffView();
    measure(QStringLiteral("α trade-off + side map"), QStringLiteral("slider to another point (run shown in side map)"), reps,
            [&](int i) {
                trade->moveSlider(i % 2 ? 0 : trade->sliderSteps());
                trade->flushPendingReplot();
                w.sideBitMapView()->flushPendingReplot();
                w.sideBitMapView()->replotNow();
            });

    auto* perplexity = tabs->widget(3)->findChild<PerplexityView*>() ? tabs->widget(3)->findChild<PerplexityView*>()
                                                                     : qobject_cast<PerplexityView*>(tabs->widget(3));
    tabs->setCurrentIndex(3);
    settle();
    measure(QStringLiteral("perplexity"), QStringLiteral("redraw"), reps, [&](int) { perplexity->replotNow(); });

    auto* hessian = qobject_cast<HessianGraphView*>(tabs->widget(2));
    tabs->setCurrentIndex(2);
    settle();
    for (const int64_t n : {int64_t(4096), int64_t(11008)}) {
        HessianGraphData g = syntheticGraph(n);
        const QString what = n == 4096 ? QStringLiteral("4096-column (q/k/v/o/gate/up)")
                                       : QStringLiteral("11008-column (down_proj)");
        // A new key per repetition: the summary (scale, pooled heat maps, strongest edges, dots)
        // is computed from the edges each time, as on the first show of a matrix.
        measure(QStringLiteral("Hessian graph"), QStringLiteral("first show of a %1 graph").arg(what), reps,
                [&](int i) {
                    g.key = QStringLiteral("bench-%1-%2").arg(n).arg(i);
                    hessian->setGraph(g);
                });
        g.key = QStringLiteral("bench-%1-again").arg(n);
        measure(QStringLiteral("Hessian graph"), QStringLiteral("show it again (summary cached)"), reps,
                [&](int) { hessian->setGraph(g); });
        measure(QStringLiteral("Hessian graph"), QStringLiteral("switch natural / act-order"), reps,
                [&](int i) { hessian->setActOrder(i % 2 == 1); });
        hessian->setActOrder(false);
        measure(QStringLiteral("Hessian graph"), QStringLiteral("redraw (zoom/pan) of it"), reps,
                [&](int) { hessian->replotNow(); });
    }

    auto* curves = qobject_cast<TrainingCurvesView*>(tabs->widget(4));
    tabs->setCurrentIndex(4);
    settle();
    TrainingCurves c;
    for (int e = 0; e < 200; ++e) {
        c.loss.push_back(1.0 / (e + 1));
        c.lQuant.push_back(0.5 / (e + 1));
        c.lBit.push_back(3 - e * 0.002);
        c.avgBits.push_back(3.2 - e * 0.001);
    }
    measure(QStringLiteral("allocator training"), QStringLiteral("show 200 epochs"), reps,
            [&](int) { curves->setCurves(c, QStringLiteral("synthetic")); });

    CompareView* cmp = w.compareView();
    tabs->setCurrentWidget(cmp);
    cmp->tabs()->setCurrentIndex(0);
    settle();
    measure(QStringLiteral("compare: side by side"), QStringLiteral("pick 2 runs (the page shown is rebuilt)"), reps,
            [&](int i) {
                cmp->setPicked({runs[i % 4], runs[(i + 1) % 4]});
                for (BitMapView* m : cmp->maps())
                    if (m->isVisible())
                        m->replotNow();
            });
    measure(QStringLiteral("compare: side by side"), QStringLiteral("pick 4 runs"), reps, [&](int i) {
        cmp->setPicked(i % 2 ? runs : QStringList{runs[3], runs[2], runs[1], runs[0]});
        for (BitMapView* m : cmp->maps())
            m->replotNow();
    });
    // The other pages are rebuilt when shown: the cost of showing each after a pick of 4 runs.
    for (const int page : {1, 2, 3, 4, 5}) {
        measure(QStringLiteral("compare"), QStringLiteral("pick 4 runs, then show the %1 page (rebuilt)")
                                               .arg(cmp->tabs()->tabText(page).toLower()),
                reps,
                [&](int) {
                    cmp->tabs()->setCurrentIndex(page);
                    for (PlotView* v : cmp->tabs()->widget(page)->findChildren<PlotView*>())
                        v->replotNow();
                    if (auto* v = qobject_cast<PlotView*>(cmp->tabs()->widget(page)))
                        v->replotNow();
                    paint(cmp->tabs()->widget(page));
                },
                [&](int i) {
                    cmp->tabs()->setCurrentIndex(0);
                    cmp->setPicked(i % 2 ? runs : QStringList{runs[3], runs[2], runs[1], runs[0]});
                });
    }
    cmp->tabs()->setCurrentIndex(0);
    cmp->setPicked(runs);
    settle();
    measure(QStringLiteral("compare: side by side"), QStringLiteral("zoom one of 4 maps (the others follow)"), reps,
            [&](int) {
                const double a = double(rng() % 10000);
                cmp->maps()[0]->setColumnRange(a, a + 1024);
                for (BitMapView* m : cmp->maps())
                    m->flushPendingReplot();
            });
    measure(QStringLiteral("compare: side by side"),
            QStringLiteral("select a matrix (4 maps; the other pages when shown)"), reps,
            [&](int i) {
                cmp->selectTensor(QStringLiteral("model.layers.%1.mlp.down_proj.weight").arg((i * 7) % 32));
                for (BitMapView* m : cmp->maps())
                    m->replotNow();
            });
    cmp->tabs()->setCurrentIndex(1);
    settle();
    measure(QStringLiteral("compare: difference"), QStringLiteral("choose another pair"), reps, [&](int i) {
        cmp->setDifferencePair(i % 4, (i + 1) % 4);
        cmp->differenceMap()->replotNow();
    });
    measure(QStringLiteral("compare: difference"), QStringLiteral("zoom to 512 columns"), reps, [&](int) {
        const double a = double(rng() % 10000);
        cmp->differenceMap()->setColumnRange(a, a + 512);
        cmp->differenceMap()->flushPendingReplot();
    });
    cmp->tabs()->setCurrentIndex(2);
    settle();
    QTableView* table = cmp->matrixTable();
    measure(QStringLiteral("compare: matrices table"), QStringLiteral("sort by a column (224 rows)"), reps, [&](int i) {
        table->sortByColumn(4 + i % 6, i % 2 ? Qt::AscendingOrder : Qt::DescendingOrder);
        paint(table->viewport());
    });
    measure(QStringLiteral("compare: matrices table"), QStringLiteral("filter by tensor name"), reps, [&](int i) {
        cmp->matrixFilter()->setText(i % 2 ? QStringLiteral("mlp.down") : QStringLiteral("layers.1"));
        paint(table->viewport());
    });
    cmp->matrixFilter()->clear();
    cmp->tabs()->setCurrentIndex(3);
    settle();
    measure(QStringLiteral("compare: trade-off"), QStringLiteral("redraw"), reps,
            [&](int) { cmp->tradeoffView()->replotNow(); });
    cmp->tabs()->setCurrentIndex(4);
    settle();
    measure(QStringLiteral("compare: perplexity"), QStringLiteral("redraw"), reps,
            [&](int) { cmp->perplexityView()->replotNow(); });
    cmp->tabs()->setCurrentIndex(5);
    settle();
    measure(QStringLiteral("compare: runs table"), QStringLiteral("sort by a column"), reps, [&](int i) {
        cmp->runsTable()->sortByColumn(i % 8, Qt::AscendingOrder);
        paint(cmp->runsTable()->viewport());
    });

    if (!tsv.isEmpty()) {
        QFile f(tsv);
        if (f.open(QIODevice::WriteOnly | QIODevice::Text)) {
            QTextStream out(&f);
            out << "view\taction\twall_median_ms\twall_max_ms\tcpu_median_ms\tcpu_max_ms\n";
            for (const Figure& fig : g_figures)
                out << fig.view << '\t' << fig.action << '\t' << QString::number(fig.median, 'f', 2) << '\t'
                    << QString::number(fig.max, 'f', 2) << '\t' << QString::number(fig.cpuMedian, 'f', 2) << '\t'
                    << QString::number(fig.cpuMax, 'f', 2) << '\n';
        }
    }
    if (!shots.isEmpty()) {
        QDir().mkpath(shots);
        const auto save = [&](const QString& name) {
            settle();
            for (PlotView* v : w.findChildren<PlotView*>())
                if (v->isVisible())
                    v->replotNow();
            settle();
            const QString file = QDir(shots).filePath(name);
            if (w.grab().save(file))
                std::printf("%s\n", qPrintable(file));
        };
        // The comparison needs the width: the Layers dock is closed for these (as a user would).
        QWidget* layers = w.findChild<QDockWidget*>(QStringLiteral("layers"));
        layers->hide();
        tabs->setCurrentWidget(cmp);
        cmp->setPicked({QStringLiteral("synthetic-gptq-3bit"), QStringLiteral("synthetic-mgptq-target3")});
        cmp->selectTensor(QStringLiteral("model.layers.31.mlp.down_proj.weight"));
        for (BitMapView* m : cmp->maps())
            m->resetZoom();
        cmp->tabs()->setCurrentIndex(0);
        save(QStringLiteral("view-compare-side.png"));
        cmp->setDifferencePair(0, 1);
        cmp->tabs()->setCurrentIndex(1);
        save(QStringLiteral("view-compare-diff.png"));
        cmp->differenceMap()->setColumnRange(2000, 2255);
        cmp->differenceMap()->setRowRange(-0.5, 27.5);
        save(QStringLiteral("view-compare-diff-zoom.png"));
        cmp->tabs()->setCurrentIndex(2);
        cmp->matrixFilter()->setText(QStringLiteral("down_proj"));
        cmp->matrixTable()->sortByColumn(7, Qt::DescendingOrder);
        save(QStringLiteral("view-compare-matrices.png"));
        cmp->matrixFilter()->clear();
        cmp->setPicked({QStringLiteral("synthetic-gptq-4bit"), QStringLiteral("synthetic-gptq-3bit"),
                        QStringLiteral("synthetic-mgptq-target3"), QStringLiteral("synthetic-mgptq-target2.5"),
                        QStringLiteral("synthetic-mxq-3.5bits")});
        cmp->tabs()->setCurrentIndex(3);
        save(QStringLiteral("view-compare-tradeoff.png"));
        cmp->tabs()->setCurrentIndex(4);
        save(QStringLiteral("view-compare-perplexity.png"));
        cmp->tabs()->setCurrentIndex(5);
        cmp->runsTable()->sortByColumn(5, Qt::DescendingOrder);
        cmp->runsTable()->resizeColumnsToContents();
        save(QStringLiteral("view-compare-runs.png"));
        layers->show();
        // The Hessian graph of an 11008-column down_proj shaped like a session's (synthetic numbers).
        tabs->setCurrentWidget(hessian);
        HessianGraphData down = syntheticGraph(11008);
        down.tensor = QStringLiteral("synthetic 11008-column graph (random couplings, not a model's; bits of "
                                     "synthetic-mgptq-target3's layer 31 down_proj)");
        if (const RunData* r = w.workbench().run(QStringLiteral("synthetic-mgptq-target3")))
            for (const MatrixResult& m : r->matrices)
                if (m.tensor == QLatin1String("model.layers.31.mlp.down_proj.weight"))
                    down.bits = m.columnBits;
        hessian->setGraph(down);
        save(QStringLiteral("view-hessian-7b.png"));
        // The main bit map at 7B scale: overview, then zoomed into columns and found by name.
        tabs->setCurrentWidget(map);
        w.showRun(QStringLiteral("synthetic-mgptq-target3"));
        map->resetZoom();
        save(QStringLiteral("view-bitmap-7b.png"));
        map->searchBox()->setText(QStringLiteral("layers.17.mlp.down"));
        map->findTensor(QStringLiteral("layers.17.mlp.down"));
        map->setColumnRange(4000, 4300);
        map->setRowRange(110.5, 130.5);
        save(QStringLiteral("view-bitmap-7b-zoom.png"));
    }
    return 0;
}
