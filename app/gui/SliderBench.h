#pragma once

#include <QString>

namespace mpq::gui {

class MainWindow;

/// The slider benchmark (issue #8: "from a slider move to the redrawn bit map and curve with
/// cached results"): moves the trade-off slider of a loaded session `moves` times across its range
/// and measures, per move, the time until the bit map and the curve are redrawn — for MXQ
/// including the live re-solve of the mixed integer program on the worker thread (newest request
/// wins; each move waits for its own solve), otherwise the switch to the nearest cached run.
struct SliderBench {
    struct Result {
        QString method;
        int moves = 0;
        double medianMs = 0, meanMs = 0, maxMs = 0;
        int matrices = 0;
        QString lastCaption; ///< the bit map's caption after the last move (what was drawn)
    };
    /// Runs on the GUI thread with an event loop. `method` picks the series (empty: MXQ when the
    /// session has it, else the first). Throws mpq::Error when there is no series to move along.
    static Result run(MainWindow& window, const QString& method, int moves);
};

} // namespace mpq::gui
