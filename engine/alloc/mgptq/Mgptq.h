#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// Bits per weight of a per-column allocation with scales and zeros counted as
/// QuantizedWeight::bitsWithOverhead counts them: per row, each (group, bit-width) slot present
/// costs a 16-bit scale plus a zero of the slot's width (none when symmetric).
double columnBitsWithOverhead(const std::vector<uint8_t>& columnBits, int64_t groupSize, bool symmetric);

/// Mean of the columns' bit-widths.
double averageColumnBits(const std::vector<uint8_t>& columnBits);

/// MG-PTQ's target repair (docs/mgptq.md, "Target mode"). `choice[j]` indexes `bitsSet`
/// (ascending); `error[j][c]` is column j's predicted error at candidate c. Above the target,
/// columns move one candidate down, cheapest predicted error increase per bit saved first,
/// until the average is at most the target; below it, columns move one candidate up, largest
/// error decrease per bit first, while the average stays at most the target. Returns the moves
/// made.
int64_t repairToTarget(std::vector<int>& choice, const std::vector<std::vector<double>>& error,
                       const std::vector<int>& bitsSet, double target);

} // namespace mpq
