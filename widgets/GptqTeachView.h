#pragma once

#include "TeachPlayerView.h"

#include "quant/GptqTrace.h"

#include <memory>

class QCPAxisRect;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;

namespace mpq::gui {

/// Teaching mode for GPTQ (issue 19; docs/teaching.md): the steps of GPTQ on one matrix played
/// back on two heat maps — the working weights (quantized columns hold Q) and their change from
/// W (the quantization error where quantized, the compensation where not) — with the column and
/// block outlined and a short text saying what the step did. Previous / next / play, a step
/// slider, and the keys ←/→ (a step), Home/End, Space (play). GUI thread only.
class GptqTeachView : public TeachPlayerView {
    Q_OBJECT
public:
    explicit GptqTeachView(QWidget* parent = nullptr);

    /// Plays back `trace`; `label` names the matrix and run ("layer 0 · q_proj of gptq-3bit").
    void setTrace(std::shared_ptr<const GptqTrace> trace, const QString& label);
    /// Nothing to play; `message` says why (shown as the caption).
    void setMessage(const QString& message);
    bool hasTrace() const { return m_trace != nullptr; }
    /// Step 0 is W before GPTQ; 1..steps() the trace's steps.
    void setStep(int step) { goTo(step); }
    int step() const { return position(); }
    int steps() const;
    void next() { goTo(position() + 1); }
    void previous() { goTo(position() - 1); }
    /// The explanation shown now.
    QString stepText() const { return positionText(); }
    /// The explanation of step `step` of `t` (0: the start).
    static QString describeStep(const GptqTrace& t, int step);
    bool writeCsv(QTextStream& out) const override;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void showPosition(int step) override;

    std::shared_ptr<const GptqTrace> m_trace;
    QString m_label;
    QCPAxisRect* m_leftRect = nullptr;
    QCPAxisRect* m_rightRect = nullptr;
    QCPColorMap* m_weights = nullptr;
    QCPColorMap* m_change = nullptr;
    QCPColorScale* m_weightScale = nullptr;
    QCPColorScale* m_changeScale = nullptr;
    QCPItemRect* m_columnMark[2] = {nullptr, nullptr};
    QCPItemRect* m_blockMark[2] = {nullptr, nullptr};
};

} // namespace mpq::gui
