#include "alloc/mxq/MxqSolver.h"
#include "alloc/mxq/detail/MxqSearch.h"

#include "core/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>


namespace mpq {

using detail::Candidate;
using detail::Greedy;

namespace {

constexpr double kBitsPerMiB = 8.0 * 1024.0 * 1024.0;

std::string fmt(double v, int digits = 4)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

/// Per matrix, its Pareto front sorted by storage ascending (so cost strictly descending):
/// a configuration with no less storage and no lower cost than another is never needed.
std::vector<std::vector<Candidate>> paretoFronts(const MxqCostTable& t)
{
    std::vector<std::vector<Candidate>> fronts;
    fronts.reserve(t.matrices.size());
    for (const auto& m : t.matrices) {
        std::vector<Candidate> all;
        for (size_t k = 0; k < t.configs.size(); ++k)
            all.push_back({int(k), m.cost[k], m.storageBits[k]});
        std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
            return a.storage != b.storage ? a.storage < b.storage : a.cost < b.cost;
        });
        std::vector<Candidate> front;
        for (const auto& c : all)
            if (front.empty() || c.cost < front.back().cost)
                front.push_back(c);
        fronts.push_back(std::move(front));
    }
    return fronts;
}


/// Local search from a feasible assignment: repeatedly applies the best move of one matrix to
/// a costlier-but-smaller or cheaper-but-larger configuration that fits in `left`, or the best
/// pair (one matrix down, another up) whose net saving is positive and which fits together,
/// until no move saves anything. Each pass is O(n log n) in the number of moves: up-moves sorted
/// by the storage they need, with the best and the best from another matrix among each prefix.
void improveByExchanges(const std::vector<std::vector<Candidate>>& fronts, std::vector<int>& position,
                        double& left)
{
    struct Move {
        double storage; ///< storage added (up) or freed (down), > 0
        double cost;    ///< cost saved (up) or added (down), > 0
        size_t matrix;
        int to;
    };
    for (int pass = 0; pass < 100000; ++pass) {
        std::vector<Move> up, down;
        for (size_t m = 0; m < fronts.size(); ++m) {
            const auto& f = fronts[m];
            const Candidate& cur = f[position[m]];
            for (int j = 0; j < int(f.size()); ++j) {
                if (j > position[m])
                    up.push_back({f[j].storage - cur.storage, cur.cost - f[j].cost, m, j});
                else if (j < position[m])
                    down.push_back({cur.storage - f[j].storage, f[j].cost - cur.cost, m, j});
            }
        }
        std::sort(up.begin(), up.end(), [](const Move& a, const Move& b) { return a.storage < b.storage; });
        // prefix best and best from a different matrix
        std::vector<int> best(up.size(), -1), second(up.size(), -1);
        for (size_t i = 0; i < up.size(); ++i) {
            int b1 = i ? best[i - 1] : -1, b2 = i ? second[i - 1] : -1;
            const int c = int(i);
            if (b1 < 0 || up[size_t(c)].cost > up[size_t(b1)].cost) {
                if (b1 >= 0 && up[size_t(b1)].matrix != up[size_t(c)].matrix)
                    b2 = b1;
                else if (b2 >= 0 && up[size_t(b2)].matrix == up[size_t(c)].matrix)
                    b2 = -1;
                b1 = c;
            } else if (up[size_t(c)].matrix != up[size_t(b1)].matrix &&
                       (b2 < 0 || up[size_t(c)].cost > up[size_t(b2)].cost)) {
                b2 = c;
            }
            best[i] = b1;
            second[i] = b2;
        }
        // the best up-move needing at most `room`, not on matrix `exclude`
        auto bestUp = [&](double room, size_t exclude) -> int {
            auto it = std::upper_bound(up.begin(), up.end(), room,
                                       [](double r, const Move& mv) { return r < mv.storage; });
            if (it == up.begin())
                return -1;
            const size_t i = size_t(it - up.begin()) - 1;
            if (best[i] >= 0 && up[size_t(best[i])].matrix != exclude)
                return best[i];
            return second[i];
        };
        double bestSaving = 0;
        int bestUpMove = bestUp(left, fronts.size());
        int bestDownMove = -1;
        if (bestUpMove >= 0)
            bestSaving = up[size_t(bestUpMove)].cost;
        for (size_t d = 0; d < down.size(); ++d) {
            const int u = bestUp(left + down[d].storage, down[d].matrix);
            if (u >= 0 && up[size_t(u)].cost - down[d].cost > bestSaving) {
                bestSaving = up[size_t(u)].cost - down[d].cost;
                bestUpMove = u;
                bestDownMove = int(d);
            }
        }
        if (bestUpMove < 0 || !(bestSaving > 0))
            break;
        if (bestDownMove >= 0) {
            const Move& d = down[size_t(bestDownMove)];
            left += d.storage;
            position[d.matrix] = d.to;
        }
        const Move& u = up[size_t(bestUpMove)];
        left -= u.storage;
        position[u.matrix] = u.to;
    }
}

Greedy greedySolve(const std::vector<std::vector<Candidate>>& fronts, double budget)
{
    struct Upgrade {
        double efficiency;
        size_t matrix;
        int from, to;
    };
    std::vector<Upgrade> upgrades;
    Greedy g;
    g.position.assign(fronts.size(), 0);
    for (size_t m = 0; m < fronts.size(); ++m) {
        const auto& f = fronts[m];
        g.cost += f[0].cost;
        g.storage += f[0].storage;
        std::vector<int> hull; // lower convex hull of (storage, cost), indices into f
        auto eff = [&](int a, int b) { return (f[a].cost - f[b].cost) / (f[b].storage - f[a].storage); };
        for (int i = 0; i < int(f.size()); ++i) {
            while (hull.size() >= 2 && eff(hull[hull.size() - 2], hull.back()) <= eff(hull.back(), i))
                hull.pop_back();
            hull.push_back(i);
        }
        for (size_t h = 1; h < hull.size(); ++h)
            upgrades.push_back({eff(hull[h - 1], hull[h]), m, hull[h - 1], hull[h]});
    }
    std::stable_sort(upgrades.begin(), upgrades.end(),
                     [](const Upgrade& a, const Upgrade& b) { return a.efficiency > b.efficiency; });

    // LP relaxation
    double left = budget - g.storage;
    double lpCost = g.cost;
    g.lpBound = g.cost;
    bool fractional = false;
    for (const auto& u : upgrades) {
        const auto& f = fronts[u.matrix];
        const double ds = f[u.to].storage - f[u.from].storage;
        const double dc = f[u.to].cost - f[u.from].cost;
        if (ds <= left) {
            left -= ds;
            lpCost += dc;
        } else {
            g.lpBound = lpCost + dc * (left / ds);
            g.lambda = u.efficiency;
            fractional = true;
            break;
        }
    }
    if (!fractional)
        g.lpBound = lpCost;

    // Integer greedy
    left = budget - g.storage;
    for (const auto& u : upgrades) {
        const auto& f = fronts[u.matrix];
        const double ds = f[u.to].storage - f[u.from].storage;
        if (g.position[u.matrix] == u.from && ds <= left) {
            left -= ds;
            g.position[u.matrix] = u.to;
        }
    }
    improveByExchanges(fronts, g.position, left);
    g.cost = 0;
    g.storage = 0;
    for (size_t m = 0; m < fronts.size(); ++m) {
        g.cost += fronts[m][g.position[m]].cost;
        g.storage += fronts[m][g.position[m]].storage;
    }
    g.lpBound = std::min(g.lpBound, g.cost);
    return g;
}

} // namespace

namespace detail {

void setChoice(MxqSolution& s, const Fronts& fronts, const std::vector<int>& position)
{
    s.choice.assign(fronts.size(), 0);
    s.objective = 0;
    s.storageBits = 0;
    for (size_t m = 0; m < fronts.size(); ++m) {
        const Candidate& c = fronts[m][position[m]];
        s.choice[m] = c.config;
        s.objective += c.cost;
        s.storageBits += c.storage;
    }
    s.bitsPerParameter = s.storageBits / double(s.parameters);
}

double relativeGap(double objective, double bound)
{
    const double d = std::max(0.0, objective - bound);
    const double gap = objective > 0 ? d / objective : (d > 0 ? 1.0 : 0.0);
    return gap < 1e-12 ? 0.0 : gap; // rounding noise of the bound
}


Fronts fixByReducedCosts(const Fronts& fronts, double budget, Greedy& greedy, int64_t& kept)
{
    const double lambda = greedy.lambda;
    std::vector<double> least(fronts.size());
    double bound = -lambda * budget;
    for (size_t m = 0; m < fronts.size(); ++m) {
        least[m] = std::numeric_limits<double>::infinity();
        for (const Candidate& c : fronts[m])
            least[m] = std::min(least[m], c.cost + lambda * c.storage);
        bound += least[m];
    }
    // A little slack for rounding: keeping a candidate too many is always safe.
    const double slack = std::max(0.0, greedy.cost - bound) + 1e-9 * std::abs(greedy.cost);
    Fronts out(fronts.size());
    kept = 0;
    for (size_t m = 0; m < fronts.size(); ++m) {
        int position = -1;
        for (size_t k = 0; k < fronts[m].size(); ++k) {
            const Candidate& c = fronts[m][k];
            const bool incumbent = int(k) == greedy.position[m];
            if (!incumbent && c.cost + lambda * c.storage - least[m] > slack)
                continue;
            if (incumbent)
                position = int(out[m].size());
            out[m].push_back(c);
        }
        greedy.position[m] = position;
        kept += int64_t(out[m].size());
    }
    return out;
}

#if !defined(MPQ_MIP_GLPK) && !defined(MPQ_MIP_CBC)
std::string mipSolverName()
{
    return {};
}

void mipSolve(MxqSolution&, const Fronts&, const Greedy&, const MxqSolveOptions&, const JobContext*)
{
    throw Error("no MIP solver in this build");
}
#endif

} // namespace detail

const char* mxqStatusName(MxqStatus s)
{
    switch (s) {
    case MxqStatus::Optimal: return "optimal";
    case MxqStatus::Feasible: return "feasible";
    case MxqStatus::Infeasible: return "infeasible";
    case MxqStatus::Error: return "error";
    }
    return "?";
}

double mxqMinimumBitsPerParameter(const MxqCostTable& table)
{
    table.validate("MXQ cost table");
    if (table.matrices.empty())
        throw Error("MXQ cost table: no matrices");
    double bits = 0;
    for (const auto& m : table.matrices)
        bits += *std::min_element(m.storageBits.begin(), m.storageBits.end());
    return bits / double(table.totalParameters());
}

MxqSolution solveMxq(const MxqCostTable& table, const MxqBudget& budget,
                     const MxqSolveOptions& options, JobContext* ctx)
{
    if (ctx)
        ctx->checkCancelled();
    const auto t0 = std::chrono::steady_clock::now();
    MxqSolution s;
    auto finish = [&]() -> MxqSolution {
        s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return s;
    };
    try {
        table.validate("MXQ cost table");
        if (table.matrices.empty())
            throw Error("MXQ cost table: no matrices to allocate");
    } catch (const Error& e) {
        s.message = e.what();
        return finish();
    }
    s.parameters = table.totalParameters();
    s.budgetBits = budget.toBits(s.parameters);
    s.budgetBitsPerParameter = s.budgetBits / double(s.parameters);
    double minimumBits = 0; // summed as the greedy start sums it, so that the two agree exactly
    for (const auto& m : table.matrices)
        minimumBits += *std::min_element(m.storageBits.begin(), m.storageBits.end());
    s.minimumBitsPerParameter = minimumBits / double(s.parameters);
    if (!(s.budgetBits > 0) || !std::isfinite(s.budgetBits)) {
        s.message = "the budget must be a positive number, got " + budget.describe();
        return finish();
    }
    if (s.budgetBits < minimumBits) {
        s.status = MxqStatus::Infeasible;
        s.message = "budget " + budget.describe() +
                    (budget.unit == MxqBudget::Unit::MiB
                         ? " (" + fmt(s.budgetBitsPerParameter) + " bits/parameter)" : std::string()) +
                    " is infeasible: even with every matrix at its smallest "
                    "configuration the " + std::to_string(table.matrices.size()) +
                    " matrices need " + fmt(s.minimumBitsPerParameter) + " bits/parameter (" +
                    fmt(minimumBits / kBitsPerMiB, 3) + " MiB); raise the budget to at least that";
        return finish();
    }

    if (const MxqProbedSelection* sel = table.selectionFor(s.budgetBits)) {
        // The "probed" kind decided this budget by measured calibration loss (docs/mxq.md): its
        // kept plan is the answer, not the optimum of the table's own (sensitivity) costs.
        const MxqProbedCandidate& kept = sel->kept();
        s.choice = kept.choice;
        for (size_t m = 0; m < table.matrices.size(); ++m) {
            s.objective += table.matrices[m].cost[size_t(kept.choice[m])];
            s.storageBits += table.matrices[m].storageBits[size_t(kept.choice[m])];
        }
        s.bitsPerParameter = s.storageBits / double(s.parameters);
        s.bound = s.objective;
        s.status = MxqStatus::Feasible;
        if (s.storageBits > s.budgetBits * (1.0 + 1e-9)) {
            s.status = MxqStatus::Error;
            s.message = "the probed plan " + kept.name + " exceeds the budget";
            s.choice.clear();
            return finish();
        }
        s.solver = "lowest calibration loss of " + std::to_string(sel->candidates.size()) + " plans: " + kept.name;
        s.message = "probed: " + std::to_string(table.matrices.size()) + " matrices at " + fmt(s.bitsPerParameter) +
                    " bits/parameter (budget " + fmt(s.budgetBitsPerParameter) + "); calibration NLL (nats/token, " +
                    "unquantized " + fmt(sel->baselineLoss, 6) + "):";
        for (size_t i = 0; i < sel->candidates.size(); ++i)
            s.message += std::string(i ? "," : "") + " " + sel->candidates[i].name + " " +
                         fmt(sel->candidates[i].loss, 6) +
                         (std::isfinite(sel->candidates[i].kl) ? " (KL " + fmt(sel->candidates[i].kl, 6) + ")" : "") +
                         (int(i) == sel->chosen ? " (kept)" : "");
        return finish();
    }

    const auto fronts = paretoFronts(table);
    const Greedy greedy = greedySolve(fronts, s.budgetBits);
    // The greedy solution is optimal (within the gap asked for) when it is that close to the LP
    // bound; then no branch and bound is needed.
    const bool greedyOptimal = detail::relativeGap(greedy.cost, greedy.lpBound) <= options.relativeGap;
    const std::string mip = detail::mipSolverName();
    if (mip.empty()) {
        s.solver = "greedy (no MIP solver in this build)";
    } else if (greedyOptimal) {
        s.solver = "greedy, proven by its LP bound";
    } else {
        int64_t candidates = 0, kept = 0;
        for (const auto& f : fronts)
            candidates += int64_t(f.size());
        Greedy start = greedy;
        const detail::Fronts reduced = detail::fixByReducedCosts(fronts, s.budgetBits, start, kept);
        s.solver = mip + " (" + std::to_string(kept) + " of " + std::to_string(candidates) +
                   " candidates left by reduced-cost fixing)";
        try {
            detail::mipSolve(s, reduced, start, options, ctx);
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            s.status = MxqStatus::Error;
            s.message = mip + " failed: " + e.what();
            return finish();
        } catch (...) { // CoinError does not derive from std::exception
            s.status = MxqStatus::Error;
            s.message = mip + " failed with an exception";
            return finish();
        }
        if (!s.hasSolution())
            return finish();
    }
    if (s.choice.empty()) {
        detail::setChoice(s, fronts, greedy.position);
        s.bound = std::min(s.objective, greedy.lpBound);
        s.gap = detail::relativeGap(s.objective, s.bound);
        s.status = greedyOptimal ? MxqStatus::Optimal : MxqStatus::Feasible;
    }
    if (s.storageBits > s.budgetBits * (1.0 + 1e-9)) {
        s.status = MxqStatus::Error;
        s.message = "the solver's assignment exceeds the budget (" + fmt(s.bitsPerParameter, 6) +
                    " > " + fmt(s.budgetBitsPerParameter, 6) + " bits/parameter)";
        s.choice.clear();
        return finish();
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string quality;
    if (s.status == MxqStatus::Feasible)
        quality = " (not proven optimal: gap " + fmt(100.0 * s.gap, 4) + " %)";
    else if (s.gap > 0)
        quality = " within " + fmt(100.0 * options.relativeGap, 4) + " % (gap " + fmt(100.0 * s.gap, 4) + " %)";
    s.message = std::string(mxqStatusName(s.status)) + quality + ": " +
                std::to_string(table.matrices.size()) + " matrices at " + fmt(s.bitsPerParameter) +
                " bits/parameter (budget " + fmt(s.budgetBitsPerParameter) + "), total cost " +
                fmt(s.objective, 6) + ", " + fmt(1000.0 * s.seconds, 1) + " ms (" + s.solver + ")";
    return finish();
}

AllocationPlan toPlan(const MxqCostTable& table, const MxqSolution& solution)
{
    if (solution.choice.size() != table.matrices.size())
        throw Error("MXQ: the solution (" + std::string(mxqStatusName(solution.status)) +
                    ") has no configuration for each of the " +
                    std::to_string(table.matrices.size()) + " matrices");
    AllocationPlan plan;
    plan.method = "mxq";
    for (size_t i = 0; i < table.matrices.size(); ++i) {
        const auto& m = table.matrices[i];
        const int k = solution.choice[i];
        if (k < 0 || size_t(k) >= table.configs.size())
            throw Error("MXQ: configuration index " + std::to_string(k) + " of " + m.tensor +
                        " is out of range");
        const MxqConfig& c = table.configs[size_t(k)];
        MatrixPlan p;
        p.tensor = m.tensor;
        p.layer = m.layer;
        p.linear = m.linear;
        p.rows = m.rows;
        p.cols = m.cols;
        p.columnBits.assign(size_t(m.cols), uint8_t(c.bits));
        p.groupSize = c.groupSize;
        p.quantizer = "hqq";
        p.predictedCost = m.cost[size_t(k)];
        p.storageBits = m.storageBits[size_t(k)];
        plan.matrices.push_back(std::move(p));
    }
    plan.validate("MXQ plan");
    return plan;
}

} // namespace mpq
