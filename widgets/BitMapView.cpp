#include "BitMapView.h"

#include "BitPalette.h"

#include "QCustomPlotInclude.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QShortcut>
#include <QTextStream>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpq::gui {

namespace {

// The diverging scale of a difference map: fewer bits in B (blue) ↔ equal (near white) ↔ more
// bits in B (orange), a blue–orange axis that colour-vision deficiencies keep apart.
constexpr double kDiffRange = 4;

} // namespace

BitMapView::BitMapView(QWidget* parent) : BitMapView(Mode::Bits, parent) {}

BitMapView::BitMapView(Mode mode, QWidget* parent) : PlotView(parent), m_mode(mode)
{
    build();
}

void BitMapView::build()
{
    const bool diff = m_mode == Mode::Difference;
    setToolTip(diff ? tr("Difference map: every row is a weight matrix present in both runs, every cell an input column "
                         "coloured by its bits in run B minus its bits in run A (orange: B has more, blue: fewer).")
                    : tr("Bit-width map: every row is a weight matrix, every cell an input column coloured by the "
                         "bits it was quantized with; click a row to select that matrix."));
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("input column (index)"));
    p->yAxis->setLabel(diff ? tr("matrix (average difference in bits)") : tr("matrix (average bits per column)"));
    p->yAxis->setRangeReversed(true);
    p->yAxis->grid()->setVisible(false);
    p->xAxis->grid()->setVisible(false);

    m_map = new QCPColorMap(p->xAxis, p->yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(true);
    m_scale = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setLabel(diff ? tr("bits in B − bits in A") : tr("bits per column"));
    m_scale->setBarWidth(14);
    m_map->setColorScale(m_scale);

    QCPColorGradient g;
    QMap<double, QColor> stops;
    if (diff) {
        stops.insert(0.0, QColor(0x21, 0x66, 0xac));
        stops.insert(0.375, QColor(0x92, 0xc5, 0xde));
        stops.insert(0.5, QColor(0xf4, 0xf4, 0xf4));
        stops.insert(0.625, QColor(0xfd, 0xb8, 0x63));
        stops.insert(1.0, QColor(0xb3, 0x58, 0x06));
        g.setColorStops(stops);
        g.setLevelCount(int(2 * kDiffRange * 8 + 1));
        m_map->setDataRange(QCPRange(-kDiffRange, kDiffRange));
    } else {
        // A discrete gradient: bit-width b (1..8) is exactly the colour stop (b−1)/7.
        for (int b = 1; b <= 8; ++b)
            stops.insert(double(b - 1) / 7.0, BitPalette::color(b));
        g.setColorStops(stops);
        g.setLevelCount(8);
        m_map->setDataRange(QCPRange(1, 8));
    }
    g.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(g);
    QSharedPointer<QCPAxisTickerFixed> bitTicks(new QCPAxisTickerFixed);
    bitTicks->setTickStep(1);
    m_scale->axis()->setTicker(bitTicks);

    auto* margins = new QCPMarginGroup(p);
    p->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    m_selection = new QCPItemRect(p);
    m_selection->setPen(QPen(diff ? QColor(Qt::black) : QColor(0xe6, 0x00, 0x7e), 2));
    m_selection->setBrush(Qt::NoBrush);
    m_selection->setVisible(false);

    // Tools above the plot: find a tensor by name, and what one drawn cell stands for.
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Find tensor (e.g. layers.31.mlp.down) — Enter: next"));
    m_search->setClearButtonEnabled(true);
    m_search->setToolTip(tr("Find a matrix by its tensor name or label (case-insensitive; regular expressions allowed); "
                            "Enter goes to the next match. Ctrl+F"));
    m_matchLabel = new QLabel(this);
    m_zoomLabel = new QLabel(this);
    // Long text must not widen the view (maps side by side): it is cut at the view's edge.
    m_zoomLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_zoomLabel->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_search->setMinimumWidth(110);
    m_zoomLabel->setToolTip(tr("Wheel: zoom columns · Shift+wheel: zoom rows · drag: pan · 0: whole map"));
    toolRow()->addWidget(m_search, 2);
    toolRow()->addWidget(m_matchLabel);
    toolRow()->addWidget(m_zoomLabel, 3);
    connect(m_search, &QLineEdit::textEdited, this, [this](const QString& t) {
        m_matchIndex = 0;
        findTensor(t, 0);
    });
    connect(m_search, &QLineEdit::returnPressed, this, [this] { findTensor(m_search->text(), ++m_matchIndex); });
    auto* find = new QShortcut(QKeySequence::Find, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
    connect(find, &QShortcut::activated, this, [this] {
        m_search->setFocus(Qt::ShortcutFocusReason);
        m_search->selectAll();
    });

    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    p->axisRect()->setRangeZoom(Qt::Horizontal);
    p->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    p->setFocusPolicy(Qt::StrongFocus);
    p->installEventFilter(this);
    connect(p, &QCustomPlot::mousePress, this, &BitMapView::onPress);
    connect(p, &QCustomPlot::mouseWheel, this, [this](QWheelEvent* e) {
        plot()->axisRect()->setRangeZoom(e->modifiers() & Qt::ShiftModifier ? Qt::Vertical : Qt::Horizontal);
    });
    connect(p, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        const QString text = hoverText(e->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(e->globalPosition().toPoint(), text, plot());
    });
    // Zoom and pan stay inside the map; the clamped range is what the maps beside follow.
    connect(p->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
        clampRanges();
        Q_EMIT columnRangeChanged(plot()->xAxis->range().lower, plot()->xAxis->range().upper);
    });
    connect(p->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
        clampRanges();
        Q_EMIT rowRangeChanged(plot()->yAxis->range().lower, plot()->yAxis->range().upper);
    });
    // The cells are binned for the plot's width just before each redraw (zoom, pan, resize).
    connect(p, &QCustomPlot::beforeReplot, this, [this] {
        rebin();
        applyRowLabels();
    });
    // Row labels depend on the rows' height in pixels, known once the plot is laid out.
    connect(p, &QCustomPlot::afterLayout, this, [this] {
        const int before = m_stride;
        applyRowLabels();
        // Column ticks about 70 px apart, so that a narrow map (beside the trade-off) stays legible.
        const int ticks = std::max(1, plot()->axisRect()->rect().width() / 80);
        const bool tickChange = plot()->xAxis->ticker()->tickCount() != ticks;
        plot()->xAxis->ticker()->setTickCount(ticks);
        // Laid out before drawing: bin for the final width now (the first replot guessed it).
        rebin();
        if (m_stride != before || tickChange)
            requestReplot();
    });
    styleAxes(p);
    setMatrices({}, tr("No run selected: open a result or run a job."));
}

void BitMapView::setMatrices(const std::vector<MatrixResult>& matrices, const QString& title)
{
    ColumnGrid grid;
    QStringList tensors, labels;
    double sum = 0, n = 0;
    grid.rows.reserve(matrices.size());
    for (const MatrixResult& m : matrices) {
        tensors << m.tensor;
        grid.rows.emplace_back(m.columnBits.begin(), m.columnBits.end());
        labels << QStringLiteral("L%1 %2  %3").arg(m.layer).arg(m.linear).arg(m.averageBits(), 0, 'f', 2);
        for (uint8_t b : m.columnBits)
            sum += b;
        n += double(m.columnBits.size());
    }
    const QString caption = matrices.empty()
                                ? title
                                : tr("%1 — %2 matrices, %3 average bits per column (code bits, scales and zeros not counted)")
                                      .arg(title)
                                      .arg(matrices.size())
                                      .arg(n > 0 ? sum / n : 0.0, 0, 'f', 3);
    setGrid(std::move(grid), tensors, labels, caption);
}

void BitMapView::setGrid(ColumnGrid grid, const QStringList& tensors, const QStringList& labels, const QString& caption)
{
    QCustomPlot* p = plot();
    m_grid = std::move(grid);
    m_tensors = tensors;
    m_labels = labels;
    m_cols.clear();
    for (const auto& r : m_grid.rows)
        m_cols.push_back(int64_t(r.size()));
    m_gridChanged = true;
    const int rows = std::max<int>(int(m_grid.rows.size()), 1);
    const double maxCols = double(std::max<int64_t>(m_grid.maxCols(), 1));
    const QSignalBlocker bx(p->xAxis), by(p->yAxis);
    p->yAxis->setRange(-0.5, rows - 0.5);
    p->xAxis->setRange(-0.5, maxCols - 0.5);
    QFont small = p->yAxis->tickLabelFont();
    small.setPointSizeF(m_grid.rows.size() > 40 ? 7 : 8.5);
    p->yAxis->setTickLabelFont(small);
    setCaption(caption);
    m_matchLabel->clear();
    updateSelection();
    replotNow();
}

void BitMapView::clampRanges()
{
    QCustomPlot* p = plot();
    const double maxX = double(std::max<int64_t>(m_grid.maxCols(), 1)) - 0.5;
    const double maxY = double(std::max<int>(int(m_grid.rows.size()), 1)) - 0.5;
    const auto clamp = [](QCPAxis* axis, double lo, double hi, double minSpan) {
        QCPRange r = axis->range();
        double span = std::clamp(r.size(), std::min(minSpan, hi - lo), hi - lo);
        double a = std::clamp(r.center() - span / 2, lo, hi - span);
        if (std::abs(a - r.lower) > 1e-9 || std::abs(a + span - r.upper) > 1e-9) {
            const QSignalBlocker block(axis);
            axis->setRange(a, a + span);
        }
    };
    clamp(p->xAxis, -0.5, maxX, 8);
    clamp(p->yAxis, -0.5, maxY, 4);
}

void BitMapView::rebin()
{
    QCustomPlot* p = plot();
    const QCPRange xr = p->xAxis->range();
    const int64_t first = std::max<int64_t>(0, int64_t(std::floor(xr.lower + 0.5)));
    const int64_t last = std::min<int64_t>(m_grid.maxCols(), int64_t(std::ceil(xr.upper + 0.5)));
    const int width = p->axisRect()->rect().width() > 10 ? p->axisRect()->rect().width() : std::max(100, p->width() - 160);
    if (!m_gridChanged && first == m_binFirst && last == m_binLast && width == m_binPixels)
        return;
    m_gridChanged = false;
    m_binFirst = first;
    m_binLast = last;
    m_binPixels = width;
    const ColumnGrid::Binned b = m_grid.bin(first, last, width);
    const int rows = std::max(b.rowCount, 1);
    const int cells = std::max(b.cells, 1);
    QCPColorMapData* data = m_map->data();
    data->setSize(cells, rows);
    const double k = double(b.columnsPerCell);
    const double c0 = double(b.first) + (k - 1) / 2;
    data->setRange(QCPRange(c0, c0 + (cells - 1) * k), QCPRange(0, double(rows - 1)));
    if (b.cells == 0 || b.rowCount == 0) {
        data->fill(std::numeric_limits<double>::quiet_NaN());
    } else {
        const bool round = m_mode == Mode::Bits && b.columnsPerCell > 1;
        for (int r = 0; r < b.rowCount; ++r)
            for (int c = 0; c < b.cells; ++c) {
                const double v = b.at(r, c);
                // Bits: an aggregated cell shows the mean rounded to the nearest width, in that
                // width's colour (the palette is discrete); differences keep the mean.
                data->setCell(c, r, round && !std::isnan(v) ? std::round(v) : v);
            }
    }
    m_drawnK = b.columnsPerCell;
    m_drawnCells = b.cells;
    updateZoomLabel();
}

void BitMapView::updateZoomLabel()
{
    const QCPRange xr = plot()->xAxis->range();
    const QCPRange yr = plot()->yAxis->range();
    const int64_t a = std::max<int64_t>(0, int64_t(std::ceil(xr.lower)));
    const int64_t b = std::min<int64_t>(m_grid.maxCols() - 1, int64_t(std::floor(xr.upper)));
    const int ra = std::max(0, int(std::ceil(yr.lower))), rb = std::min(int(m_grid.rows.size()) - 1, int(std::floor(yr.upper)));
    // Compact (maps side by side are narrow); the tooltip says it in full.
    m_zoomLabel->setText(m_grid.rows.empty() ? QString()
                         : tr("cols %1–%2 of %3 · rows %4–%5 of %6 · %7")
                               .arg(a).arg(b).arg(m_grid.maxCols()).arg(ra + 1).arg(rb + 1).arg(m_grid.rows.size())
                               .arg(m_drawnK > 1 ? tr("1 cell = mean of %1 cols").arg(m_drawnK) : tr("1 cell = 1 col")));
    m_zoomLabel->setToolTip(
        tr("Columns %1–%2 of %3 and rows %4–%5 of %6 are shown; %7.\nWheel: zoom columns · Shift+wheel: zoom rows · "
           "drag: pan · arrows, +/−, 0: keyboard")
            .arg(a).arg(b).arg(m_grid.maxCols()).arg(ra + 1).arg(rb + 1).arg(m_grid.rows.size())
            .arg(m_drawnK > 1 ? tr("each cell is the mean of %1 adjacent columns, rounded to the nearest width (zoom in for "
                                   "single columns)").arg(m_drawnK)
                              : tr("each cell is one column")));
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
    const double visibleRows = std::max(1.0, p->yAxis->range().size());
    m_stride = rows > 0 ? labelStride(double(std::max(height, 1)) / visibleRows,
                                      QFontMetricsF(p->yAxis->tickLabelFont()).height())
                        : 1;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int r = 0; r < rows; r += m_stride)
        ticker->addTick(r, m_labels[r]);
    p->yAxis->setTicker(ticker);
}

QStringList BitMapView::rowLabels() const
{
    QStringList out;
    const QCPRange yr = plot()->yAxis->range();
    for (int r = 0; r < int(m_labels.size()); r += m_stride)
        if (r >= yr.lower && r <= yr.upper)
            out << m_labels[r];
    return out;
}

void BitMapView::setColumnRange(double first, double last)
{
    const QCPRange now = plot()->xAxis->range();
    if (std::abs(now.lower - first) < 1e-9 && std::abs(now.upper - last) < 1e-9)
        return;
    plot()->xAxis->setRange(first, last);
    requestReplot();
}

void BitMapView::setRowRange(double first, double last)
{
    const QCPRange now = plot()->yAxis->range();
    if (std::abs(now.lower - first) < 1e-9 && std::abs(now.upper - last) < 1e-9)
        return;
    plot()->yAxis->setRange(first, last);
    requestReplot();
}

void BitMapView::resetZoom()
{
    plot()->xAxis->setRange(-0.5, double(std::max<int64_t>(m_grid.maxCols(), 1)) - 0.5);
    plot()->yAxis->setRange(-0.5, double(std::max<int>(int(m_grid.rows.size()), 1)) - 0.5);
    requestReplot();
}

QPair<double, double> BitMapView::columnRange() const
{
    return {plot()->xAxis->range().lower, plot()->xAxis->range().upper};
}

QPair<double, double> BitMapView::rowRange() const
{
    return {plot()->yAxis->range().lower, plot()->yAxis->range().upper};
}

void BitMapView::setSelectedTensor(const QString& tensor)
{
    m_selected = tensor;
    updateSelection();
    ensureRowVisible(int(m_tensors.indexOf(tensor)));
    plot()->replot(QCustomPlot::rpQueuedReplot);
}

void BitMapView::ensureRowVisible(int row)
{
    if (row < 0)
        return;
    const QCPRange yr = plot()->yAxis->range();
    if (row - 0.5 >= yr.lower && row + 0.5 <= yr.upper)
        return;
    const double span = yr.size();
    plot()->yAxis->setRange(row - span / 2, row + span / 2);
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

void BitMapView::selectRow(int row)
{
    if (row < 0 || row >= m_tensors.size())
        return;
    setSelectedTensor(m_tensors[row]);
    Q_EMIT matrixClicked(m_tensors[row]);
}

int BitMapView::findTensor(const QString& text, int index)
{
    if (text.trimmed().isEmpty()) {
        m_matchLabel->clear();
        return 0;
    }
    static const QRegularExpression special(QStringLiteral("[\\^\\$\\*\\+\\?\\[\\]\\(\\)\\|\\\\]"));
    const QRegularExpression re(text.contains(special) ? text : QRegularExpression::escape(text.trimmed()),
                                QRegularExpression::CaseInsensitiveOption);
    QList<int> matches;
    if (re.isValid())
        for (int r = 0; r < m_tensors.size(); ++r)
            if (re.match(m_tensors[r]).hasMatch() || re.match(m_labels.value(r)).hasMatch())
                matches << r;
    if (matches.isEmpty()) {
        m_matchLabel->setText(re.isValid() ? tr("no match") : tr("bad pattern"));
        return 0;
    }
    const int i = ((index % matches.size()) + matches.size()) % matches.size();
    m_matchIndex = i;
    m_matchLabel->setText(tr("%1 of %2").arg(i + 1).arg(matches.size()));
    selectRow(matches[i]);
    return int(matches.size());
}

QString BitMapView::hoverText(const QPoint& pos) const
{
    const QCustomPlot* p = plot();
    if (!p->axisRect()->rect().contains(pos) || m_grid.rows.empty())
        return {};
    const int row = int(std::lround(p->yAxis->pixelToCoord(pos.y())));
    if (row < 0 || row >= int(m_grid.rows.size()))
        return {};
    const double x = p->xAxis->pixelToCoord(pos.x());
    const int64_t k = std::max<int64_t>(1, m_drawnK);
    const int64_t first = m_binFirst + int64_t(std::floor((x + 0.5 - double(m_binFirst)) / double(k))) * k;
    const auto& values = m_grid.rows[size_t(row)];
    const int64_t a = std::max<int64_t>(first, 0), b = std::min<int64_t>(first + k, int64_t(values.size()));
    if (a >= b)
        return {};
    double sum = 0;
    for (int64_t j = a; j < b; ++j)
        sum += values[size_t(j)];
    const QString what = m_mode == Mode::Difference ? tr("difference") : tr("bits");
    return b - a == 1 ? tr("%1\ncolumn %2: %3 %4").arg(m_tensors.value(row)).arg(a).arg(values[size_t(a)]).arg(what)
                      : tr("%1\ncolumns %2–%3: mean %4 %5").arg(m_tensors.value(row)).arg(a).arg(b - 1).arg(sum / double(b - a), 0, 'f', 2).arg(what);
}

bool BitMapView::writeCsv(QTextStream& out) const
{
    // One line per matrix; the per-column values are space-separated in one field so that a
    // 7B-shaped run stays 224 lines.
    out << "tensor,label," << (m_mode == Mode::Difference ? "columns,mean_difference,column_difference\n"
                                                          : "columns,average_bits,column_bits\n");
    for (int r = 0; r < int(m_grid.rows.size()); ++r) {
        const auto& row = m_grid.rows[size_t(r)];
        double sum = 0;
        QString cells;
        cells.reserve(int(row.size()) * 3);
        for (size_t c = 0; c < row.size(); ++c) {
            sum += row[c];
            if (c)
                cells += QLatin1Char(' ');
            cells += QString::number(int(row[c]));
        }
        out << csvField(m_tensors.value(r)) << ',' << csvField(m_labels.value(r)) << ',' << row.size() << ','
            << QString::number(row.empty() ? 0.0 : sum / double(row.size()), 'f', 4) << ',' << cells << '\n';
    }
    return out.status() == QTextStream::Ok;
}

void BitMapView::onPress(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton || !plot()->axisRect()->rect().contains(event->pos()))
        return;
    const auto [row, column] = cellAt(event->pos());
    selectRow(int(std::lround(plot()->yAxis->pixelToCoord(event->pos().y()))));
    if (row >= 0 && (event->modifiers() & Qt::ShiftModifier))
        Q_EMIT columnShiftClicked(m_tensors[row], column);
    else if (row >= 0)
        Q_EMIT columnClicked(m_tensors[row], column);
}

QPoint BitMapView::pixelOf(int row, qint64 column) const
{
    return QPoint(int(std::lround(plot()->xAxis->coordToPixel(double(column)))),
                  int(std::lround(plot()->yAxis->coordToPixel(double(row)))));
}

QPair<int, qint64> BitMapView::cellAt(const QPoint& pos) const
{
    const int row = int(std::lround(plot()->yAxis->pixelToCoord(pos.y())));
    const qint64 column = qint64(std::llround(plot()->xAxis->pixelToCoord(pos.x())));
    if (row < 0 || row >= m_tensors.size() || column < 0 || column >= m_cols[size_t(row)] ||
        !plot()->axisRect()->rect().contains(pos))
        return {-1, -1};
    return {row, column};
}

bool BitMapView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot() && event->type() == QEvent::KeyPress && handleKey(static_cast<QKeyEvent*>(event)))
        return true;
    return PlotView::eventFilter(watched, event);
}

bool BitMapView::handleKey(QKeyEvent* event)
{
    QCustomPlot* p = plot();
    const int rows = int(m_tensors.size());
    const int row = int(m_tensors.indexOf(m_selected));
    const QCPRange xr = p->xAxis->range();
    const int page = std::max(1, int(p->yAxis->range().size()) - 1);
    switch (event->key()) {
    case Qt::Key_Up:
        selectRow(row < 0 ? 0 : std::max(0, row - 1));
        return true;
    case Qt::Key_Down:
        selectRow(row < 0 ? 0 : std::min(rows - 1, row + 1));
        return true;
    case Qt::Key_PageUp:
        selectRow(std::max(0, (row < 0 ? 0 : row) - page));
        return true;
    case Qt::Key_PageDown:
        selectRow(std::min(rows - 1, (row < 0 ? 0 : row) + page));
        return true;
    case Qt::Key_Left:
        setColumnRange(xr.lower - xr.size() / 4, xr.upper - xr.size() / 4);
        return true;
    case Qt::Key_Right:
        setColumnRange(xr.lower + xr.size() / 4, xr.upper + xr.size() / 4);
        return true;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        setColumnRange(xr.center() - xr.size() / 4, xr.center() + xr.size() / 4);
        return true;
    case Qt::Key_Minus:
        setColumnRange(xr.center() - xr.size(), xr.center() + xr.size());
        return true;
    case Qt::Key_0:
    case Qt::Key_Home:
        resetZoom();
        return true;
    default:
        return false;
    }
}

} // namespace mpq::gui
