#include "HessianGraphView.h"

#include "BitPalette.h"
#include "HessianGraphSummary.h"
#include "LogScale.h"
#include "QCustomPlotInclude.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QHelpEvent>
#include <QToolTip>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace mpq::gui {

/// The heat map: a QCPColorMap that can be handed the image an earlier draw of the same cells
/// made, so that showing a cached graph again or switching the order does not colourise its
/// 512 × 512 cells on the log scale again (that was half of a show's time).
class HessianGraphView::HeatMap : public QCPColorMap {
public:
    HeatMap(QCPAxis* key, QCPAxis* value) : QCPColorMap(key, value) {}
    /// The next draws use `image` (null: colourise the cells as usual).
    void reuse(const QImage& image)
    {
        m_reuse = image;
        m_made = false;
    }
    /// The image colourised by the last draw since reuse(), else null.
    QImage madeImage() const { return m_made ? mMapImage : QImage(); }

protected:
    void updateMapImage() override
    {
        if (!m_reuse.isNull()) {
            mMapImage = m_reuse;
            mMapImageInvalidated = false;
            return;
        }
        QCPColorMap::updateMapImage();
        m_made = true;
    }

private:
    QImage m_reuse;
    bool m_made = false;
};

/// The strongest edges of the node-link drawing, drawn as a few batches of hairlines (one per
/// opacity level) rather than as 240 line items of widths up to 2.5 px: those were each a stroke
/// through Qt's general stroker and painting thread pool, most of a redraw's time.
class HessianGraphView::EdgeLines : public QCPLayerable {
public:
    struct Edge {
        double x0, y0, x1, y1;
        double t; ///< strength in [0, 1] on the colour scale
    };
    static constexpr int kLevels = 16;

    EdgeLines(QCustomPlot* plot, QCPAxisRect* rect)
        : QCPLayerable(plot, QStringLiteral("background")), m_rect(rect)
    {
    }
    void setEdges(std::vector<Edge> edges)
    {
        for (auto& level : m_levels)
            level.clear();
        for (const Edge& e : edges)
            m_levels[size_t(std::clamp(int(std::lround(e.t * (kLevels - 1))), 0, kLevels - 1))].push_back(e);
    }

protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override
    {
        applyAntialiasingHint(painter, mAntialiased, QCP::aeItems);
    }
    QRect clipRect() const override { return m_rect->rect(); }
    void draw(QCPPainter* painter) override
    {
        QCPAxis* x = m_rect->axis(QCPAxis::atBottom);
        QCPAxis* y = m_rect->axis(QCPAxis::atLeft);
        // Light lines on a dark plot (PlotView::applyTheme gives the plot the window's palette).
        const bool dark = PlotView::isDark(mParentPlot->palette());
        QVector<QLineF> lines;
        for (int level = 0; level < kLevels; ++level) {
            if (m_levels[size_t(level)].empty())
                continue;
            const double t = double(level) / (kLevels - 1);
            // Hairlines (cosmetic, one pixel): Qt draws them with its fast line stroker. Wider
            // pens (up to 2.5 px, as before) went through the general stroker and Qt's painting
            // thread pool, 12–50 ms per redraw on the shared 2-core machine; 240 wide chords were
            // also a black mass on a 7B graph. Strength is the line's opacity.
            QColor ink = dark ? QColor(225, 225, 225) : QColor(40, 40, 40);
            ink.setAlpha(int(40 + 170 * t));
            QPen pen(ink, 1.0);
            pen.setCosmetic(true);
            painter->setPen(pen);
            lines.clear();
            for (const Edge& e : m_levels[size_t(level)])
                lines.append(QLineF(x->coordToPixel(e.x0), y->coordToPixel(e.y0), x->coordToPixel(e.x1),
                                    y->coordToPixel(e.y1)));
            painter->drawLines(lines);
        }
    }

private:
    QCPAxisRect* m_rect;
    std::array<std::vector<Edge>, kLevels> m_levels;
};

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
    m_heat = new HeatMap(hx, hy);
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
    m_edges = new EdgeLines(p, m_graphRect);
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
    m_current.reset();
    if (m_data.available && m_data.cols > 0 && m_data.hasCoupling())
        m_current = cached(m_data);
    // The view keeps what it draws and hovers over; the coupling itself is in the summary.
    m_data.edges = {};
    m_data.adjacency = {};
    rebuild();
}

std::shared_ptr<HessianGraphView::Cached> HessianGraphView::cached(const HessianGraphData& data)
{
    if (!data.key.isEmpty())
        for (auto it = m_cache.begin(); it != m_cache.end(); ++it)
            if (it->first == data.key) {
                auto hit = *it; // most recently used first
                m_cache.erase(it);
                m_cache.push_front(hit);
                return hit.second;
            }
    auto c = std::make_shared<Cached>();
    c->summary = HessianGraphSummary::compute(data, kMaxHeatCells, kMaxEdges, kMaxDots);
    ++m_summariesComputed;
    if (!data.key.isEmpty()) {
        m_cache.emplace_front(data.key, c);
        while (m_cache.size() > size_t(kCacheSize))
            m_cache.pop_back();
    }
    return c;
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
    const bool ok = m_data.available && n > 0 && m_current && m_current->summary.cols == n;
    m_heat->reuse(ok ? m_current->heat[m_actOrder ? 1 : 0] : QImage());
    hx->setLabel(m_actOrder ? tr("column j (act-order position)") : tr("column j (index)"));
    hy->setLabel(m_actOrder ? tr("column i (act-order position)") : tr("column i (index)"));
    if (!ok) {
        m_heat->data()->setSize(1, 1);
        m_heat->data()->fill(std::numeric_limits<double>::quiet_NaN());
        m_order.clear();
        m_layout = GraphLayout{};
        m_edges->setEdges({});
        p->legend->setVisible(false);
        setCaption(m_data.tensor.isEmpty() ? tr("Select a matrix to see its Hessian graph.")
                   : m_data.source.isEmpty() ? tr("%1: no Hessian stored for this run.").arg(m_data.tensor)
                                             : tr("%1: no Hessian graph — %2.").arg(m_data.tensor, m_data.source));
        replotNow();
        return;
    }
    const HessianGraphSummary& s = m_current->summary;
    m_order = m_actOrder ? s.actOrder : std::vector<int64_t>{};
    const LogScale& scale = s.scale;
    QCPColorMapData* d = m_heat->data();
    const int64_t k = s.block;
    const int cells = s.cells;
    const std::vector<float>& pooled = s.heat(m_actOrder);
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

    // Positions only (O(columns)); the edges were chosen once, in the summary.
    m_layout = GraphLayout::circular({}, n, m_order, 0);
    m_layout.edges = s.strongest;
    QCPAxis* gx = m_graphRect->axis(QCPAxis::atBottom);
    QCPAxis* gy = m_graphRect->axis(QCPAxis::atLeft);
    const double wMax = m_layout.edges.empty() ? 1.0 : m_layout.edges.front().weight;
    std::vector<EdgeLines::Edge> lines;
    for (const auto& e : m_layout.edges) {
        const double t = scale.map(e.weight) / std::max(scale.map(wMax), 1e-9);
        lines.push_back({m_layout.x[size_t(e.a)], m_layout.y[size_t(e.a)], m_layout.x[size_t(e.b)],
                         m_layout.y[size_t(e.b)], t});
    }
    m_edges->setEdges(std::move(lines));
    // At most kMaxDots node dots (one per column up to that, else the mean bits of k adjacent
    // positions): a 4096- or 11008-column circle is a solid ring at any window size, and
    // drawing every column's disc was most of a redraw's time.
    std::map<int, QCPCurve*> byBits;
    const int64_t per = s.columnsPerDot;
    const std::vector<HessianGraphSummary::Dot>& dots = s.dots(m_actOrder);
    for (const HessianGraphSummary::Dot& dot : dots)
        byBits[dot.bits] = nullptr;
    for (auto& [b, curve] : byBits) { // one curve per width, the legend in increasing bits
        curve = new QCPCurve(gx, gy);
        curve->setLineStyle(QCPCurve::lsNone);
        const QColor col = BitPalette::color(b);
        curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, col, col, n > 600 ? 4 : 7));
        curve->setName(b > 0 ? (per > 1 ? tr("%1 bits (mean)").arg(b) : tr("%1 bits").arg(b)) : tr("no bits"));
    }
    for (const HessianGraphSummary::Dot& dot : dots)
        byBits[dot.bits]->addData(dot.x, dot.y);
    p->legend->setVisible(true);
    QString detail;
    if (k > 1)
        detail += tr(" (heat map: strongest coupling per %1×%1 block of columns)").arg(k);
    if (per > 1)
        detail += tr("; circle: 1 dot = %1 adjacent columns, coloured by their mean bits").arg(per);
    setCaption(tr("%1 — %2 columns%6; heat map cells below %3 left blank; %4 strongest edges drawn. Source: %5")
                   .arg(m_data.tensor)
                   .arg(n)
                   .arg(scale.lo, 0, 'g', 2)
                   .arg(m_layout.edges.size())
                   .arg(m_data.source)
                   .arg(detail));
    replotNow();
    const QImage made = m_heat->madeImage();
    if (!made.isNull())
        m_current->heat[m_actOrder ? 1 : 0] = made;
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
