#pragma once

#include "PlotView.h"

#include "alloc/MgptqTrace.h"

#include <memory>

class QCPAxisRect;
class QCPColorMap;
class QCPGraph;
class QCPItemStraightLine;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace mpq::gui {

/// Teaching mode for MG-PTQ (issue 19; docs/teaching.md): the allocator's training replayed on
/// one matrix — per column, its softmax over the widths and the epoch's Gumbel-Softmax sample
/// (sharpening towards one-hot as τ falls), with τ and the expected bits over the epochs —
/// and a short text per frame. Previous / next / play and a frame slider. GUI thread only.
class MgptqTeachView : public PlotView {
    Q_OBJECT
public:
    explicit MgptqTeachView(QWidget* parent = nullptr);

    void setTrace(std::shared_ptr<const MgptqTrace> trace, const QString& label);
    void setMessage(const QString& message);
    bool hasTrace() const { return m_trace != nullptr; }
    /// Frames 0..frames()-1.
    void setFrame(int frame);
    int frame() const { return m_frame; }
    int frames() const;
    void setPlaying(bool playing);
    bool playing() const;
    QString frameText() const;
    static QString describeFrame(const MgptqTrace& t, int frame);

private:
    void redraw();

    std::shared_ptr<const MgptqTrace> m_trace;
    int m_frame = -1;
    QCPAxisRect* m_probRect = nullptr;
    QCPAxisRect* m_sampleRect = nullptr;
    QCPAxisRect* m_curveRect = nullptr;
    QCPColorMap* m_prob = nullptr;
    QCPColorMap* m_sample = nullptr;
    QCPGraph* m_tau = nullptr;
    QCPGraph* m_bits = nullptr;
    QCPItemStraightLine* m_now = nullptr;
    QLabel* m_text = nullptr;
    QLabel* m_frameLabel = nullptr;
    QSlider* m_slider = nullptr;
    QPushButton* m_prev = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_play = nullptr;
    QTimer* m_timer = nullptr;
};

} // namespace mpq::gui
