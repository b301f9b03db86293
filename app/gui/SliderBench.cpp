#include "SliderBench.h"

#include "BitMapView.h"
#include "MainWindow.h"
#include "TradeoffView.h"

#include "core/Error.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <numeric>

namespace mpq::gui {

SliderBench::Result SliderBench::run(MainWindow& window, const QString& method, int moves)
{
    TradeoffView* view = window.tradeoffView();
    QString chosen = method;
    if (chosen.isEmpty())
        chosen = view->setCurrentMethod(QStringLiteral("MXQ")) ? QStringLiteral("MXQ") : view->currentMethod();
    if (chosen.isEmpty() || !view->setCurrentMethod(chosen))
        throw Error("slider benchmark: the session has no trade-off series" +
                    (method.isEmpty() ? std::string() : " named " + method.toStdString()));
    const bool live = chosen == QLatin1String("MXQ") && window.resolver()->hasTable();

    std::vector<double> ms;
    for (int k = 0; k < moves; ++k) {
        // Sweep back and forth over the range so that consecutive moves differ.
        const int steps = view->sliderSteps();
        const int pos = int((k % 2 == 0 ? k : moves - k) * double(steps) / std::max(moves, 1)) % (steps + 1);
        QEventLoop loop;
        quint64 awaited = 0;
        bool drawn = false;
        const auto conn = QObject::connect(&window, &MainWindow::resolvedDrawn, &loop, [&](quint64 g) {
            if (g == awaited) {
                drawn = true;
                loop.quit();
            }
        });
        const quint64 before = window.resolver()->latest();
        QElapsedTimer timer;
        timer.start();
        view->moveSlider(pos);
        if (live && window.resolver()->latest() != before) { // no request when the slider did not move
            awaited = window.resolver()->latest();
            if (!drawn) {
                QTimer::singleShot(10000, &loop, &QEventLoop::quit);
                loop.exec();
            }
        }
        // The views redraw with queued replots: run them before stopping the clock, so that the
        // time is slider move → bit map and curve drawn.
        window.bitMapView()->flushPendingReplot();
        window.tradeoffView()->flushPendingReplot();
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
        QObject::disconnect(conn);
    }
    Result r;
    r.method = live ? chosen + QStringLiteral(" (live re-solve)") : chosen + QStringLiteral(" (cached runs)");
    r.moves = int(ms.size());
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    r.medianMs = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    r.maxMs = sorted.empty() ? 0 : sorted.back();
    r.meanMs = sorted.empty() ? 0 : std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(sorted.size());
    r.matrices = int(window.bitMapView()->tensors().size());
    r.lastCaption = window.bitMapView()->caption();
    return r;
}

} // namespace mpq::gui
