#include "PlotView.h"

#include "QCustomPlotInclude.h"

#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QTextStream>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSvgGenerator>
#include <QVBoxLayout>

namespace mpq::gui {

PlotView::PlotView(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(2);
    m_caption = new QLabel(this);
    m_caption->setWordWrap(true);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(320, 220);
    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_plot, &QWidget::customContextMenuRequested, this, &PlotView::showExportMenu);
    styleAxes(m_plot);
    applyTheme(m_plot, palette());
    layout->addWidget(m_caption);
    layout->addWidget(m_plot, 1);
}

PlotView::~PlotView() = default;

QHBoxLayout* PlotView::toolRow()
{
    if (!m_toolRow) {
        m_toolRow = new QHBoxLayout;
        m_toolRow->setContentsMargins(0, 0, 0, 0);
        static_cast<QVBoxLayout*>(layout())->insertLayout(1, m_toolRow);
    }
    return m_toolRow;
}

void PlotView::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyTheme(m_plot, palette());
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

bool PlotView::isDark(const QPalette& palette)
{
    return palette.color(QPalette::Window).lightness() < palette.color(QPalette::WindowText).lightness();
}

void PlotView::applyTheme(QCustomPlot* plot, const QPalette& palette)
{
    const bool dark = isDark(palette);
    const QColor fg = dark ? palette.color(QPalette::Text) : QColor(Qt::black);
    const QColor bg = dark ? palette.color(QPalette::Base) : QColor(Qt::white);
    const QColor grid = dark ? QColor(0x55, 0x55, 0x55) : QColor(200, 200, 200);
    plot->setBackground(bg);
    const auto styleAxis = [&](QCPAxis* axis) {
        axis->setBasePen(QPen(fg, 1));
        axis->setTickPen(QPen(fg, 1));
        axis->setSubTickPen(QPen(fg, 1));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        if (axis->grid()) {
            axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
            axis->grid()->setSubGridPen(QPen(grid.lighter(dark ? 80 : 110), 1, Qt::DotLine));
        }
    };
    for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
        if (auto* rect = qobject_cast<QCPAxisRect*>(e)) {
            for (QCPAxis* axis : rect->axes())
                styleAxis(axis);
        } else if (auto* scale = qobject_cast<QCPColorScale*>(e)) {
            styleAxis(scale->axis());
        } else if (auto* legend = qobject_cast<QCPLegend*>(e)) {
            legend->setBrush(bg);
            legend->setTextColor(fg);
        }
    }
    if (plot->legend) {
        plot->legend->setBrush(bg);
        plot->legend->setTextColor(fg);
    }
    // Text items drawn in black on a dark plot become the palette's text colour.
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i)))
            if (dark ? text->color().lightness() < 100 : text->color().lightness() > 155)
                text->setColor(fg);
}

QString PlotView::csvField(const QString& text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')))
        return text;
    QString q = text;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

bool PlotView::writeCsv(QTextStream& out) const
{
    // Every plottable with (key, value) data: graphs, bars, curves, statistical boxes' keys.
    QString xLabel, yLabel;
    if (m_plot->axisRectCount() > 0) {
        xLabel = m_plot->axisRect(0)->axis(QCPAxis::atBottom)->label();
        yLabel = m_plot->axisRect(0)->axis(QCPAxis::atLeft)->label();
    }
    out << "series," << csvField(xLabel.isEmpty() ? QStringLiteral("x") : QStringLiteral("x: ") + xLabel) << ','
        << csvField(yLabel.isEmpty() ? QStringLiteral("y") : QStringLiteral("y: ") + yLabel) << '\n';
    for (int i = 0; i < m_plot->plottableCount(); ++i) {
        QCPAbstractPlottable* pl = m_plot->plottable(i);
        const QString name = pl->name().isEmpty() ? QStringLiteral("series %1").arg(i + 1) : pl->name();
        const auto write = [&](double x, double y) {
            out << csvField(name) << ',' << QString::number(x, 'g', 10) << ',' << QString::number(y, 'g', 10) << '\n';
        };
        if (auto* g = qobject_cast<QCPGraph*>(pl)) {
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
                write(it->key, it->value);
        } else if (auto* b = qobject_cast<QCPBars*>(pl)) {
            for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it)
                write(it->key, it->value);
        } else if (auto* c = qobject_cast<QCPCurve*>(pl)) {
            for (auto it = c->data()->constBegin(); it != c->data()->constEnd(); ++it)
                write(it->key, it->value);
        } else if (auto* m = qobject_cast<QCPColorMap*>(pl)) {
            QCPColorMapData* d = m->data();
            for (int y = 0; y < d->valueSize(); ++y)
                for (int x = 0; x < d->keySize(); ++x) {
                    double kx = 0, vy = 0;
                    d->cellToCoord(x, y, &kx, &vy);
                    out << csvField(name) << ',' << QString::number(kx, 'g', 10) << ',' << QString::number(vy, 'g', 10)
                        << ',' << QString::number(d->cell(x, y), 'g', 10) << '\n';
                }
        }
    }
    return out.status() == QTextStream::Ok;
}

void PlotView::styleAxes(QCustomPlot* plot)
{
    QFont f = plot->font();
    f.setPointSizeF(9);
    QFont labelFont = f;
    labelFont.setPointSizeF(10);
    for (QCPAxisRect* rect : plot->axisRects())
        for (QCPAxis* axis : rect->axes()) {
            axis->setTickLabelFont(f);
            axis->setLabelFont(labelFont);
        }
}

void PlotView::placeLegendBelow(QCustomPlot* plot)
{
    QCPLegend* legend = plot->legend;
    plot->axisRect()->insetLayout()->take(legend);
    auto* row = new QCPLayoutGrid;
    plot->plotLayout()->addElement(plot->plotLayout()->rowCount(), 0, row);
    row->addElement(0, 0, legend);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(2);
    legend->setVisible(true);
    legend->setFont(QFont(plot->font().family(), 8));
    legend->setBorderPen(Qt::NoPen);
    row->setMargins(QMargins(0, 0, 0, 0));
    plot->plotLayout()->setRowStretchFactor(plot->plotLayout()->rowCount() - 1, 0.001);
}

QRect PlotView::dataRect() const
{
    return m_plot->axisRectCount() > 0 ? m_plot->axisRect(0)->rect() : QRect();
}

QRect PlotView::legendRect() const
{
    return m_plot->legend && m_plot->legend->visible() ? m_plot->legend->outerRect() : QRect();
}

QString PlotView::exportFilter()
{
    return tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf);;CSV data (*.csv)");
}

QString PlotView::withFilterSuffix(const QString& path, const QString& selectedFilter)
{
    if (path.isEmpty() || !QFileInfo(path).suffix().isEmpty())
        return path;
    const qsizetype star = selectedFilter.indexOf(QLatin1String("*."));
    if (star < 0)
        return path;
    const qsizetype end = selectedFilter.indexOf(QRegularExpression(QStringLiteral("[ );]")), star);
    return path + selectedFilter.mid(star + 1, end < 0 ? -1 : end - star - 1);
}

QString PlotView::caption() const { return m_caption->text(); }

void PlotView::setMinimumPlotSize(const QSize& size) { m_plot->setMinimumSize(size); }

void PlotView::setCaption(const QString& text) { m_caption->setText(text); }

void PlotView::replotNow()
{
    m_replotPending = false;
    m_plot->replot(QCustomPlot::rpImmediateRefresh);
}

void PlotView::requestReplot()
{
    if (m_replotPending)
        return;
    m_replotPending = true;
    QMetaObject::invokeMethod(this, &PlotView::flushPendingReplot, Qt::QueuedConnection);
}

void PlotView::flushPendingReplot()
{
    if (!m_replotPending)
        return;
    m_replotPending = false;
    replotNow();
}

bool PlotView::exportTo(const QString& path, QString* error) const
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const int w = m_plot->width() > 10 ? m_plot->width() : 1000;
    const int h = m_plot->height() > 10 ? m_plot->height() : 600;
    bool ok = false;
    if (suffix == QLatin1String("csv")) {
        QFile f(path);
        if (f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
            QTextStream out(&f);
            ok = writeCsv(out);
            out.flush();
            ok = ok && f.error() == QFile::NoError;
        }
    } else if (suffix == QLatin1String("png")) {
        ok = m_plot->savePng(path, w, h, 2.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = m_plot->savePdf(path, w, h);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(QSize(w, h));
        svg.setViewBox(QRect(0, 0, w, h));
        svg.setTitle(m_caption->text());
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            m_plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
        ok = ok && QFileInfo(path).size() > 0;
    } else {
        if (error)
            *error = tr("unknown format \"%1\": use .png, .svg, .pdf or .csv").arg(suffix);
        return false;
    }
    if (!ok && error)
        *error = tr("could not write %1").arg(path);
    return ok;
}

void PlotView::showExportMenu(const QPoint& pos)
{
    QMenu menu(this);
    QAction* exportAction = menu.addAction(tr("Export plot…"));
    if (menu.exec(m_plot->mapToGlobal(pos)) != exportAction)
        return;
    QString filter;
    const QString path = withFilterSuffix(QFileDialog::getSaveFileName(this, tr("Export plot"), QString(), exportFilter(), &filter),
                                          filter);
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
}

} // namespace mpq::gui
