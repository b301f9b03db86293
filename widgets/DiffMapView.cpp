#include "DiffMapView.h"

#include "RunComparison.h"

namespace mpq::gui {

DiffMapView::DiffMapView(QWidget* parent) : BitMapView(Mode::Difference, parent)
{
    clear(tr("Pick two runs to see where their bits differ."));
}

void DiffMapView::setRuns(const RunData& a, const QString& labelA, const RunData& b, const QString& labelB)
{
    QStringList tensors, labels;
    ColumnGrid grid = RunComparison::difference(a, b, &tensors, &labels);
    m_changed = 0;
    m_compared = 0;
    int64_t more = 0;
    for (const auto& row : grid.rows)
        for (int8_t d : row) {
            ++m_compared;
            m_changed += d != 0;
            more += d > 0;
        }
    const QString caption =
        grid.rows.empty()
            ? tr("%1 and %2 have no matrix of the same shape in common.").arg(labelA, labelB)
            : tr("B = %1 minus A = %2: %3 matrices, %4 of %5 columns differ (%6 get more bits in B, %7 fewer); "
                 "mean difference %8 bits")
                  .arg(labelB, labelA)
                  .arg(grid.rows.size())
                  .arg(m_changed)
                  .arg(m_compared)
                  .arg(more)
                  .arg(m_changed - more)
                  .arg(m_compared ? (b.avgBits - a.avgBits) : 0.0, 0, 'f', 3);
    setGrid(std::move(grid), tensors, labels, caption);
}

void DiffMapView::clear(const QString& why)
{
    m_changed = m_compared = 0;
    setGrid({}, {}, {}, why);
}

} // namespace mpq::gui
