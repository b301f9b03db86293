#include "LogScale.h"

#include <algorithm>
#include <cmath>

namespace mpq::gui {

LogScale LogScale::fit(const float* data, long long n, double decades)
{
    double maxV = 0, minV = 0;
    for (long long i = 0; i < n; ++i) {
        const double v = data[i];
        if (!(v > 0) || !std::isfinite(v))
            continue;
        maxV = std::max(maxV, v);
        minV = minV == 0 ? v : std::min(minV, v);
    }
    if (maxV <= 0)
        return LogScale{};
    LogScale s;
    s.hi = maxV;
    s.lo = std::max(minV, maxV * std::pow(10.0, -decades));
    if (s.lo >= s.hi)
        s.lo = s.hi / 10.0;
    return s;
}

double LogScale::map(double value) const
{
    if (!(value > lo))
        return 0.0;
    if (value >= hi)
        return 1.0;
    return (std::log10(value) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
}

} // namespace mpq::gui
