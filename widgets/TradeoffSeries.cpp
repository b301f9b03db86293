#include "TradeoffSeries.h"

#include <cmath>

namespace mpq::gui {

int TradeoffSeries::nearest(double knob) const
{
    int best = -1;
    double bestDistance = 0;
    for (int i = 0; i < int(points.size()); ++i) {
        const double d = std::abs(points[size_t(i)].knob - knob);
        if (best < 0 || d < bestDistance) {
            best = i;
            bestDistance = d;
        }
    }
    return best;
}

} // namespace mpq::gui
