#pragma once

#include "PlotView.h"
#include "TrainingCurves.h"

class QCPGraph;

namespace mpq::gui {

/// MG-PTQ allocator training of one matrix: the loss L_quant + α·L_bit and L_quant (left axis), L_bit and the
/// argmax average bits per column (right axis) per epoch. GUI thread only.
class TrainingCurvesView : public PlotView {
    Q_OBJECT
public:
    explicit TrainingCurvesView(QWidget* parent = nullptr);
    /// `title` names the matrix; empty curves show `title` as the reason.
    void setCurves(const TrainingCurves& curves, const QString& title);

private:
    QCPGraph* m_loss = nullptr;
    QCPGraph* m_lQuant = nullptr;
    QCPGraph* m_lBit = nullptr;
    QCPGraph* m_avgBits = nullptr;
};

} // namespace mpq::gui
