#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/mxq/MxqProblem.h"
#include "core/JobContext.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

struct MxqSolveOptions {
    double timeLimitSeconds = 10;  ///< wall-clock limit of the branch and bound
    /// Stop once (objective − bound)/objective ≤ this. 10⁻⁴ is HiGHS's default, which MXQ's own
    /// code used (scipy.optimize.milp); 0 proves exact optimality, which can take seconds where
    /// many matrices share a shape and their costs nearly tie (docs/mxq.md).
    double relativeGap = 1e-4;
    bool greedyStart = true;       ///< hand the MIP solver the greedy incumbent (typically within 0.02 %)
};

enum class MxqStatus {
    Optimal,    ///< proven optimal within MxqSolveOptions::relativeGap (gap says how close)
    Feasible,   ///< a solution within the budget, optimality not proven (time limit): see gap
    Infeasible, ///< no assignment fits the budget: the message names the smallest feasible one
    Error       ///< the solver failed or is missing: see message
};
/// "optimal", "feasible", "infeasible", "error".
const char* mxqStatusName(MxqStatus s);

/// The outcome of one solve. Plain data for the GUI, the CLI and session files.
struct MxqSolution {
    MxqStatus status = MxqStatus::Error;
    std::string message;            ///< one line a person can read
    /// "GLPK 5.0 (…)" (or "CBC 2.10.8 (…)" in a build with MPQ_WITH_CBC); "greedy, proven by its
    /// LP bound" when the greedy start is already within the gap; "greedy (no MIP solver in this
    /// build)" without either.
    std::string solver;
    std::vector<int> choice;        ///< per matrix of the table, the index of its configuration
    double objective = 0;           ///< Σ cost of the choice
    double bound = 0;               ///< best proven lower bound on Σ cost
    double gap = 0;                 ///< (objective − bound) / objective, ≥ 0
    double budgetBits = 0;
    double budgetBitsPerParameter = 0;
    double storageBits = 0;         ///< Σ storage of the choice
    double bitsPerParameter = 0;    ///< achieved average bits per parameter
    double minimumBitsPerParameter = 0; ///< every matrix at its smallest configuration
    int64_t parameters = 0;         ///< weights of the matrices in the table
    double seconds = 0;             ///< wall time of the whole solve
    int64_t nodes = 0;              ///< branch-and-bound nodes

    bool hasSolution() const { return status == MxqStatus::Optimal || status == MxqStatus::Feasible; }
    double storageMiB() const { return storageBits / (8.0 * 1024.0 * 1024.0); }
};

/// Average bits per parameter with every matrix at its smallest configuration: the smallest
/// feasible budget. Throws mpq::Error on an empty or invalid table.
double mxqMinimumBitsPerParameter(const MxqCostTable& table);

/// Chooses one configuration per matrix minimising Σ cost subject to Σ storage ≤ budget: a 0/1
/// program with one binary per (matrix, configuration), one assignment row per matrix and one
/// knapsack row, solved by the build's MIP solver — GLPK's branch and cut by default (MxqGlpk.cpp),
/// CBC's standard driver with MPQ_WITH_CBC (MxqCbc.cpp) — from a greedy incumbent. Dominated configurations (no less storage and no lower cost than
/// another) are dropped first; they are never needed for an optimum. Solver output is silenced.
///
/// Returns status Infeasible (message with the smallest feasible budget) when the budget is below
/// every matrix's smallest configuration; Error if the table is empty or invalid or the solver
/// fails. Without a MIP solver in the build the greedy solution is returned as Feasible with its LP-bound
/// gap (Optimal where the LP bound proves it). A "probed" table that holds a selection for the
/// budget (MxqCostTable::selections) returns that selection's kept plan instead, as Feasible with
/// gap 0, the solver naming the kept candidate and the message listing every candidate's
/// calibration loss. Cancellation of `ctx` stops the branch and bound
/// at its next node and throws mpq::Cancelled. Thread-safe; GLPK's hooks and CBC's driver keep
/// static state, so solves from several threads run one after the other.
MxqSolution solveMxq(const MxqCostTable& table, const MxqBudget& budget,
                     const MxqSolveOptions& options = {}, JobContext* ctx = nullptr);

/// The allocation plan of a solution: every matrix with quantizer "hqq", its bit-width on every
/// column, its group size, predictedCost and storageBits; method "mxq". Throws mpq::Error when the
/// solution has no choice for every matrix of the table.
AllocationPlan toPlan(const MxqCostTable& table, const MxqSolution& solution);

} // namespace mpq
