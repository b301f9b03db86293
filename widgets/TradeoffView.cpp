#include "TradeoffView.h"

#include "SeriesColors.h"

#include "QCustomPlotInclude.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>

#include <cmath>

namespace mpq::gui {

TradeoffView::TradeoffView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("Trade-off: average bits per weight against perplexity for every method; the slider moves "
                  "along one method's knob (α, budget or bits) and shows the nearest computed run."));
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("bits per weight (with scales, zeros)"));
    placeLegendBelow(p);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    m_highlight = p->addGraph();
    m_highlight->setLineStyle(QCPGraph::lsNone);
    m_highlight->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 2.5), Qt::NoBrush, 16));
    m_highlight->removeFromLegend();
    m_referenceLine = new QCPItemStraightLine(p);
    m_referenceLine->setPen(QPen(Qt::gray, 1.5, Qt::DashLine));
    m_resolvedLine = new QCPItemStraightLine(p);
    m_resolvedLine->setPen(QPen(SeriesColors::color(QStringLiteral("MXQ")), 1.5, Qt::DotLine));
    m_resolvedText = new QCPItemText(p);
    m_resolvedText->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    m_resolvedText->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_resolvedText->position->setCoords(0.01, 0.99);
    m_resolvedText->setFont(QFont(p->font().family(), 8));
    m_resolvedText->setColor(SeriesColors::color(QStringLiteral("MXQ")));
    clearResolved();

    // Two rows, so that the slider keeps most of the width in a narrow window: the series and the
    // slider with its reading, then the data set and the run-on-release switch.
    auto* sliderRow = new QHBoxLayout;
    auto* optionRow = new QHBoxLayout;
    m_method = new QComboBox(this);
    m_method->setToolTip(tr("The series (method and knob) whose knob the slider moves"));
    m_method->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setToolTip(tr("Move to browse the computed runs of the series; MXQ re-solves its program live"));
    m_slider->setMinimumWidth(200);
    m_knobLabel = new QLabel(this);
    m_knobLabel->setMinimumWidth(120);
    m_knobLabel->setWordWrap(true); // narrow windows: two lines rather than a cut-off run name
    m_datasetBox = new QComboBox(this);
    m_datasetBox->addItems({QStringLiteral("wikitext2"), QStringLiteral("c4")});
    m_datasetBox->setToolTip(tr("Data set of the perplexity axis"));
    m_knobLabel->setToolTip(tr("The knob under the slider → the nearest computed run of the series"));
    m_runOnRelease = new QCheckBox(tr("run on release"), this);
    m_runOnRelease->setToolTip(tr("When the slider is released between computed points, queue a full run there "
                                  "(quantize + evaluate)"));
    sliderRow->addWidget(m_method);
    sliderRow->addWidget(m_slider, 1);
    optionRow->addWidget(m_knobLabel, 1);
    optionRow->addWidget(m_datasetBox);
    optionRow->addWidget(m_runOnRelease);
    static_cast<QVBoxLayout*>(layout())->addLayout(sliderRow);
    static_cast<QVBoxLayout*>(layout())->addLayout(optionRow);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] {
        redraw(); // the point labels follow the chosen series
        rebuildSlider();
    });
    connect(m_slider, &QSlider::valueChanged, this, &TradeoffView::onSlider);
    connect(m_slider, &QSlider::sliderReleased, this, &TradeoffView::onReleased);
    connect(m_datasetBox, &QComboBox::currentTextChanged, this, &TradeoffView::datasetChanged);
    styleAxes(p);
    setSeries({}, QStringLiteral("wikitext2"), -1);
}

const TradeoffSeries* TradeoffView::current() const
{
    const QString name = m_method->currentText();
    for (const auto& s : m_series)
        if (s.method == name)
            return &s;
    return nullptr;
}

bool TradeoffView::setCurrentMethod(const QString& method)
{
    const int i = m_method->findText(method);
    if (i < 0)
        return false;
    m_method->setCurrentIndex(i); // rebuilds the slider
    return true;
}

QString TradeoffView::currentMethod() const { return m_method->currentText(); }
double TradeoffView::currentKnob() const { return m_scale.value(m_slider->value()); }
QString TradeoffView::dataset() const { return m_dataset; }
int TradeoffView::sliderSteps() const { return m_scale.steps; }

void TradeoffView::setSeries(const std::vector<TradeoffSeries>& series, const QString& dataset, double reference)
{
    m_series = series;
    m_dataset = dataset;
    m_reference = reference;
    {
        const QSignalBlocker block(m_datasetBox);
        m_datasetBox->setCurrentText(dataset);
    }
    const QString keep = m_method->currentText();
    {
        const QSignalBlocker block(m_method);
        m_method->clear();
        for (const auto& s : m_series)
            m_method->addItem(s.method);
        const int idx = m_method->findText(keep);
        m_method->setCurrentIndex(idx >= 0 ? idx : 0);
    }
    redraw();
    rebuildSlider();
}

void TradeoffView::redraw()
{
    QCustomPlot* p = plot();
    for (QCPGraph* g : m_graphs)
        p->removeGraph(g);
    m_graphs.clear();
    for (QCPItemText* t : m_pointLabels)
        p->removeItem(t);
    m_pointLabels.clear();
    const TradeoffSeries* chosen = current();
    double xLo = 1e9, xHi = -1e9, yLo = 1e300, yHi = -1e300;
    int missing = 0;
    for (const auto& s : m_series) {
        QCPGraph* g = p->addGraph();
        // One colour per family; the knob decides line and marker (α solid discs, target bits
        // dashed squares, budgets dotted diamonds), so two MG-PTQ series stay apart.
        const QColor c = SeriesColors::color(s.family.isEmpty() ? s.method : s.family);
        const bool target = s.axis == QLatin1String("target-bits");
        const bool budget = s.axis == QLatin1String("budget");
        g->setPen(QPen(c, 2, target ? Qt::DashLine : budget ? Qt::DotLine : Qt::SolidLine));
        g->setScatterStyle(QCPScatterStyle(target ? QCPScatterStyle::ssSquare
                                           : budget ? QCPScatterStyle::ssDiamond
                                                    : QCPScatterStyle::ssDisc,
                                           c, c, 8));
        g->setName(tr("%1, knob %2").arg(s.family.isEmpty() ? s.method : s.family, s.knobName));
        QVector<double> xs, ys;
        std::vector<std::pair<double, double>> pts;
        for (const auto& pt : s.points) {
            if (pt.perplexity <= 0) {
                ++missing;
                continue;
            }
            pts.emplace_back(pt.avgBits, pt.perplexity);
            if (&s == chosen) {
                // The slider's series names each point by its knob; points that coincide (e.g.
                // several α that all end at the lowest width) share one label.
                const QString value = QString::number(pt.knob, 'g', 3);
                QCPItemText* same = nullptr;
                for (QCPItemText* t : m_pointLabels)
                    if (std::abs(t->position->coords().x() - pt.avgBits) < 1e-9 &&
                        std::abs(t->position->coords().y() - pt.perplexity) < 1e-9 * pt.perplexity)
                        same = t;
                if (same) {
                    same->setText(same->text() + QStringLiteral(", ") + value);
                    continue;
                }
                auto* label = new QCPItemText(p);
                label->position->setCoords(pt.avgBits, pt.perplexity);
                label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
                label->setPadding(QMargins(6, 0, 0, 4));
                label->setFont(QFont(p->font().family(), 8));
                label->setColor(c.darker(140));
                const QString sym = s.axis == QLatin1String("alpha") ? QStringLiteral("α")
                                    : target                         ? QStringLiteral("target")
                                    : budget                         ? QStringLiteral("budget")
                                                                     : QStringLiteral("bits");
                label->setText(QStringLiteral("%1 %2").arg(sym, value));
                m_pointLabels.push_back(label);
            }
        }
        std::sort(pts.begin(), pts.end());
        for (const auto& [x, y] : pts) {
            xs << x;
            ys << y;
            xLo = std::min(xLo, x);
            xHi = std::max(xHi, x);
            yLo = std::min(yLo, y);
            yHi = std::max(yHi, y);
        }
        g->setData(xs, ys, true);
        m_graphs.push_back(g);
    }
    m_referenceLine->setVisible(m_reference > 0);
    if (m_reference > 0) {
        m_referenceLine->point1->setCoords(0, m_reference);
        m_referenceLine->point2->setCoords(1, m_reference);
        yLo = std::min(yLo, m_reference);
        yHi = std::max(yHi, m_reference);
    }
    p->yAxis->setLabel(tr("perplexity on %1 (lower is better)").arg(m_dataset));
    if (xHi >= xLo)
        p->xAxis->setRange(xLo - 0.15, xHi + 0.15 + 0.08 * (xHi - xLo + 1)); // room for the last knob label
    else
        p->xAxis->setRange(1.5, 5);
    if (yHi >= yLo) {
        const double pad = std::max((yHi - yLo) * 0.08, yHi * 0.01);
        p->yAxis->setRange(yLo - pad, yHi + pad);
    } else {
        p->yAxis->setRange(0, 10);
    }
    QString text = m_series.empty() ? tr("No runs yet: run GPTQ, MG-PTQ or MXQ (or the demo) to draw the trade-off.")
                                    : tr("%1 series (method × knob); dashed grey: unquantized reference").arg(m_series.size());
    if (missing > 0)
        text += tr(" — %1 runs not evaluated on %2 yet (run menu ▸ Evaluate)").arg(missing).arg(m_dataset);
    setCaption(text);
}

void TradeoffView::rebuildSlider()
{
    const TradeoffSeries* s = current();
    std::vector<double> knobs;
    if (s)
        for (const auto& pt : s->points)
            knobs.push_back(pt.knob);
    m_scale = KnobScale::covering(knobs, s && s->axis == QLatin1String("alpha"));
    const QSignalBlocker block(m_slider);
    m_slider->setRange(0, m_scale.steps);
    m_slider->setEnabled(s && !s->points.empty());
    // A rebuild (new results arriving) must not move the slider nor switch the run the person is
    // looking at: the same series keeps its knob, and the nearest point is remembered without
    // emitting pointChosen. Another series starts at its lowest knob.
    const QString name = s ? s->method : QString();
    const int position = name == m_sliderSeries && !name.isEmpty() ? m_scale.position(m_sliderKnob) : 0;
    m_sliderSeries = name;
    m_sliderKnob = m_scale.value(position);
    m_slider->setValue(position);
    const int i = s ? s->nearest(m_scale.value(position)) : -1;
    m_lastRun = i >= 0 ? s->points[size_t(i)].run : QString();
    onSlider(position);
}

bool TradeoffView::followRun(const QString& run)
{
    if (run.isEmpty())
        return false;
    if (run == m_lastRun)
        return true;
    for (const auto& s : m_series)
        for (const auto& pt : s.points)
            if (pt.run == run) {
                if (m_method->currentText() != s.method) {
                    const QSignalBlocker block(m_method);
                    m_method->setCurrentIndex(m_method->findText(s.method));
                    redraw();
                }
                m_sliderSeries = s.method;
                m_sliderKnob = pt.knob;
                rebuildSlider(); // same series: at the knob; the nearest point is `run`, not emitted
                return true;
            }
    return false;
}

void TradeoffView::moveSlider(int position)
{
    m_slider->setValue(position); // emits valueChanged → onSlider when the value changes
}

void TradeoffView::onSlider(int position)
{
    const TradeoffSeries* s = current();
    if (!s || s->points.empty()) {
        m_knobLabel->setText(QString());
        m_highlight->data()->clear();
        replotNow();
        return;
    }
    const double knob = m_scale.value(position);
    m_sliderKnob = knob;
    const int i = s->nearest(knob);
    const TradeoffPoint& pt = s->points[size_t(i)];
    m_knobLabel->setText(QStringLiteral("%1 = %2 → %3").arg(s->knobName).arg(knob, 0, 'g', 3).arg(pt.run));
    QVector<double> x, y;
    if (pt.perplexity > 0) {
        x << pt.avgBits;
        y << pt.perplexity;
    }
    m_highlight->setData(x, y);
    if (pt.run != m_lastRun) {
        m_lastRun = pt.run;
        Q_EMIT pointChosen(pt.run);
    }
    if (s->liveResolve)
        Q_EMIT liveResolveRequested(knob);
    // Queued: the redraw runs in the event loop while the worker solves, and coalesces with the
    // resolved line's redraw (slider latency, docs/gui.md).
    requestReplot();
}

void TradeoffView::onReleased()
{
    const TradeoffSeries* s = current();
    if (!s || !m_runOnRelease->isChecked() || s->points.empty())
        return;
    const double knob = currentKnob();
    const TradeoffPoint& pt = s->points[size_t(s->nearest(knob))];
    if (std::abs(pt.knob - knob) > 1e-3 * std::max(1.0, std::abs(knob)))
        Q_EMIT fullRunRequested(s->family.isEmpty() ? s->method : s->family, s->axis, knob);
}

void TradeoffView::resizeEvent(QResizeEvent* event)
{
    PlotView::resizeEvent(event);
    // Legend entries side by side only where they fit (they name method and knob).
    QCPLegend* legend = plot()->legend;
    const int wrap = width() < 700 ? 1 : 2;
    if (legend->wrap() != wrap) {
        legend->setWrap(wrap);
        legend->setFillOrder(legend->fillOrder(), true); // re-flows the existing entries
    }
}

void TradeoffView::setResolved(double avgBits, const QString& text)
{
    m_resolvedLine->setVisible(true);
    m_resolvedLine->point1->setCoords(avgBits, 0);
    m_resolvedLine->point2->setCoords(avgBits, 1);
    m_resolvedText->setVisible(true);
    m_resolvedText->setText(text);
    requestReplot();
}

void TradeoffView::clearResolved()
{
    m_resolvedLine->setVisible(false);
    m_resolvedText->setVisible(false);
}

} // namespace mpq::gui
