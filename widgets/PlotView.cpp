#include "PlotView.h"

#include "QCustomPlotInclude.h"

#include <QFileDialog>
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
    layout->addWidget(m_caption);
    layout->addWidget(m_plot, 1);
}

PlotView::~PlotView() = default;

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
    return tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)");
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
    if (suffix == QLatin1String("png")) {
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
            *error = tr("unknown format \"%1\": use .png, .svg or .pdf").arg(suffix);
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
