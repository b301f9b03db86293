#pragma once

#include "MatrixResult.h"

#include "alloc/mxq/MxqProblem.h"

#include <QMetaType>
#include <QObject>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace mpq::gui {

/// One live MXQ solution for the trade-off slider: the chosen configuration of every matrix as
/// per-column bits, ready for the bit map.
struct MxqResolved {
    quint64 generation = 0;
    double budget = 0;            ///< asked, bits per weight
    double bitsPerParameter = 0;  ///< achieved, scales and zeros included
    QString status;               ///< "optimal", "feasible", "infeasible: …"
    double seconds = 0;
    std::vector<MatrixResult> matrices;
};

/// Re-solves MXQ's mixed integer program from a cached cost table while a slider moves; the
/// newest request wins. request() is called on the GUI thread and returns at once; solving runs
/// on the thread this object lives on (move it to a worker QThread). Each request bumps a
/// generation counter; a queued solve whose generation is no longer the newest is skipped, and
/// receivers drop results whose generation is not latest(). solved()/failed() are delivered on
/// the receivers' thread.
class MxqResolver : public QObject {
    Q_OBJECT
public:
    explicit MxqResolver(QObject* parent = nullptr);

    /// Relative optimality gap of the live preview solve (the jobs use the engine's 10⁻⁴).
    static constexpr double kPreviewGap = 1e-3;
    /// Wall-clock limit of one preview solve (the best incumbent is shown when it runs out).
    static constexpr double kPreviewTimeLimitSeconds = 0.5;

    /// The table to solve against (thread-safe; shared, never copied per request).
    void setTable(std::shared_ptr<const MxqCostTable> table);
    bool hasTable() const;
    /// Queues a solve for `budgetBits` bits per weight; returns its generation.
    quint64 request(double budgetBits);
    quint64 latest() const { return m_latest.load(); }

Q_SIGNALS:
    void solved(const mpq::gui::MxqResolved& result);
    void failed(quint64 generation, const QString& message);

private:
    void solve(quint64 generation, double budgetBits);

    mutable std::mutex m_mutex;
    std::shared_ptr<const MxqCostTable> m_table;
    std::atomic<quint64> m_latest{0};
};

} // namespace mpq::gui

Q_DECLARE_METATYPE(mpq::gui::MxqResolved)
