#pragma once

#include <cstdint>
#include <vector>

namespace mpq {

/// The Hessian-greedy baseline (docs/mgptq.md): columns ranked by `score` (H_jj·‖W[:, j]‖²),
/// all start at the lowest candidate of `bitsSet`; the highest-ranked columns are raised to the
/// highest candidate while the average stays at most `targetBits`, and the first column that
/// no longer fits gets the largest candidate that does. The average is within one candidate
/// step / cols below the target. Throws mpq::Error on an empty set or a target outside
/// [min, max] of the set.
std::vector<uint8_t> hessianGreedyBits(const std::vector<double>& score, std::vector<int> bitsSet,
                                       double targetBits);

} // namespace mpq
