#include "HessianGraphView.h"

#include "BitPalette.h"
#include "LogScale.h"
#include "QCustomPlotInclude.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QHelpEvent>
#include <QToolTip>

#include <cmath>
#include <map>

namespace mpq::gui {

namespace {
constexpr int kMaxEdges = 240;
}

HessianGraphView::HessianGraphView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("Hessian graph of the selected matrix: how strongly the quantization error of one input "
                  "column couples into another (heat map, log colour) and the strongest couplings as edges, "
                  "nodes coloured by bits."));
    QCustomPlot* p = plot();
    // The default axis rect goes; its legend is kept and moved into the graph's rect.
    p->axisRect()->insetLayout()->take(p->legend);
    p->plotLayout()->clear();
    m_heatRect = new QCPAxisRect(p);
    m_graphRect = new QCPAxisRect(p);
    p->plotLayout()->addElement(0, 0, m_heatRect);
    m_scale = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 1, m_scale);
    p->plotLayout()->addElement(0, 2, m_graphRect);
    p->plotLayout()->setColumnStretchFactor(0, 1.0);
    p->plotLayout()->setColumnStretchFactor(1, 0.01);
    p->plotLayout()->setColumnStretchFactor(2, 1.0);

    QCPAxis* hx = m_heatRect->axis(QCPAxis::atBottom);
    QCPAxis* hy = m_heatRect->axis(QCPAxis::atLeft);
    hy->setRangeReversed(true);
    m_heat = new QCPColorMap(hx, hy);
    m_heat->setInterpolate(false);
    m_heat->setColorScale(m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setDataScaleType(QCPAxis::stLogarithmic);
    m_scale->setLabel(tr("coupling |U_ij|/U_ii (log)"));
    m_scale->axis()->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    QCPColorGradient g(QCPColorGradient::gpThermal);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    m_heat->setGradient(g);

    for (QCPAxisRect* r : {m_heatRect, m_graphRect}) {
        r->setRangeDrag(Qt::Horizontal | Qt::Vertical);
        r->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    }
    m_graphRect->insetLayout()->addElement(p->legend, Qt::AlignTop | Qt::AlignRight);
    p->legend->setFont(QFont(p->font().family(), 8));
    p->legend->setVisible(false);
    QCPAxis* gx = m_graphRect->axis(QCPAxis::atBottom);
    QCPAxis* gy = m_graphRect->axis(QCPAxis::atLeft);
    gx->setLabel(tr("node-link drawing (unit circle, position = column order)"));
    gy->setLabel(tr("strongest couplings"));
    gx->setRange(-1.15, 1.15);
    gy->setRange(-1.15, 1.15);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mouseMove, this, &HessianGraphView::onMove);
    p->installEventFilter(this);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("column order:"), this));
    m_orderBox = new QComboBox(this);
    m_orderBox->addItems({tr("natural"), tr("act-order (decreasing H_jj)")});
    m_orderBox->setToolTip(tr("Order of the columns in the heat map and around the circle"));
    controls->addWidget(m_orderBox);
    controls->addStretch(1);
    static_cast<QVBoxLayout*>(layout())->addLayout(controls);
    connect(m_orderBox, &QComboBox::currentIndexChanged, this, [this](int i) { setActOrder(i == 1); });
    styleAxes(p);
    setGraph({});
}

void HessianGraphView::setActOrder(bool actOrder)
{
    m_actOrder = actOrder;
    {
        const QSignalBlocker block(m_orderBox);
        m_orderBox->setCurrentIndex(actOrder ? 1 : 0);
    }
    rebuild();
}

void HessianGraphView::setGraph(const HessianGraphData& data)
{
    m_data = data;
    rebuild();
}

void HessianGraphView::rebuild()
{
    QCustomPlot* p = plot();
    p->clearItems();
    for (int i = p->plottableCount() - 1; i >= 0; --i)
        if (p->plottable(i) != m_heat)
            p->removePlottable(i);
    QCPAxis* hx = m_heatRect->axis(QCPAxis::atBottom);
    QCPAxis* hy = m_heatRect->axis(QCPAxis::atLeft);
    const int64_t n = m_data.cols;
    const bool ok = m_data.available && n > 0 && m_data.adjacency.size() == size_t(n * n);
    hx->setLabel(m_actOrder ? tr("column j (act-order position)") : tr("column j (index)"));
    hy->setLabel(m_actOrder ? tr("column i (act-order position)") : tr("column i (index)"));
    if (!ok) {
        m_heat->data()->setSize(1, 1);
        m_heat->data()->fill(std::numeric_limits<double>::quiet_NaN());
        m_order.clear();
        m_layout = GraphLayout{};
        p->legend->setVisible(false);
        setCaption(m_data.tensor.isEmpty() ? tr("Select a matrix to see its Hessian graph.")
                   : m_data.source.isEmpty() ? tr("%1: no Hessian stored for this run.").arg(m_data.tensor)
                                             : tr("%1: no Hessian graph — %2.").arg(m_data.tensor, m_data.source));
        replotNow();
        return;
    }
    m_order = m_actOrder ? (m_data.actOrder.empty() ? GraphLayout::actOrder(m_data.diagonal) : m_data.actOrder)
                         : std::vector<int64_t>{};
    const auto colAt = [&](int64_t pos) { return m_order.empty() ? pos : m_order[size_t(pos)]; };

    const LogScale scale = LogScale::fit(m_data.adjacency.data(), (long long)m_data.adjacency.size());
    QCPColorMapData* d = m_heat->data();
    // Wide matrices: each heat-map cell is the strongest coupling of a k×k block of columns (max
    // pooling keeps strong edges visible), at most kMaxHeatCells cells a side — about the plot's
    // pixels — so that a 4096-column graph draws in tens of milliseconds, not a second.
    const int64_t k = (n + kMaxHeatCells - 1) / kMaxHeatCells;
    const int cells = int((n + k - 1) / k);
    std::vector<float> pooled(size_t(cells) * size_t(cells), 0.f);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t ci = colAt(i);
        float* dst = pooled.data() + size_t(i / k) * size_t(cells);
        const float* src = m_data.adjacency.data() + size_t(ci * n);
        if (m_order.empty()) {
            for (int64_t j = 0; j < n; ++j)
                dst[j / k] = std::max(dst[j / k], src[j]);
        } else {
            for (int64_t j = 0; j < n; ++j)
                dst[j / k] = std::max(dst[j / k], src[m_order[size_t(j)]]);
        }
    }
    d->setSize(cells, cells);
    const double c0 = double(k - 1) / 2;
    d->setRange(QCPRange(c0, c0 + double(cells - 1) * double(k)), QCPRange(c0, c0 + double(cells - 1) * double(k)));
    for (int i = 0; i < cells; ++i)
        for (int j = 0; j < cells; ++j) {
            const double w = pooled[size_t(i) * size_t(cells) + size_t(j)];
            d->setCell(j, i, w >= scale.lo ? w : std::numeric_limits<double>::quiet_NaN());
        }
    m_heatBlock = k;
    m_heat->setDataRange(QCPRange(scale.lo, scale.hi));
    // Log ticks whose labels differ (QCPAxisTickerLog repeats "1·10⁻³" inside one decade).
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    for (double t : scale.ticks())
        ticks->addTick(t, QString::number(t, 'g', 2));
    m_scale->axis()->setTicker(ticks);
    hx->setRange(-0.5, double(n) - 0.5);
    hy->setRange(-0.5, double(n) - 0.5);

    m_layout = GraphLayout::circular(m_data.adjacency, n, m_order, kMaxEdges);
    QCPAxis* gx = m_graphRect->axis(QCPAxis::atBottom);
    QCPAxis* gy = m_graphRect->axis(QCPAxis::atLeft);
    const double wMax = m_layout.edges.empty() ? 1.0 : m_layout.edges.front().weight;
    for (const auto& e : m_layout.edges) {
        auto* line = new QCPItemLine(p);
        line->setClipAxisRect(m_graphRect);
        line->start->setAxes(gx, gy);
        line->end->setAxes(gx, gy);
        line->start->setCoords(m_layout.x[size_t(e.a)], m_layout.y[size_t(e.a)]);
        line->end->setCoords(m_layout.x[size_t(e.b)], m_layout.y[size_t(e.b)]);
        const double t = scale.map(e.weight) / std::max(scale.map(wMax), 1e-9);
        line->setPen(QPen(QColor(40, 40, 40, int(40 + 170 * t)), 0.5 + 2.0 * t));
        line->setLayer(QStringLiteral("background"));
    }
    std::map<int, QCPCurve*> byBits;
    for (int64_t c = 0; c < n; ++c) {
        const int b = c < int64_t(m_data.bits.size()) ? int(m_data.bits[size_t(c)]) : 0;
        QCPCurve*& curve = byBits[b];
        if (!curve) {
            curve = new QCPCurve(gx, gy);
            curve->setLineStyle(QCPCurve::lsNone);
            const QColor col = BitPalette::color(b);
            curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, col, col, n > 600 ? 4 : 7));
            curve->setName(b > 0 ? tr("%1 bits").arg(b) : tr("no bits"));
        }
        curve->addData(m_layout.x[size_t(c)], m_layout.y[size_t(c)]);
    }
    p->legend->setVisible(true);
    setCaption(tr("%1 — %2 columns%6; heat map cells below %3 left blank; %4 strongest edges drawn. Source: %5")
                   .arg(m_data.tensor)
                   .arg(n)
                   .arg(scale.lo, 0, 'g', 2)
                   .arg(m_layout.edges.size())
                   .arg(m_data.source)
                   .arg(k > 1 ? tr(" (heat map: strongest coupling per %1×%1 block of columns)").arg(k) : QString()));
    replotNow();
}

int HessianGraphView::columnAt(const QPoint& pos) const
{
    const int64_t n = m_data.cols;
    if (m_order.size() != size_t(n) && !m_order.empty())
        return -1;
    if (n <= 0 || m_layout.x.size() != size_t(n))
        return -1;
    if (m_heatRect->rect().contains(pos)) {
        const double x = m_heatRect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x());
        const long long k = std::llround(x);
        if (k < 0 || k >= n)
            return -1;
        return int(m_order.empty() ? k : m_order[size_t(k)]);
    }
    if (m_graphRect->rect().contains(pos)) {
        QCPAxis* gx = m_graphRect->axis(QCPAxis::atBottom);
        QCPAxis* gy = m_graphRect->axis(QCPAxis::atLeft);
        int best = -1;
        double bestD = 8.0 * 8.0; // pixels²
        for (int64_t c = 0; c < n; ++c) {
            const double dx = gx->coordToPixel(m_layout.x[size_t(c)]) - pos.x();
            const double dy = gy->coordToPixel(m_layout.y[size_t(c)]) - pos.y();
            if (dx * dx + dy * dy < bestD) {
                bestD = dx * dx + dy * dy;
                best = int(c);
            }
        }
        return best;
    }
    return -1;
}

QString HessianGraphView::hoverText(const QPoint& pos) const
{
    const int c = columnAt(pos);
    if (c < 0)
        return {};
    const QString bits = c < int(m_data.bits.size()) ? QString::number(m_data.bits[size_t(c)]) : tr("—");
    const QString diag = c < int(m_data.diagonal.size()) ? QString::number(m_data.diagonal[size_t(c)], 'g', 4) : tr("—");
    return tr("column %1\nH_jj = %2\nbits = %3").arg(c).arg(diag, bits);
}

QStringList HessianGraphView::colorScaleLabels() const
{
    QStringList out;
    const auto ticker = m_scale->axis()->ticker().dynamicCast<QCPAxisTickerText>();
    if (ticker)
        for (const QString& label : ticker->ticks())
            out << label;
    return out;
}

bool HessianGraphView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot() && event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = hoverText(help->pos());
        if (!text.isEmpty()) {
            QToolTip::showText(help->globalPos(), text, plot());
            return true; // the readout stays; the view's description is for the empty areas
        }
    }
    return PlotView::eventFilter(watched, event);
}

void HessianGraphView::onMove(QMouseEvent* event)
{
    const QString text = hoverText(event->pos());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace mpq::gui
