#pragma once

#include "ColumnGrid.h"
#include "MatrixResult.h"
#include "PlotView.h"

#include <vector>

class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QLabel;
class QLineEdit;

namespace mpq::gui {

/// The bit-width map: one row per weight matrix, one cell per input column coloured by its
/// bit-width, a legend of the widths and each row labelled with its matrix and average bits.
/// Clicking a row selects that matrix. Scales to a 7B-shaped run (224 rows of up to 11008
/// columns): it draws at most one cell per pixel (an overview where each cell is the mean of k
/// columns, ColumnGrid), re-binned as one zooms (wheel: columns, Shift+wheel: rows) and pans
/// (drag); a search box finds a tensor by name. Keys: ↑/↓ previous/next matrix, PgUp/PgDn a page
/// of rows, ←/→ pan, +/− zoom columns, 0 whole map, Ctrl+F search. GUI thread only.
class BitMapView : public PlotView {
    Q_OBJECT
public:
    explicit BitMapView(QWidget* parent = nullptr);

    /// Shows `matrices` (in order, top to bottom) under `title`; an empty list shows `title` as
    /// the reason there is nothing to draw. Redraws at once.
    void setMatrices(const std::vector<MatrixResult>& matrices, const QString& title);
    /// Outlines the row of `tensor` (none when empty or absent) and scrolls it into view.
    void setSelectedTensor(const QString& tensor);
    QString selectedTensor() const { return m_selected; }
    /// Tensor names in row order (top row first).
    QStringList tensors() const { return m_tensors; }
    /// The row labels drawn now (rows without a label are left out: when rows are shorter than a
    /// line of text only every k-th row is labelled, so that labels never overlap).
    QStringList rowLabels() const;
    /// Every k-th row gets a label when rows are `pixelsPerRow` high and a label `lineHeight`.
    static int labelStride(double pixelsPerRow, double lineHeight);

    /// Shows columns [first, last] (zoom and pan; clamped to the map). Redraw is requested.
    void setColumnRange(double first, double last);
    /// Shows rows [first, last] (clamped).
    void setRowRange(double first, double last);
    /// The whole map again.
    void resetZoom();
    /// The columns and rows visible now (axis coordinates: cell centres are whole numbers).
    QPair<double, double> columnRange() const;
    QPair<double, double> rowRange() const;
    /// Columns per drawn cell as last drawn (1: every column is its own cell).
    int64_t columnsPerCell() const { return m_drawnK; }
    /// Cells per row as last drawn.
    int drawnCells() const { return m_drawnCells; }
    /// Finds tensors whose name or label contains `text` (case-insensitive; a regular expression
    /// when it has one of ^$*+?[]()|\): selects the `index`-th match (wrapping), scrolls to it and
    /// emits matrixClicked. Returns the number of matches.
    int findTensor(const QString& text, int index = 0);
    /// The search box (for tests and the keyboard).
    QLineEdit* searchBox() const { return m_search; }
    /// Readout of the cell under `pos` (plot pixels): matrix, columns and bits; empty outside.
    QString hoverText(const QPoint& pos) const;
    /// The (row, column) under `pos` (plot pixels); row −1 when outside the map.
    QPair<int, qint64> cellAt(const QPoint& pos) const;
    /// The plot pixel at the centre of (row, column) as last drawn (for tests and the keyboard).
    QPoint pixelOf(int row, qint64 column) const;
    bool writeCsv(QTextStream& out) const override;

Q_SIGNALS:
    /// A row was clicked (or chosen with the keyboard or the search box).
    void matrixClicked(const QString& tensor);
    /// A column was clicked (after matrixClicked): the input column under the mouse, in the
    /// matrix's original column order (in an overview cell, the column at the click's position).
    void columnClicked(const QString& tensor, qint64 column);
    /// The same with Shift held (instead of columnClicked): extends a column range.
    void columnShiftClicked(const QString& tensor, qint64 column);
    /// The visible columns changed by zoom or pan (to keep maps side by side in step).
    void columnRangeChanged(double first, double last);
    void rowRangeChanged(double first, double last);

protected:
    /// A map of differences (DiffMapView): a diverging colour scale from −range to +range.
    enum class Mode { Bits, Difference };
    BitMapView(Mode mode, QWidget* parent);
    /// Shows `grid` with one label and tensor per row; `caption` is shown as is.
    void setGrid(ColumnGrid grid, const QStringList& tensors, const QStringList& labels, const QString& caption);
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void build();
    void onPress(QMouseEvent* event);
    void updateSelection();
    void applyRowLabels();
    void rebin();
    void clampRanges();
    void ensureRowVisible(int row);
    void selectRow(int row);
    bool handleKey(QKeyEvent* event);
    void updateZoomLabel();

    Mode m_mode = Mode::Bits;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_selection = nullptr;
    QLineEdit* m_search = nullptr;
    QLabel* m_matchLabel = nullptr;
    QLabel* m_zoomLabel = nullptr;
    ColumnGrid m_grid;
    QStringList m_tensors;
    std::vector<int64_t> m_cols;
    QStringList m_labels;       ///< one per row
    int m_stride = 1;           ///< rows per label as drawn
    QString m_selected;
    int m_matchIndex = 0;
    int64_t m_drawnK = 1;
    int m_drawnCells = 0;
    int64_t m_binFirst = -1, m_binLast = -1;
    int m_binPixels = -1;
    bool m_gridChanged = true;
};

} // namespace mpq::gui
