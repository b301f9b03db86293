#pragma once

#include "TeachPlayerView.h"

#include "alloc/mxq/MxqWalk.h"
#include "session/ColumnExplain.h"

#include <memory>

class QCPAxisRect;
class QCPColorMap;
class QCPGraph;
class QCPItemStraightLine;

namespace mpq::gui {

/// Teaching mode for MXQ (issue 19; docs/teaching.md): the cost table as a heat map (matrices ×
/// configurations, log cost) and the budget spent move by move (mxqWalk: every matrix starts at
/// its smallest configuration, the move that saves the most cost per bit goes first) on the
/// storage–cost plane up to the budget line, then the MIP's solution (the run's) beside the walk's.
/// Previous / next / play and a step slider. GUI thread only.
class MxqTeachView : public TeachPlayerView {
    Q_OBJECT
public:
    explicit MxqTeachView(QWidget* parent = nullptr);

    /// `run` as read by session::mxqRunChoice; `label` names it.
    void setRun(std::shared_ptr<const session::MxqRunChoice> run, const QString& label);
    void setMessage(const QString& message);
    bool hasRun() const { return m_run != nullptr; }
    /// Steps 0 (all smallest) .. walk moves, then one more: the MIP's solution.
    void setStep(int step) { goTo(step); }
    int step() const { return position(); }
    int steps() const;
    QString stepText() const { return positionText(); }
    const MxqWalk& walk() const { return m_walk; }

private:
    void showPosition(int step) override;
    QString describe(int step) const;

    std::shared_ptr<const session::MxqRunChoice> m_run;
    MxqWalk m_walk;
    QCPAxisRect* m_tableRect = nullptr;
    QCPAxisRect* m_pathRect = nullptr;
    QCPColorMap* m_costs = nullptr;
    QCPGraph* m_walkChoice = nullptr;
    QCPGraph* m_mipChoice = nullptr;
    QCPGraph* m_path = nullptr;
    QCPGraph* m_here = nullptr;
    QCPGraph* m_mipPoint = nullptr;
    QCPItemStraightLine* m_budget = nullptr;
};

} // namespace mpq::gui
