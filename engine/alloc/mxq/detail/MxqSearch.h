#pragma once

#include "alloc/mxq/MxqSolver.h"
#include "core/JobContext.h"

#include <string>
#include <vector>

// The pieces of MXQ's solve that the MIP back ends (GLPK, CBC) share with the greedy stage.
namespace mpq::detail {

/// A configuration of one matrix that is not dominated by another.
struct Candidate {
    int config = 0;
    double cost = 0;
    double storage = 0;
};

/// Per matrix, the non-dominated configurations sorted by storage ascending (cost descending).
using Fronts = std::vector<std::vector<Candidate>>;

/// The greedy solution of the multiple-choice knapsack and its LP relaxation bound (Sinha &
/// Zemel): upgrades along each matrix's lower convex hull, taken by decreasing cost saved per
/// bit; the first one that does not fit is taken fractionally by the LP. The integer solution
/// skips it and is then improved by single and pairwise exchanges.
struct Greedy {
    std::vector<int> position; ///< per matrix, index into its front
    double cost = 0;
    double storage = 0;
    double lpBound = 0;
    double lambda = 0;         ///< the LP's price of one bit (its budget row's dual), ≥ 0
};

/// Reduced-cost fixing (exact): at the LP's bit price λ every assignment costs at least
/// LB = Σ_m min_k (c_mk + λ s_mk) − λ·budget plus the reduced cost c_mk + λ s_mk − min_k(…) of
/// each of its choices, so no choice whose reduced cost exceeds incumbent − LB is in an
/// assignment better than the incumbent. Returns the fronts without those choices and maps
/// `greedy`'s positions onto them (the incumbent's choices always stay). `kept` receives the
/// number of candidates left.
Fronts fixByReducedCosts(const Fronts& fronts, double budget, Greedy& greedy, int64_t& kept);

/// Fills choice, objective, storage and the achieved bits of `s` from positions on the fronts.
void setChoice(MxqSolution& s, const Fronts& fronts, const std::vector<int>& position);
/// (objective − bound)/objective, ≥ 0, with rounding noise below 10⁻¹² reported as 0.
double relativeGap(double objective, double bound);

/// The MIP back end compiled in: "GLPK 5.0", "CBC 2.10.8", or empty when there is none.
std::string mipSolverName();

/// Branch and bound over the fronts from the greedy incumbent with the compiled-in MIP solver
/// (one binary per (matrix, candidate), one assignment row per matrix, one knapsack row of
/// right-hand side s.budgetBits). Sets status, message (on failure), choice, objective, bound,
/// gap and nodes of `s`. Throws mpq::Cancelled when ctx is cancelled during the search.
/// Only callable when mipSolverName() is not empty.
void mipSolve(MxqSolution& s, const Fronts& fronts, const Greedy& greedy, const MxqSolveOptions& opt,
              const JobContext* ctx);

} // namespace mpq::detail
