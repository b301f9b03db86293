#pragma once

#include "BitMapView.h"
#include "RunData.h"

namespace mpq::gui {

/// The difference map of two runs: one row per matrix both have, each input column coloured by
/// its bits in run B minus its bits in run A on a diverging blue (fewer) – white – orange (more)
/// scale. Zoom, pan, search and keys as the bit map. GUI thread only.
class DiffMapView : public BitMapView {
    Q_OBJECT
public:
    explicit DiffMapView(QWidget* parent = nullptr);
    /// Shows b − a; `labelA` and `labelB` name the runs in the caption.
    void setRuns(const RunData& a, const QString& labelA, const RunData& b, const QString& labelB);
    /// Shows `why` instead (fewer than two runs picked).
    void clear(const QString& why);
    /// Columns that differ, and all columns compared, as last set.
    int64_t changedColumns() const { return m_changed; }
    int64_t comparedColumns() const { return m_compared; }

private:
    int64_t m_changed = 0;
    int64_t m_compared = 0;
};

} // namespace mpq::gui
