#include "KnobScale.h"

#include <algorithm>
#include <cmath>

namespace mpq::gui {

KnobScale KnobScale::covering(const std::vector<double>& knobs, bool preferLog, int steps)
{
    KnobScale s;
    s.steps = std::max(steps, 1);
    if (knobs.empty())
        return s;
    const auto [mn, mx] = std::minmax_element(knobs.begin(), knobs.end());
    s.lo = *mn;
    s.hi = *mx;
    s.logarithmic = preferLog && s.lo > 0;
    if (s.logarithmic) {
        if (s.hi <= s.lo) {
            s.lo /= 2;
            s.hi *= 2;
        }
    } else if (s.hi <= s.lo) {
        s.lo -= 0.5;
        s.hi += 0.5;
    }
    return s;
}

double KnobScale::value(int position) const
{
    const double t = double(std::clamp(position, 0, steps)) / double(steps);
    if (logarithmic)
        return std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo)));
    return lo + t * (hi - lo);
}

int KnobScale::position(double v) const
{
    double t;
    if (logarithmic)
        t = v > 0 ? (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo)) : 0.0;
    else
        t = (v - lo) / (hi - lo);
    return int(std::lround(std::clamp(t, 0.0, 1.0) * steps));
}

} // namespace mpq::gui
