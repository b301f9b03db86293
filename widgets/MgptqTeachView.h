#pragma once

#include "TeachPlayerView.h"

#include "alloc/mgptq/MgptqTrace.h"

#include <memory>

class QCPAxisRect;
class QCPColorMap;
class QCPGraph;
class QCPItemStraightLine;

namespace mpq::gui {

/// Teaching mode for MG-PTQ (issue 19; docs/teaching.md): the allocator's training replayed on
/// one matrix — per column, its softmax over the widths and the epoch's Gumbel-Softmax sample
/// (sharpening towards one-hot as τ falls), with τ and the expected bits over the epochs —
/// and a short text per frame. Previous / next / play and a frame slider. GUI thread only.
class MgptqTeachView : public TeachPlayerView {
    Q_OBJECT
public:
    explicit MgptqTeachView(QWidget* parent = nullptr);

    void setTrace(std::shared_ptr<const MgptqTrace> trace, const QString& label);
    void setMessage(const QString& message);
    bool hasTrace() const { return m_trace != nullptr; }
    /// Frames 0..frames()-1.
    void setFrame(int frame) { goTo(frame); }
    int frame() const { return position(); }
    int frames() const;
    QString frameText() const { return positionText(); }
    static QString describeFrame(const MgptqTrace& t, int frame);

private:
    void showPosition(int frame) override;

    std::shared_ptr<const MgptqTrace> m_trace;
    QCPAxisRect* m_probRect = nullptr;
    QCPAxisRect* m_sampleRect = nullptr;
    QCPAxisRect* m_curveRect = nullptr;
    QCPColorMap* m_prob = nullptr;
    QCPColorMap* m_sample = nullptr;
    QCPGraph* m_tau = nullptr;
    QCPGraph* m_bits = nullptr;
    QCPItemStraightLine* m_now = nullptr;
};

} // namespace mpq::gui
