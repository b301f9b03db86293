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
    p->xAxis->setLabel(tr("average bits per weight (scales and zeros included)"));
    p->legend->setVisible(true);
    p->legend->setFont(QFont(p->font().family(), 8));
    p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
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

    auto* controls = new QHBoxLayout;
    m_method = new QComboBox(this);
    m_method->setToolTip(tr("The method whose knob the slider moves"));
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setToolTip(tr("Move to browse the computed runs; MXQ re-solves its program live"));
    m_knobLabel = new QLabel(this);
    m_knobLabel->setMinimumWidth(150);
    m_datasetBox = new QComboBox(this);
    m_datasetBox->addItems({QStringLiteral("wikitext2"), QStringLiteral("c4")});
    m_datasetBox->setToolTip(tr("Data set of the perplexity axis"));
    m_runOnRelease = new QCheckBox(tr("quantize + evaluate on release"), this);
    m_runOnRelease->setToolTip(tr("When the slider is released between computed points, queue a full run there"));
    controls->addWidget(m_method);
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_knobLabel);
    controls->addWidget(m_datasetBox);
    controls->addWidget(m_runOnRelease);
    static_cast<QVBoxLayout*>(layout())->addLayout(controls);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] { rebuildSlider(); });
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
    double xLo = 1e9, xHi = -1e9, yLo = 1e300, yHi = -1e300;
    int missing = 0;
    for (const auto& s : m_series) {
        QCPGraph* g = p->addGraph();
        const QColor c = SeriesColors::color(s.method);
        g->setPen(QPen(c, 2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 8));
        g->setName(QStringLiteral("%1 (%2)").arg(s.method, s.knobName));
        QVector<double> xs, ys;
        std::vector<std::pair<double, double>> pts;
        for (const auto& pt : s.points) {
            if (pt.perplexity <= 0) {
                ++missing;
                continue;
            }
            pts.emplace_back(pt.avgBits, pt.perplexity);
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
        p->xAxis->setRange(xLo - 0.15, xHi + 0.15);
    else
        p->xAxis->setRange(1.5, 5);
    if (yHi >= yLo) {
        const double pad = std::max((yHi - yLo) * 0.08, yHi * 0.01);
        p->yAxis->setRange(yLo - pad, yHi + pad);
    } else {
        p->yAxis->setRange(0, 10);
    }
    QString text = m_series.empty() ? tr("No runs yet: run GPTQ, MG-PTQ or MXQ (or the demo) to draw the trade-off.")
                                    : tr("%1 methods; dashed grey: unquantized reference").arg(m_series.size());
    if (missing > 0)
        text += tr(" — %1 runs not evaluated on %2 yet").arg(missing).arg(m_dataset);
    setCaption(text);
}

void TradeoffView::rebuildSlider()
{
    const TradeoffSeries* s = current();
    std::vector<double> knobs;
    if (s)
        for (const auto& pt : s->points)
            knobs.push_back(pt.knob);
    m_scale = KnobScale::covering(knobs, s && s->knobName == QStringLiteral("α"));
    const QSignalBlocker block(m_slider);
    m_slider->setRange(0, m_scale.steps);
    m_slider->setEnabled(s && !s->points.empty());
    // A rebuild (new results arriving) must not switch the run the person is looking at: the
    // nearest point is remembered without emitting pointChosen.
    m_slider->setValue(0);
    const int i = s ? s->nearest(m_scale.value(0)) : -1;
    m_lastRun = i >= 0 ? s->points[size_t(i)].run : QString();
    onSlider(0);
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
        Q_EMIT fullRunRequested(s->method, knob);
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
