#include "pipeline/SeedStatistics.h"

#include "core/Error.h"
#include "core/SettingError.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace mpq {

SeedStatistics seedStatistics(const std::vector<double>& values)
{
    if (values.empty())
        throw Error("seed statistics: no values");
    SeedStatistics s;
    s.count = int64_t(values.size());
    s.min = s.max = values.front();
    double sum = 0;
    for (double v : values) {
        if (!std::isfinite(v))
            throw Error("seed statistics: a value is not finite");
        sum += v;
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
    }
    s.mean = sum / double(s.count);
    if (s.count > 1) {
        double ss = 0;
        for (double v : values)
            ss += (v - s.mean) * (v - s.mean);
        s.sd = std::sqrt(ss / double(s.count - 1));
    }
    s.relativeSd = s.mean != 0 ? s.sd / std::abs(s.mean) : 0;
    return s;
}

std::vector<uint64_t> parseSeedList(const std::string& text)
{
    auto fail = [](const std::string& message) { throw SettingError("seeds", "seed list: " + message); };
    std::vector<uint64_t> out;
    std::set<uint64_t> seen;
    auto number = [&](const std::string& t) {
        if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 18)
            fail("\"" + t + "\" is not a seed (a non-negative integer)");
        return uint64_t(std::stoull(t));
    };
    auto add = [&](uint64_t v) {
        if (!seen.insert(v).second)
            fail("seed " + std::to_string(v) + " appears twice");
        out.push_back(v);
    };
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const size_t dash = item.find('-', 1);
        if (dash == std::string::npos) {
            add(number(item));
            continue;
        }
        const uint64_t a = number(item.substr(0, dash)), b = number(item.substr(dash + 1));
        if (b < a)
            fail("range \"" + item + "\" runs backwards");
        if (b - a >= 10000)
            fail("range \"" + item + "\" has more than 10000 seeds");
        for (uint64_t v = a; v <= b; ++v)
            add(v);
    }
    if (out.empty())
        fail("at least one seed is needed");
    return out;
}

std::string formatSeedStatistics(const SeedStatistics& s, int decimals)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "%.*f ± %.*f (%.2f%%)", decimals, s.mean, decimals, s.sd, 100.0 * s.relativeSd);
    return buf;
}

} // namespace mpq
