#include "ColumnGrid.h"

#include <algorithm>
#include <limits>

namespace mpq::gui {

int64_t ColumnGrid::maxCols() const
{
    int64_t n = 0;
    for (const auto& r : rows)
        n = std::max<int64_t>(n, int64_t(r.size()));
    return n;
}

int64_t ColumnGrid::columnsPerCell(int64_t span, int maxCells)
{
    if (span <= 0)
        return 1;
    const int64_t cells = std::max(1, maxCells);
    return std::max<int64_t>(1, (span + cells - 1) / cells);
}

ColumnGrid::Binned ColumnGrid::bin(int64_t first, int64_t last, int maxCells) const
{
    Binned out;
    const int64_t width = maxCols();
    first = std::clamp<int64_t>(first, 0, width);
    last = std::clamp<int64_t>(last, first, width);
    out.first = first;
    out.rowCount = int(rows.size());
    const int64_t span = last - first;
    out.columnsPerCell = columnsPerCell(span, maxCells);
    out.cells = span > 0 ? int((span + out.columnsPerCell - 1) / out.columnsPerCell) : 0;
    out.values.assign(size_t(out.rowCount) * size_t(out.cells), std::numeric_limits<double>::quiet_NaN());
    const int64_t k = out.columnsPerCell;
    for (int r = 0; r < out.rowCount; ++r) {
        const std::vector<int8_t>& row = rows[size_t(r)];
        const int64_t end = std::min<int64_t>(last, int64_t(row.size()));
        double* dst = out.values.data() + size_t(r) * size_t(out.cells);
        for (int c = 0; c < out.cells; ++c) {
            const int64_t a = first + int64_t(c) * k;
            const int64_t b = std::min(a + k, end);
            if (a >= b)
                break;
            int sum = 0;
            for (int64_t j = a; j < b; ++j)
                sum += row[size_t(j)];
            dst[c] = double(sum) / double(b - a);
        }
    }
    return out;
}

} // namespace mpq::gui
