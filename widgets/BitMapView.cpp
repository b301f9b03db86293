#include "BitMapView.h"

#include "BitPalette.h"

#include "QCustomPlotInclude.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpq::gui {

BitMapView::BitMapView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("Bit-width map: every row is a weight matrix, every cell an input column coloured by the "
                  "bits it was quantized with; click a row to select that matrix."));
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("input column (index)"));
    p->yAxis->setLabel(tr("matrix (average bits per column)"));
    p->yAxis->setRangeReversed(true);
    p->yAxis->grid()->setVisible(false);
    p->xAxis->grid()->setVisible(false);

    m_map = new QCPColorMap(p->xAxis, p->yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(true);
    m_scale = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setLabel(tr("bits per column"));
    m_scale->setBarWidth(14);
    m_map->setColorScale(m_scale);

    // A discrete gradient: bit-width b (1..8) is exactly the colour stop (b−1)/7.
    QCPColorGradient g;
    QMap<double, QColor> stops;
    for (int b = 1; b <= 8; ++b)
        stops.insert(double(b - 1) / 7.0, BitPalette::color(b));
    g.setColorStops(stops);
    g.setLevelCount(8);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(g);
    m_map->setDataRange(QCPRange(1, 8));
    QSharedPointer<QCPAxisTickerFixed> bitTicks(new QCPAxisTickerFixed);
    bitTicks->setTickStep(1);
    m_scale->axis()->setTicker(bitTicks);

    auto* margins = new QCPMarginGroup(p);
    p->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    m_selection = new QCPItemRect(p);
    m_selection->setPen(QPen(Qt::black, 2));
    m_selection->setBrush(Qt::NoBrush);
    m_selection->setVisible(false);

    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    p->axisRect()->setRangeZoom(Qt::Horizontal);
    p->axisRect()->setRangeDrag(Qt::Horizontal);
    connect(p, &QCustomPlot::mousePress, this, &BitMapView::onPress);
    // Row labels depend on the rows' height in pixels, known once the plot is laid out.
    connect(p, &QCustomPlot::afterLayout, this, [this] {
        const int before = m_stride;
        applyRowLabels();
        // Column ticks about 70 px apart, so that a narrow map (beside the trade-off) stays legible.
        const int ticks = std::max(2, plot()->axisRect()->rect().width() / 70);
        const bool tickChange = plot()->xAxis->ticker()->tickCount() != ticks;
        plot()->xAxis->ticker()->setTickCount(ticks);
        if (m_stride != before || tickChange)
            requestReplot();
    });
    styleAxes(p);
    setMatrices({}, tr("No run selected: open a result or run a job."));
}

void BitMapView::setMatrices(const std::vector<MatrixResult>& matrices, const QString& title)
{
    QCustomPlot* p = plot();
    m_tensors.clear();
    m_cols.clear();
    int64_t maxCols = 1;
    for (const auto& m : matrices)
        maxCols = std::max<int64_t>(maxCols, int64_t(m.columnBits.size()));
    const int rows = std::max<int>(int(matrices.size()), 1);

    QCPColorMapData* data = m_map->data();
    data->setSize(int(maxCols), rows);
    // Cell (c, r) covers column c and matrix row r.
    data->setRange(QCPRange(0, double(maxCols - 1)), QCPRange(0, double(rows - 1)));
    data->fill(std::numeric_limits<double>::quiet_NaN());

    m_labels.clear();
    for (int r = 0; r < int(matrices.size()); ++r) {
        const MatrixResult& m = matrices[size_t(r)];
        m_tensors << m.tensor;
        m_cols.push_back(int64_t(m.columnBits.size()));
        for (size_t c = 0; c < m.columnBits.size(); ++c)
            data->setCell(int(c), r, m.columnBits[c]);
        m_labels << QStringLiteral("L%1 %2  %3").arg(m.layer).arg(m.linear).arg(m.averageBits(), 0, 'f', 2);
    }
    p->yAxis->setRange(-0.5, rows - 0.5);
    p->xAxis->setRange(-0.5, double(maxCols) - 0.5);
    QFont small = p->yAxis->tickLabelFont();
    small.setPointSizeF(matrices.size() > 40 ? 7 : 8.5);
    p->yAxis->setTickLabelFont(small);
    applyRowLabels();

    if (matrices.empty()) {
        setCaption(title);
    } else {
        double sum = 0, n = 0;
        for (const auto& m : matrices) {
            for (uint8_t b : m.columnBits)
                sum += b;
            n += double(m.columnBits.size());
        }
        setCaption(tr("%1 — %2 matrices, %3 average bits per column (code bits, scales and zeros not counted)")
                       .arg(title)
                       .arg(matrices.size())
                       .arg(n > 0 ? sum / n : 0.0, 0, 'f', 3));
    }
    updateSelection();
    replotNow();
}

int BitMapView::labelStride(double pixelsPerRow, double lineHeight)
{
    if (!(pixelsPerRow > 0))
        return 1;
    return std::max(1, int(std::ceil(lineHeight * 1.05 / pixelsPerRow)));
}

void BitMapView::applyRowLabels()
{
    QCustomPlot* p = plot();
    const int rows = int(m_labels.size());
    const int height = p->axisRect()->rect().height() > 10 ? p->axisRect()->rect().height() : p->height() - 80;
    m_stride = rows > 0 ? labelStride(double(std::max(height, 1)) / rows, QFontMetricsF(p->yAxis->tickLabelFont()).height())
                        : 1;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int r = 0; r < rows; r += m_stride)
        ticker->addTick(r, m_labels[r]);
    p->yAxis->setTicker(ticker);
}

QStringList BitMapView::rowLabels() const
{
    QStringList out;
    for (int r = 0; r < int(m_labels.size()); r += m_stride)
        out << m_labels[r];
    return out;
}

void BitMapView::setSelectedTensor(const QString& tensor)
{
    m_selected = tensor;
    updateSelection();
    plot()->replot(QCustomPlot::rpQueuedReplot);
}

void BitMapView::updateSelection()
{
    const int row = int(m_tensors.indexOf(m_selected));
    m_selection->setVisible(row >= 0);
    if (row < 0)
        return;
    m_selection->topLeft->setCoords(-0.5, row - 0.5);
    m_selection->bottomRight->setCoords(double(m_cols[size_t(row)]) - 0.5, row + 0.5);
}

void BitMapView::onPress(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton || !plot()->axisRect()->rect().contains(event->pos()))
        return;
    const int row = int(std::lround(plot()->yAxis->pixelToCoord(event->pos().y())));
    if (row < 0 || row >= m_tensors.size())
        return;
    setSelectedTensor(m_tensors[row]);
    Q_EMIT matrixClicked(m_tensors[row]);
}

} // namespace mpq::gui
