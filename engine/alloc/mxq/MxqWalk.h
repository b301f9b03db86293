#pragma once

// How MXQ's budget gets spent, step by step, for the teaching view (issue 19; docs/teaching.md):
// the greedy walk along each matrix's lower convex hull of (storage, cost), steepest move first,
// until the next move does not fit — the LP relaxation's path (its last, fractional move is where
// the shadow price comes from). The view shows the MIP's own solution beside it. Plain C++ types.

#include "alloc/mxq/MxqProblem.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// One move of the walk: matrix `matrix` from configuration `from` to `to`.
struct MxqWalkStep {
    int64_t matrix = 0;
    int from = 0, to = 0;
    double storageBits = 0;     ///< added storage (> 0)
    double costSaved = 0;       ///< cost removed (> 0)
    double rate = 0;            ///< costSaved / storageBits
    double totalStorageBits = 0; ///< after the move
    double totalCost = 0;        ///< after the move
};

struct MxqWalk {
    double budgetBits = 0;
    int64_t parameters = 0;
    std::vector<int> start;      ///< per matrix: its smallest configuration (cheapest among ties)
    double startStorageBits = 0, startCost = 0;
    std::vector<MxqWalkStep> steps; ///< the moves that fit the budget, in order
    /// The first move that did not fit (its rate is the LP's shadow price λ); matrix −1 when every
    /// move fit (λ = 0).
    MxqWalkStep blocked;
    std::vector<int> greedyChoice; ///< the configuration of each matrix after the last move
    /// The configuration of each matrix after `n` moves (0 ≤ n ≤ steps.size()).
    std::vector<int> choiceAfter(size_t n) const;
};

/// Walks `table` under `budgetBits` of storage. Throws mpq::Error on an empty or invalid table or
/// a budget below the smallest configuration of every matrix.
MxqWalk mxqWalk(const MxqCostTable& table, double budgetBits);

} // namespace mpq
