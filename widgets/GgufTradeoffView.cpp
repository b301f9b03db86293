#include "GgufTradeoffView.h"

#include "SeriesColors.h"

#include "QCustomPlotInclude.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mpq::gui {

namespace {

const QColor kMixColor = SeriesColors::color(QStringLiteral("MXQ"));
const QColor kPresetColor(0xd5, 0x5e, 0x00); // vermillion: apart from MXQ's blue, also for deuteranopes

QString typeList(const std::map<std::string, int>& counts)
{
    QStringList parts;
    for (const auto& [type, n] : counts)
        parts << QStringLiteral("%1 × %2").arg(n).arg(QString::fromStdString(type));
    return parts.join(QStringLiteral(", "));
}

QString costName(const std::string& kind)
{
    return kind == "hessian" ? QObject::tr("Σ tr(ΔW H ΔWᵀ) over the linears (log)")
                             : QObject::tr("Σ ‖W − Ŵ‖_F over the linears (log)");
}

} // namespace

GgufTradeoffView::GgufTradeoffView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("GGUF trade-off: llama.cpp tensor types chosen per matrix by MXQ's program (curve over budgets) "
                  "beside llama.cpp's fixed presets (labelled points), size against summed error and, for "
                  "evaluated GGUF runs, against perplexity."));
    QCustomPlot* p = plot();
    // Two panels sharing the bits-per-weight axis: the cost table's error on top, measured
    // perplexity below, left margins aligned so that the x axes line up.
    m_pplRect = new QCPAxisRect(p);
    p->plotLayout()->addElement(1, 0, m_pplRect);
    auto* margins = new QCPMarginGroup(p);
    p->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    m_pplRect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    p->plotLayout()->setRowStretchFactor(0, 3);
    p->plotLayout()->setRowStretchFactor(1, 2);
    placeLegendBelow(p);

    const QString bpw = tr("bits per weight of the linear matrices (block scales included)");
    p->xAxis->setLabel(bpw);
    QSharedPointer<QCPAxisTickerLog> logTicker(new QCPAxisTickerLog);
    logTicker->setSubTickCount(8);
    p->yAxis->setScaleType(QCPAxis::stLogarithmic);
    p->yAxis->setTicker(logTicker);
    p->yAxis->setNumberFormat(QStringLiteral("gb"));
    QCPAxis* pplX = m_pplRect->axis(QCPAxis::atBottom);
    QCPAxis* pplY = m_pplRect->axis(QCPAxis::atLeft);
    pplX->setLabel(bpw);
    // One x range for both panels.
    connect(p->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), pplX, qOverload<const QCPRange&>(&QCPAxis::setRange));

    m_mixGraph = p->addGraph();
    m_mixGraph->setName(tr("MIP mixes (MXQ's program, gguf-mxq) over budgets"));
    m_mixGraph->setPen(QPen(kMixColor, 2));
    m_mixGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kMixColor, kMixColor, 5));
    m_presetGraph = p->addGraph();
    m_presetGraph->setName(tr("llama.cpp presets (its per-tensor rules, our quantizers)"));
    m_presetGraph->setLineStyle(QCPGraph::lsNone);
    m_presetGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(kPresetColor, 2), kPresetColor, 9));
    m_mixRunGraph = p->addGraph(pplX, pplY);
    m_mixRunGraph->setName(tr("evaluated gguf-mxq runs"));
    m_mixRunGraph->setPen(QPen(kMixColor, 1.5, Qt::DashLine));
    m_mixRunGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kMixColor, 2), Qt::white, 8));
    m_presetRunGraph = p->addGraph(pplX, pplY);
    m_presetRunGraph->setName(tr("evaluated preset runs"));
    m_presetRunGraph->setLineStyle(QCPGraph::lsNone);
    m_presetRunGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(kPresetColor, 2), Qt::white, 9));

    m_unquantizedLine = new QCPItemStraightLine(p);
    m_unquantizedLine->setClipAxisRect(m_pplRect);
    for (QCPItemPosition* pos : {m_unquantizedLine->point1, m_unquantizedLine->point2})
        pos->setAxes(m_pplRect->axis(QCPAxis::atBottom), m_pplRect->axis(QCPAxis::atLeft));
    m_unquantizedLine->setPen(QPen(Qt::darkGray, 1, Qt::DashLine));
    m_unquantizedLine->setVisible(false);
    m_pplEmpty = new QCPItemText(p);
    m_pplEmpty->setClipAxisRect(m_pplRect);
    m_pplEmpty->position->setAxisRect(m_pplRect);
    m_pplEmpty->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_pplEmpty->position->setCoords(0.5, 0.5);
    m_pplEmpty->setPositionAlignment(Qt::AlignCenter);
    m_pplEmpty->setColor(Qt::darkGray);

    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    p->axisRect()->setRangeDrag(Qt::Horizontal);
    p->axisRect()->setRangeZoom(Qt::Horizontal);
    m_pplRect->setRangeDrag(Qt::Horizontal);
    m_pplRect->setRangeZoom(Qt::Horizontal);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mouseMove, this, &GgufTradeoffView::onMouseMove);
    // Preset labels are placed where they overlap neither each other nor a marker; that needs
    // the laid-out axis rect, so it happens after each layout pass, before drawing.
    connect(p, &QCustomPlot::afterLayout, this, [this] {
        std::vector<QRect> taken;
        QCustomPlot* plot = this->plot();
        for (QCPItemText* t : m_labels) {
            QCPAxis* x = t->position->keyAxis();
            QCPAxis* y = t->position->valueAxis();
            const QPointF at(x->coordToPixel(t->position->key()), y->coordToPixel(t->position->value()));
            taken.push_back(QRect(at.toPoint() - QPoint(5, 5), QSize(10, 10)));
        }
        // The curves too: a label across the MIP line reads as part of it.
        for (QCPGraph* g : {m_mixGraph, m_mixRunGraph}) {
            QPointF last(-1, -1);
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                const QPointF at(g->keyAxis()->coordToPixel(it->key), g->valueAxis()->coordToPixel(it->value));
                const int steps = last.x() < 0 ? 0 : int(std::hypot(at.x() - last.x(), at.y() - last.y()) / 3);
                for (int k = 0; k <= steps; ++k) {
                    const QPointF q = steps == 0 ? at : last + (at - last) * (double(k) / steps);
                    taken.push_back(QRect(q.toPoint() - QPoint(2, 2), QSize(4, 4)));
                }
                last = at;
            }
        }
        const QFontMetrics fm(QFont(plot->font().family(), 8));
        for (QCPItemText* t : m_labels) {
            QCPAxis* x = t->position->keyAxis();
            QCPAxis* y = t->position->valueAxis();
            const QPoint at(int(x->coordToPixel(t->position->key())), int(y->coordToPixel(t->position->value())));
            const QSize size = fm.boundingRect(t->text()).size() + QSize(4, 2);
            const QRect area = t->clipAxisRect()->rect();
            // Where the label's rectangle goes, and the alignment + padding that put it there.
            struct Place {
                Qt::Alignment align;
                QMargins padding;
            };
            const int w = size.width(), h = size.height();
            const auto corner = [&](const Place& pl) {
                const int x = pl.align & Qt::AlignLeft    ? at.x() + pl.padding.left()
                              : pl.align & Qt::AlignRight ? at.x() - pl.padding.right() - w
                                                          : at.x() - w / 2;
                const int y = pl.align & Qt::AlignBottom ? at.y() - pl.padding.bottom() - h : at.y() + pl.padding.top();
                return QPoint(x, y);
            };
            const Qt::Alignment L = Qt::AlignLeft, R = Qt::AlignRight, C = Qt::AlignHCenter, B = Qt::AlignBottom,
                                T = Qt::AlignTop;
            // Above first: the presets lie on or above the MIP curve (it is optimal), so room is
            // usually there.
            const Place places[] = {
                {L | B, QMargins(5, 0, 0, 3)},  {R | B, QMargins(0, 0, 5, 3)},  {C | B, QMargins(0, 0, 0, 10)},
                {L | T, QMargins(5, 3, 0, 0)},  {R | T, QMargins(0, 3, 5, 0)},  {C | T, QMargins(0, 10, 0, 0)},
                {L | B, QMargins(5, 0, 0, 16)}, {R | B, QMargins(0, 0, 5, 16)}, {L | T, QMargins(5, 16, 0, 0)},
                {R | T, QMargins(0, 16, 5, 0)},
            };
            // The first place that is free, else the one that covers the least (crowded presets).
            const Place* chosen = &places[0];
            long best = -1;
            for (const Place& pl : places) {
                const QRect r(corner(pl), size);
                long covered = area.contains(r) ? 0 : long(w) * h;
                for (const QRect& o : taken) {
                    const QRect overlap = o.intersected(r);
                    covered += overlap.isEmpty() ? 0 : long(overlap.width()) * overlap.height();
                }
                if (best < 0 || covered < best) {
                    best = covered;
                    chosen = &pl;
                }
                if (covered == 0)
                    break;
            }
            t->setPositionAlignment(chosen->align);
            t->setPadding(chosen->padding);
            taken.push_back(QRect(corner(*chosen), size));
        }
    });
    styleAxes(p);
    redraw();
}

void GgufTradeoffView::setCurve(const GgufCurve& curve)
{
    m_curve = curve;
    m_curveError.clear();
    redraw();
}

void GgufTradeoffView::setCurveError(const QString& message)
{
    m_curve = GgufCurve();
    m_curveError = message;
    redraw();
}

void GgufTradeoffView::setRuns(const std::vector<GgufRunPoint>& runs, const QString& dataset)
{
    m_runs = runs;
    m_dataset = dataset;
    redraw();
}

int GgufTradeoffView::mixPoints() const { return m_mixGraph->dataCount(); }
int GgufTradeoffView::runPoints() const { return m_mixRunGraph->dataCount() + m_presetRunGraph->dataCount(); }
double GgufTradeoffView::unquantizedLevel() const { return m_unquantizedLine->visible() ? m_unquantizedLevel : -1; }
QString GgufTradeoffView::costAxisLabel() const { return plot()->yAxis->label(); }
QString GgufTradeoffView::perplexityAxisLabel() const { return m_pplRect->axis(QCPAxis::atLeft)->label(); }

QStringList GgufTradeoffView::presetLabels() const
{
    QStringList out;
    for (QCPItemText* t : m_labels)
        if (t->clipAxisRect() == plot()->axisRect())
            out << t->text();
    return out;
}

QList<QRect> GgufTradeoffView::labelRects() const
{
    QList<QRect> out;
    for (QCPItemText* t : m_labels)
        out << QRectF(t->topLeft->pixelPosition(), t->bottomRight->pixelPosition()).normalized().toRect().marginsRemoved(
            t->padding()); // the text itself
    return out;
}

void GgufTradeoffView::redraw()
{
    QCustomPlot* p = plot();
    for (QCPItemText* t : m_labels)
        p->removeItem(t);
    m_labels.clear();
    const auto addLabel = [&](QCPAxisRect* rect, double x, double y, const QString& text, const QColor& colour) {
        auto* label = new QCPItemText(p);
        label->setClipAxisRect(rect);
        label->position->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        label->position->setCoords(x, y);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setFont(QFont(p->font().family(), 8));
        label->setColor(colour);
        label->setText(text);
        m_labels.push_back(label);
    };

    const GgufTradeoff& t = m_curve.tradeoff;
    double xLo = 1e9, xHi = -1e9, cLo = 1e300, cHi = 0;
    const auto extend = [&](double x, double c) {
        xLo = std::min(xLo, x);
        xHi = std::max(xHi, x);
        if (c > 0) {
            cLo = std::min(cLo, c);
            cHi = std::max(cHi, c);
        }
    };
    QVector<double> mx, my, px, py;
    for (const auto& pt : t.mixes) {
        if (pt.cost <= 0)
            continue; // a log axis has no place for 0 (every matrix in F16 of an fp16 model)
        mx << pt.bitsPerWeight;
        my << pt.cost;
        extend(pt.bitsPerWeight, pt.cost);
    }
    for (const auto& pt : t.presets) {
        if (pt.cost <= 0)
            continue;
        px << pt.bitsPerWeight;
        py << pt.cost;
        extend(pt.bitsPerWeight, pt.cost);
        addLabel(p->axisRect(), pt.bitsPerWeight, pt.cost, QString::fromStdString(pt.name), kPresetColor.darker(130));
    }
    m_mixGraph->setData(mx, my, false);
    m_presetGraph->setData(px, py, false);
    p->yAxis->setLabel(t.mixes.empty() && t.presets.empty() ? tr("summed cost (log)") : costName(t.costKind));

    // The perplexity panel: evaluated GGUF runs, mixes joined by a line in order of size.
    std::vector<GgufRunPoint> mixRuns, presetRuns;
    const GgufRunPoint* unquantized = nullptr;
    for (const auto& r : m_runs)
        if (r.perplexity > 0 && r.unquantized)
            unquantized = &r;
        else if (r.perplexity > 0 && r.bitsPerWeight > 0)
            (r.preset ? presetRuns : mixRuns).push_back(r);
    std::sort(mixRuns.begin(), mixRuns.end(),
              [](const GgufRunPoint& a, const GgufRunPoint& b) { return a.bitsPerWeight < b.bitsPerWeight; });
    QVector<double> rx, ry, qx, qy;
    double yLo = 1e300, yHi = -1e300;
    for (const auto& r : mixRuns) {
        rx << r.bitsPerWeight;
        ry << r.perplexity;
    }
    for (const auto& r : presetRuns) {
        qx << r.bitsPerWeight;
        qy << r.perplexity;
    }
    for (const auto* set : {&mixRuns, &presetRuns})
        for (const auto& r : *set) {
            xLo = std::min(xLo, r.bitsPerWeight);
            xHi = std::max(xHi, r.bitsPerWeight);
            yLo = std::min(yLo, r.perplexity);
            yHi = std::max(yHi, r.perplexity);
            addLabel(m_pplRect, r.bitsPerWeight, r.perplexity, r.label, (r.preset ? kPresetColor : kMixColor).darker(130));
        }
    m_mixRunGraph->setData(rx, ry, true);
    m_presetRunGraph->setData(qx, qy, true);
    QCPAxis* pplY = m_pplRect->axis(QCPAxis::atLeft);
    pplY->setLabel(tr("perplexity on %1").arg(m_dataset));
    const bool anyRun = !mixRuns.empty() || !presetRuns.empty();
    m_pplEmpty->setVisible(!anyRun);
    m_pplEmpty->setText(tr("No evaluated GGUF runs yet: mpq quantize --method gguf-mxq --budget B or --method gguf "
                           "--type PRESET,\nthen evaluate the run (run menu ▸ Evaluate, or mpq eval)."));
    // The unquantized model: a level line (at 16 bits a point would squeeze the curves).
    m_unquantizedLine->setVisible(anyRun && unquantized);
    m_unquantizedLevel = unquantized ? unquantized->perplexity : -1;
    if (anyRun && unquantized) {
        m_unquantizedLine->point1->setCoords(0, unquantized->perplexity);
        m_unquantizedLine->point2->setCoords(1, unquantized->perplexity);
        yLo = std::min(yLo, unquantized->perplexity);
        yHi = std::max(yHi, unquantized->perplexity);
        addLabel(m_pplRect, xLo, unquantized->perplexity,
                 tr("%1 %2").arg(unquantized->label).arg(unquantized->perplexity, 0, 'f', 2), Qt::darkGray);
    }
    if (anyRun) {
        const double pad = std::max((yHi - yLo) * 0.12, yHi * 0.01);
        pplY->setRange(yLo - pad, yHi + pad);
    } else {
        pplY->setRange(0, 1);
    }

    if (xHi >= xLo)
        p->xAxis->setRange(std::floor(xLo * 2) / 2 - 0.1, std::ceil(xHi * 2) / 2 + 0.35); // room for a label
    else
        p->xAxis->setRange(2, 9);
    if (cHi > 0)
        p->yAxis->setRange(cLo / 1.5, cHi * 1.5);
    else
        p->yAxis->setRange(0.1, 10);

    QString text;
    if (!m_curveError.isEmpty()) {
        text = tr("GGUF cost table not usable: %1").arg(m_curveError);
    } else if (m_curve.source.isEmpty()) {
        text = tr("No GGUF cost table: File ▸ Open GGUF cost table… or --gguf-costs FILE (written by mpq quantize "
                  "MODEL --method gguf-mxq --budget B --gguf-costs FILE).");
    } else {
        text = tr("%1: %2 MIP mixes over budgets and %3 llama.cpp presets, scored by the %4 costs of %5 matrices (%6 ms)")
                   .arg(QFileInfo(m_curve.source).fileName())
                   .arg(t.mixes.size())
                   .arg(t.presets.size())
                   .arg(QString::fromStdString(t.costKind))
                   .arg(t.mixes.empty() ? 0 : std::accumulate(t.mixes.front().typeCounts.begin(),
                                                               t.mixes.front().typeCounts.end(), 0,
                                                               [](int a, const auto& kv) { return a + kv.second; }))
                   .arg(m_curve.seconds * 1e3, 0, 'f', 0);
        if (!t.skipped.empty())
            text += tr(" — left out: %1").arg(QString::fromStdString(t.skipped.front())) +
                    (t.skipped.size() > 1 ? tr(" (and %1 more)").arg(t.skipped.size() - 1) : QString());
    }
    setCaption(text);
    requestReplot();
}

QPoint GgufTradeoffView::pointPixel(const QString& name) const
{
    const GgufTradeoff& t = m_curve.tradeoff;
    for (const auto* set : {&t.presets, &t.mixes})
        for (const auto& pt : *set)
            if (QString::fromStdString(pt.name) == name && pt.cost > 0)
                return QPoint(int(std::lround(plot()->xAxis->coordToPixel(pt.bitsPerWeight))),
                              int(std::lround(plot()->yAxis->coordToPixel(pt.cost))));
    return {-1, -1};
}

QString GgufTradeoffView::hoverText(const QPoint& pixel) const
{
    const double radius = 8;
    QCustomPlot* p = plot();
    const auto near = [&](QCPAxis* x, QCPAxis* y, double bpw, double v) {
        return std::hypot(x->coordToPixel(bpw) - pixel.x(), y->coordToPixel(v) - pixel.y()) <= radius;
    };
    const GgufTradeoff& t = m_curve.tradeoff;
    for (const auto* set : {&t.presets, &t.mixes})
        for (const auto& pt : *set)
            if (pt.cost > 0 && p->axisRect()->rect().contains(pixel) && near(p->xAxis, p->yAxis, pt.bitsPerWeight, pt.cost))
                return tr("%1: %2 bits/weight, cost %3\n%4")
                    .arg(pt.preset ? tr("llama.cpp %1").arg(QString::fromStdString(pt.name))
                                   : tr("MIP mix at budget %1 (%2)").arg(pt.budget, 0, 'f', 3).arg(QString::fromStdString(pt.status)))
                    .arg(pt.bitsPerWeight, 0, 'f', 3)
                    .arg(pt.cost, 0, 'g', 5)
                    .arg(typeList(pt.typeCounts));
    QCPAxis* x = m_pplRect->axis(QCPAxis::atBottom);
    QCPAxis* y = m_pplRect->axis(QCPAxis::atLeft);
    for (const auto& r : m_runs)
        if (!r.unquantized && r.perplexity > 0 && m_pplRect->rect().contains(pixel) && near(x, y, r.bitsPerWeight, r.perplexity))
            return tr("%1 (%2): %3 bits/weight, perplexity %4 on %5")
                .arg(r.run, r.label)
                .arg(r.bitsPerWeight, 0, 'f', 3)
                .arg(r.perplexity, 0, 'f', 3)
                .arg(m_dataset);
    return {};
}

void GgufTradeoffView::onMouseMove(QMouseEvent* event)
{
    const QString text = hoverText(event->pos());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace mpq::gui
