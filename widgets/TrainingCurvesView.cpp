#include "TrainingCurvesView.h"

#include "QCustomPlotInclude.h"

#include <algorithm>

namespace mpq::gui {

namespace {
void fill(QCPGraph* g, const std::vector<double>& v, double& lo, double& hi)
{
    QVector<double> x, y;
    for (size_t i = 0; i < v.size(); ++i) {
        x << double(i);
        y << v[i];
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
    }
    g->setData(x, y, true);
}
} // namespace

TrainingCurvesView::TrainingCurvesView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("Allocator training of the selected matrix: loss, bit penalty L_bit and average bits per "
                  "column at every epoch."));
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("epoch"));
    p->yAxis->setLabel(tr("loss (normalised: 1 = every column at the lowest width)"));
    p->yAxis2->setVisible(true);
    p->yAxis2->setLabel(tr("average bits per column"));
    placeLegendBelow(p);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_loss = p->addGraph(p->xAxis, p->yAxis);
    m_loss->setName(tr("loss L_quant + α·L_bit"));
    m_loss->setPen(QPen(QColor(0xd5, 0x5e, 0x00), 2));
    m_lQuant = p->addGraph(p->xAxis, p->yAxis);
    m_lQuant->setName(tr("L_quant (output error)"));
    m_lQuant->setPen(QPen(QColor(0xcc, 0x79, 0xa7), 1.5, Qt::DashLine));
    m_lBit = p->addGraph(p->xAxis, p->yAxis2);
    m_lBit->setName(tr("L_bit (bit penalty: expected bits, or their excess over the target)"));
    m_lBit->setPen(QPen(QColor(0x00, 0x72, 0xb2), 2));
    m_avgBits = p->addGraph(p->xAxis, p->yAxis2);
    m_avgBits->setName(tr("argmax average bits"));
    m_avgBits->setPen(QPen(QColor(0x00, 0x9e, 0x73), 2, Qt::DotLine));
    styleAxes(p);
    setCurves({}, tr("Select an MG-PTQ matrix to see its allocator's training."));
}

void TrainingCurvesView::setCurves(const TrainingCurves& c, const QString& title)
{
    double lo = 0, hi = 0.1, blo = 1e9, bhi = -1e9;
    fill(m_loss, c.loss, lo, hi);
    fill(m_lQuant, c.lQuant, lo, hi);
    fill(m_lBit, c.lBit, blo, bhi);
    fill(m_avgBits, c.avgBits, blo, bhi);
    QCustomPlot* p = plot();
    const double epochs = double(std::max(c.loss.size(), c.lBit.size()));
    p->xAxis->setRange(0, std::max(epochs - 1, 1.0));
    p->yAxis->setRange(std::min(lo, 0.0), hi * 1.05);
    if (bhi >= blo)
        p->yAxis2->setRange(std::floor(blo) - 0.1, std::ceil(bhi) + 0.1);
    else
        p->yAxis2->setRange(1, 8);
    setCaption(c.empty() ? title
                         : tr("%1 — %2 epochs, α = %3").arg(title).arg(c.loss.size()).arg(c.alpha, 0, 'g', 3));
    replotNow();
}

} // namespace mpq::gui
