#include "PerplexityView.h"

#include "QCustomPlotInclude.h"

#include <algorithm>

namespace mpq::gui {

namespace {
QColor datasetColor(int i)
{
    static const QColor colors[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00), QColor(0x00, 0x9e, 0x73),
                                    QColor(0xcc, 0x79, 0xa7)};
    return colors[i % 4];
}

/// A data set's name for the legend: a text file evaluated by path shows its file name.
QString datasetName(const QString& d)
{
    const int slash = d.lastIndexOf(QLatin1Char('/'));
    return slash < 0 ? d : d.mid(slash + 1);
}
} // namespace

PerplexityView::PerplexityView(QWidget* parent) : PlotView(parent)
{
    setToolTip(tr("Perplexity of every evaluated run, per method and bit-width, on each data set; dashed "
                  "lines are the unquantized model."));
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("method @ average bits per weight (scales and zeros included)"));
    placeLegendBelow(p);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    p->axisRect()->setRangeZoom(Qt::Vertical);
    p->axisRect()->setRangeDrag(Qt::Vertical);
    styleAxes(p);
    setTable({});
}

void PerplexityView::setTable(const PerplexityTable& table)
{
    QCustomPlot* p = plot();
    p->clearPlottables();
    p->clearItems();
    p->yAxis->setLabel(tr("perplexity (lower is better)"));
    auto* group = new QCPBarsGroup(p);
    const int nd = int(table.datasets.size());
    const double width = 0.8 / std::max(nd, 1);
    double yMax = 0;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int e = 0; e < int(table.entries.size()); ++e)
        ticker->addTick(e, table.label(size_t(e)));
    p->xAxis->setTicker(ticker);
    p->xAxis->setTickLabelRotation(table.entries.size() > 8 ? 45 : 0);
    for (int d = 0; d < nd; ++d) {
        auto* bars = new QCPBars(p->xAxis, p->yAxis);
        bars->setWidth(width);
        bars->setBarsGroup(group);
        bars->setPen(Qt::NoPen);
        bars->setBrush(datasetColor(d));
        bars->setName(datasetName(table.datasets[d]));
        QVector<double> x, y;
        for (int e = 0; e < int(table.entries.size()); ++e) {
            const double v = table.entries[size_t(e)].value[size_t(d)];
            if (v > 0) {
                x << e;
                y << v;
                yMax = std::max(yMax, v);
            }
        }
        bars->setData(x, y);
        const double ref = d < int(table.reference.size()) ? table.reference[size_t(d)] : -1;
        if (ref > 0) {
            auto* line = new QCPItemStraightLine(p);
            line->setPen(QPen(datasetColor(d).darker(130), 1.5, Qt::DashLine));
            line->point1->setCoords(0, ref);
            line->point2->setCoords(1, ref);
            auto* label = new QCPItemText(p);
            label->position->setCoords(-0.45, ref);
            label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            label->setText(tr("%1 %2: %3").arg(table.referenceLabel, datasetName(table.datasets[d])).arg(ref, 0, 'f', 2));
            label->setFont(QFont(p->font().family(), 8));
            label->setColor(datasetColor(d).darker(130));
            label->setBrush(QBrush(QColor(255, 255, 255, 225))); // readable where it crosses a bar
            label->setPadding(QMargins(2, 1, 2, 1));
            yMax = std::max(yMax, ref);
        }
    }
    // Rotated labels need room on the right: QCustomPlot drops a tick label that would cross the
    // widget's border, which left the last bar unnamed.
    const double room = table.entries.size() > 8 ? 1.2 : 0.0;
    p->xAxis->setRange(-0.6, std::max<double>(double(table.entries.size()) - 0.4 + room, 0.6));
    p->yAxis->setRange(0, yMax > 0 ? yMax * 1.15 : 10);
    QStringList names;
    for (const QString& d : table.datasets)
        names << datasetName(d);
    setCaption(table.empty() ? tr("No perplexities yet: evaluated runs appear here.")
                             : tr("%1 evaluated runs on %2").arg(table.entries.size()).arg(names.join(QStringLiteral(", "))));
    replotNow();
}

} // namespace mpq::gui
