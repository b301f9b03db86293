#include "LogScale.h"

#include <algorithm>
#include <cmath>
#include <string>

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

std::vector<double> LogScale::ticks(int maxTicks) const
{
    std::vector<double> out;
    if (!(lo > 0) || !(hi > lo))
        return out;
    const int k0 = int(std::floor(std::log10(lo))), k1 = int(std::ceil(std::log10(hi)));
    const auto collect = [&](std::initializer_list<int> mantissas) {
        std::vector<double> v;
        for (int k = k0; k <= k1; ++k)
            for (int m : mantissas) {
                // m·10^k written as one parse of its text, so that it prints back the same.
                const double x = std::stod(std::to_string(m) + "e" + std::to_string(k));
                if (x >= lo * (1 - 1e-9) && x <= hi * (1 + 1e-9))
                    v.push_back(x);
            }
        return v;
    };
    out = collect({1});
    if (out.size() < 2)
        out = collect({1, 2, 5});
    if (out.size() < 2)
        out = collect({1, 2, 3, 4, 5, 6, 7, 8, 9});
    if (out.size() < 2)
        out = {lo, hi}; // a sliver of one decade: its two ends
    // Too many: keep every n-th (decades stay decades).
    if (maxTicks > 1 && int(out.size()) > maxTicks) {
        const size_t step = (out.size() + size_t(maxTicks) - 1) / size_t(maxTicks);
        std::vector<double> thin;
        for (size_t i = 0; i < out.size(); i += step)
            thin.push_back(out[i]);
        out = thin;
    }
    return out;
}

} // namespace mpq::gui
