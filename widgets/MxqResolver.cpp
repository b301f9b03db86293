#include "MxqResolver.h"

#include "alloc/mxq/MxqSolver.h"

#include <QMetaObject>

namespace mpq::gui {

MxqResolver::MxqResolver(QObject* parent) : QObject(parent) { qRegisterMetaType<MxqResolved>(); }

void MxqResolver::setTable(std::shared_ptr<const MxqCostTable> table)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_table = std::move(table);
}

bool MxqResolver::hasTable() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_table != nullptr;
}

quint64 MxqResolver::request(double budgetBits)
{
    const quint64 generation = ++m_latest;
    QMetaObject::invokeMethod(this, [this, generation, budgetBits] { solve(generation, budgetBits); },
                              Qt::QueuedConnection);
    return generation;
}

void MxqResolver::solve(quint64 generation, double budgetBits)
{
    if (generation != m_latest.load())
        return; // a newer request is queued behind this one
    std::shared_ptr<const MxqCostTable> table;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        table = m_table;
    }
    if (!table) {
        Q_EMIT failed(generation, tr("no MXQ cost table in this session: run MXQ once to compute it"));
        return;
    }
    try {
        MxqSolveOptions options;
        // Interactive preview: a feasible answer now beats a proof later. The greedy incumbent is
        // typically within 0.02 % of the optimum and its LP bound usually proves it within
        // kPreviewGap at once; the default 10⁻⁴ gap made branch and bound run for 40 ms–2 s per
        // move on mpq-llama-42m. A full run queued from the slider solves with the defaults.
        options.timeLimitSeconds = kPreviewTimeLimitSeconds;
        options.relativeGap = kPreviewGap;
        const MxqSolution s = solveMxq(*table, MxqBudget::bitsPerParameter(budgetBits), options);
        MxqResolved r;
        r.generation = generation;
        r.budget = budgetBits;
        r.seconds = s.seconds;
        r.status = QString::fromLatin1(mxqStatusName(s.status));
        if (!s.hasSolution()) {
            Q_EMIT failed(generation, QString::fromStdString(s.message));
            return;
        }
        r.bitsPerParameter = s.bitsPerParameter;
        const AllocationPlan plan = toPlan(*table, s);
        r.matrices.reserve(plan.matrices.size());
        for (size_t i = 0; i < plan.matrices.size(); ++i) {
            MatrixResult mr = MatrixResult::fromPlan(plan.matrices[i]);
            mr.bitsWithOverhead = table->configs[size_t(s.choice[i])].bitsPerWeight();
            mr.frobeniusError = plan.matrices[i].predictedCost; // the table's cost of the choice
            r.matrices.push_back(std::move(mr));
        }
        Q_EMIT solved(r);
    } catch (const std::exception& e) {
        Q_EMIT failed(generation, QString::fromStdString(e.what()));
    }
}

} // namespace mpq::gui
