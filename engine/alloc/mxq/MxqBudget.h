#pragma once

// MXQ's memory budget (docs/mxq.md): plain C++, so that run records (runs/SolverRecord.h) can
// carry it without the cost-table headers.

#include <cstdint>
#include <optional>
#include <string>

namespace mpq {

/// MXQ's memory budget over the quantized matrices, as average bits per parameter (scales,
/// zeros and meta-data included, as MxqConfig::bitsPerWeight counts them) or in MiB.
struct MxqBudget {
    enum class Unit { BitsPerParameter, MiB };
    Unit unit = Unit::BitsPerParameter;
    double value = 4.0;

    static MxqBudget bitsPerParameter(double bits) { return {Unit::BitsPerParameter, bits}; }
    static MxqBudget mib(double mebibytes) { return {Unit::MiB, mebibytes}; }
    /// The budget in bits for matrices holding `parameters` weights in all.
    double toBits(int64_t parameters) const;
    /// "3.5000 bits/parameter" or "120.000 MiB".
    std::string describe() const;
    /// The inverse of describe(): "<number> bits/parameter" (any unit starting with "bits") or
    /// "<number> MiB"; nullopt for anything else.
    static std::optional<MxqBudget> parse(const std::string& text);
    bool operator==(const MxqBudget& o) const { return unit == o.unit && value == o.value; }
};

} // namespace mpq
