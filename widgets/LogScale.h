#pragma once

#include <vector>

namespace mpq::gui {

/// Maps positive values to [0, 1] on a logarithmic scale between `lo` and `hi` (the heat map's
/// colour scale). Values at or below `lo` (zero and negatives included) map to 0, at or above
/// `hi` to 1. Pure arithmetic, tested without a window.
struct LogScale {
    double lo = 1e-6;
    double hi = 1.0;

    /// A scale covering the positive values of [data, data + n), spanning at most `decades`
    /// below the maximum so that a few tiny entries do not wash out the picture.
    static LogScale fit(const float* data, long long n, double decades = 4.0);
    double map(double value) const;
    /// Tick values for a colour-scale axis over [lo, hi] whose labels (two significant digits)
    /// are all different: the powers of ten when the range spans two or more, else 1, 2, 5 × 10^k,
    /// else every m × 10^k, else lo and hi; at most `maxTicks`, at least two.
    std::vector<double> ticks(int maxTicks = 6) const;
};

} // namespace mpq::gui
