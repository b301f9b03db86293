#include "alloc/mxq/MxqBudget.h"

#include <cstdio>

namespace mpq {

namespace {

constexpr double kBitsPerMiB = 8.0 * 1024.0 * 1024.0;

std::string fixed(double v, int digits)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

} // namespace

double MxqBudget::toBits(int64_t parameters) const
{
    return unit == Unit::MiB ? value * kBitsPerMiB : value * double(parameters);
}

std::string MxqBudget::describe() const
{
    return unit == Unit::MiB ? fixed(value, 3) + " MiB" : fixed(value, 4) + " bits/parameter";
}

std::optional<MxqBudget> MxqBudget::parse(const std::string& text)
{
    double value = 0;
    char unit[32] = {};
    if (std::sscanf(text.c_str(), "%lf %31s", &value, unit) != 2)
        return std::nullopt;
    const std::string u = unit;
    if (u == "MiB")
        return mib(value);
    if (u.rfind("bits", 0) == 0)
        return bitsPerParameter(value);
    return std::nullopt;
}

} // namespace mpq
