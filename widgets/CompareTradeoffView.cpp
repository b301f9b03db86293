#include "CompareTradeoffView.h"

#include "SeriesColors.h"
#include "Workbench.h"

#include "QCustomPlotInclude.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>

#include <algorithm>
#include <cmath>

namespace mpq::gui {

CompareTradeoffView::CompareTradeoffView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("The compared runs on the trade-off plane: bits per weight (scales and zeros included) against "
                  "perplexity; grey dots are the other runs offered for comparison."));
    m_datasetBox = new QComboBox(this);
    m_datasetBox->addItem(tr("WikiText-2"), QStringLiteral("wikitext2"));
    m_datasetBox->addItem(tr("C4"), QStringLiteral("c4"));
    toolRow()->addWidget(new QLabel(tr("Perplexity on"), this));
    toolRow()->addWidget(m_datasetBox);
    toolRow()->addStretch(1);
    connect(m_datasetBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("average bits per weight (scales and zeros included)"));
    placeLegendBelow(p);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    styleAxes(p);
    redraw();
}

QString CompareTradeoffView::dataset() const { return m_datasetBox->currentData().toString(); }

void CompareTradeoffView::setDataset(const QString& dataset)
{
    const int i = m_datasetBox->findData(dataset);
    if (i >= 0)
        m_datasetBox->setCurrentIndex(i);
}

void CompareTradeoffView::setRuns(const std::vector<CompareEntry>& picked, const std::vector<CompareEntry>& others,
                                  const QMap<QString, double>& reference)
{
    m_picked = picked;
    m_others = others;
    m_reference = reference;
    redraw();
}

void CompareTradeoffView::redraw()
{
    QCustomPlot* p = plot();
    p->clearPlottables();
    p->clearItems();
    m_labels.clear();
    const QString ds = dataset();
    p->yAxis->setLabel(tr("perplexity on %1 (lower is better)").arg(m_datasetBox->currentText()));
    double xMin = 1e9, xMax = -1e9, yMin = 1e9, yMax = -1e9;
    const auto extend = [&](double x, double y) {
        xMin = std::min(xMin, x);
        xMax = std::max(xMax, x);
        yMin = std::min(yMin, y);
        yMax = std::max(yMax, y);
    };
    auto* grey = new QCPGraph(p->xAxis, p->yAxis);
    grey->setName(tr("other runs"));
    grey->setLineStyle(QCPGraph::lsNone);
    grey->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(0x9a, 0x9a, 0x9a), 6));
    for (const CompareEntry& e : m_others) {
        const double y = e.run.perplexity.value(ds, -1);
        if (y > 0 && e.run.avgBitsWithOverhead > 0) {
            grey->addData(e.run.avgBitsWithOverhead, y);
            extend(e.run.avgBitsWithOverhead, y);
        }
    }
    if (grey->dataCount() == 0)
        grey->removeFromLegend();
    QMap<QString, QCPGraph*> byFamily;
    QStringList missing;
    static const QCPScatterStyle::ScatterShape shapes[] = {QCPScatterStyle::ssDisc, QCPScatterStyle::ssSquare,
                                                           QCPScatterStyle::ssDiamond, QCPScatterStyle::ssTriangle};
    for (const CompareEntry& e : m_picked) {
        const double y = e.run.perplexity.value(ds, -1);
        const double x = e.run.avgBitsWithOverhead;
        if (y <= 0 || x <= 0) {
            missing << e.label;
            continue;
        }
        const QString family = Workbench::familyName(e.run.method);
        QCPGraph*& g = byFamily[family];
        if (!g) {
            g = new QCPGraph(p->xAxis, p->yAxis);
            g->setName(family);
            g->setLineStyle(QCPGraph::lsNone);
            g->setScatterStyle(QCPScatterStyle(shapes[(byFamily.size() - 1) % 4], SeriesColors::color(family),
                                               SeriesColors::color(family), 11));
        }
        g->addData(x, y);
        extend(x, y);
        auto* label = new QCPItemText(p);
        label->position->setCoords(x, y);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setPadding(QMargins(7, 0, 0, 5));
        label->setText(e.label);
        label->setFont(QFont(p->font().family(), 8));
        label->setColor(palette().color(QPalette::Text));
        m_labels << e.label;
    }
    const double ref = m_reference.value(ds, -1);
    if (ref > 0) {
        auto* line = new QCPItemStraightLine(p);
        line->point1->setCoords(0, ref);
        line->point2->setCoords(1, ref);
        line->setPen(QPen(QColor(0x70, 0x70, 0x70), 1.5, Qt::DashLine));
        auto* text = new QCPItemText(p);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setAxes(p->xAxis, p->yAxis);
        text->position->setTypeY(QCPItemPosition::ptPlotCoords);
        text->position->setCoords(0.99, ref);
        text->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        text->setText(tr("FP16 %1").arg(ref, 0, 'f', 2));
        text->setFont(QFont(p->font().family(), 8));
        text->setColor(QColor(0x70, 0x70, 0x70));
        yMin = std::min(yMin, ref);
        yMax = std::max(yMax, ref);
    }
    if (xMax >= xMin) {
        const double dx = std::max(0.25, (xMax - xMin) * 0.15), dy = std::max(0.2, (yMax - yMin) * 0.12);
        p->xAxis->setRange(xMin - dx, xMax + dx * 2.2); // room for the labels on the right
        p->yAxis->setRange(yMin - dy, yMax + dy * 1.5);
    } else {
        p->xAxis->setRange(2, 5);
        p->yAxis->setRange(0, 10);
    }
    QString caption = m_picked.empty() ? tr("Pick runs to compare (left).")
                                       : tr("%1 compared runs on %2").arg(m_picked.size()).arg(m_datasetBox->currentText());
    if (!missing.isEmpty())
        caption += tr("; not evaluated on %1: %2").arg(m_datasetBox->currentText(), missing.join(QStringLiteral(", ")));
    setCaption(caption);
    applyTheme(p, palette());
    replotNow();
}

} // namespace mpq::gui
