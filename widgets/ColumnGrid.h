#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// The numbers behind a bit map: one row per weight matrix, one small integer per input column
/// (a bit-width, or a difference of two bit-widths), and the binning that turns a visible range
/// of columns into at most as many cells as the plot has pixels (the aggregated overview of a
/// 7B-shaped run: 224 rows of up to 11008 columns). Pure data and arithmetic, tested without a
/// window; the views draw what bin() returns.
struct ColumnGrid {
    std::vector<std::vector<int8_t>> rows; ///< per row, per column

    /// Columns of the widest row (0 when empty).
    int64_t maxCols() const;

    /// The cells of columns [first, last) (clamped to the grid) grouped `columnsPerCell` at a time.
    struct Binned {
        int64_t first = 0;          ///< first column of cell 0
        int64_t columnsPerCell = 1; ///< k: every cell is the mean of k adjacent columns (1: exact)
        int cells = 0;              ///< cells per row
        int rowCount = 0;
        /// Row-major rowCount × cells; the mean of the row's columns in the cell, NaN where the
        /// row has none (rows narrower than the widest).
        std::vector<double> values;
        double at(int row, int cell) const { return values[size_t(row) * size_t(cells) + size_t(cell)]; }
        /// The column range [first, last) of a cell.
        int64_t cellFirst(int cell) const { return first + int64_t(cell) * columnsPerCell; }
    };
    /// Bins columns [first, last) into at most `maxCells` cells per row: k = ⌈(last − first) /
    /// maxCells⌉ columns per cell, so that every cell stands for the same whole number of columns.
    Binned bin(int64_t first, int64_t last, int maxCells) const;
    /// The k that bin() would use.
    static int64_t columnsPerCell(int64_t span, int maxCells);
};

} // namespace mpq::gui
