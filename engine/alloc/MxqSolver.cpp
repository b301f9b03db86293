#include "alloc/MxqSolver.h"

#include "core/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>

#ifdef MPQ_HAVE_CBC
#include <CbcConfig.h>
#include <CbcEventHandler.hpp>
#include <CbcModel.hpp>
#include <CbcSolver.hpp>
#include <CoinMessageHandler.hpp>
#include <OsiClpSolverInterface.hpp>
#endif

namespace mpq {

namespace {

constexpr double kBitsPerMiB = 8.0 * 1024.0 * 1024.0;

std::string fmt(double v, int digits = 4)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

/// A configuration of one matrix that is not dominated by another.
struct Candidate {
    int config = 0;
    double cost = 0;
    double storage = 0;
};

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

/// The greedy solution of the multiple-choice knapsack and its LP relaxation bound (Sinha &
/// Zemel): upgrades along each matrix's lower convex hull, taken by decreasing cost saved per
/// bit; the first one that does not fit is taken fractionally by the LP. The integer solution
/// skips it and is then improved by single and pairwise exchanges.
struct Greedy {
    std::vector<int> position; ///< per matrix, index into its front
    double cost = 0;
    double storage = 0;
    double lpBound = 0;
};

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

/// Fills choice, objective, storage and the achieved bits from positions on the fronts.
void setChoice(MxqSolution& s, const std::vector<std::vector<Candidate>>& fronts,
               const std::vector<int>& position)
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

#ifdef MPQ_HAVE_CBC
/// Stops the branch and bound at its next event once the job is cancelled.
class CancelHandler : public CbcEventHandler {
public:
    explicit CancelHandler(const JobContext* ctx) : m_ctx(ctx) {}
    CbcAction event(CbcEvent) override
    {
        return m_ctx && m_ctx->isCancelled() ? stop : noAction;
    }
    CbcEventHandler* clone() const override { return new CancelHandler(*this); }

private:
    const JobContext* m_ctx;
};

/// CBC's solver driver (CbcMain0/CbcMain1) keeps static state: one solve at a time per process.
std::mutex& cbcMutex()
{
    static std::mutex m;
    return m;
}

/// Branch and cut over the fronts with CBC's standard driver (presolve, cuts, heuristics: the
/// `cbc` program's defaults), from the greedy incumbent. Columns are (matrix, candidate) in order.
/// The knapsack row is scaled to a right-hand side of 1, the objective to 10⁶ at the incumbent:
/// CBC's absolute tolerances (about 10⁻⁶ on the objective) then resolve 10⁻¹² of it. At an
/// objective near 1, CBC proved "optimal" assignments that were 2·10⁻⁶ worse than the optimum.
void cbcSolve(MxqSolution& s, const std::vector<std::vector<Candidate>>& fronts,
              const Greedy& greedy, const MxqSolveOptions& opt, const JobContext* ctx)
{
    const Greedy* start = opt.greedyStart ? &greedy : nullptr;
    const int rows = int(fronts.size()) + 1;
    const int knapsack = int(fronts.size());
    double costScale = greedy.cost;
    costScale = costScale > 0 ? costScale / 1e6 : 1.0;
    std::vector<int> colStart{0}, rowIndex;
    std::vector<double> value, obj, lower, upper;
    std::vector<int> firstColumn;
    for (size_t m = 0; m < fronts.size(); ++m) {
        firstColumn.push_back(int(obj.size()));
        for (const auto& c : fronts[m]) {
            rowIndex.push_back(int(m));
            value.push_back(1.0);
            rowIndex.push_back(knapsack);
            value.push_back(c.storage / s.budgetBits);
            colStart.push_back(int(rowIndex.size()));
            obj.push_back(c.cost / costScale);
            lower.push_back(0.0);
            upper.push_back(1.0);
        }
    }
    const int cols = int(obj.size());
    std::vector<double> rowLower(size_t(rows), 1.0), rowUpper(size_t(rows), 1.0);
    rowLower[size_t(knapsack)] = -std::numeric_limits<double>::max();

    OsiClpSolverInterface lp;
    lp.messageHandler()->setLogLevel(0);
    lp.setHintParam(OsiDoReducePrint, true, OsiHintTry);
    lp.loadProblem(cols, rows, colStart.data(), rowIndex.data(), value.data(), lower.data(),
                   upper.data(), obj.data(), rowLower.data(), rowUpper.data());
    for (int j = 0; j < cols; ++j)
        lp.setInteger(j);

    std::lock_guard<std::mutex> lock(cbcMutex());
    CbcModel model(lp);
    model.setLogLevel(0);
    model.messageHandler()->setLogLevel(0);
    CancelHandler cancel(ctx);
    model.passInEventHandler(&cancel);
    if (start) {
        std::vector<double> x(size_t(cols), 0.0);
        double o = 0;
        for (size_t m = 0; m < fronts.size(); ++m) {
            x[size_t(firstColumn[m] + start->position[m])] = 1.0;
            o += fronts[m][start->position[m]].cost / costScale;
        }
        model.setBestSolution(x.data(), cols, o, true);
    }
    CbcSolverUsefulData data;
    CbcMain0(model, data);
    char seconds[32], gap[32];
    std::snprintf(seconds, sizeof seconds, "%.6g", std::max(0.01, opt.timeLimitSeconds));
    std::snprintf(gap, sizeof gap, "%.6g", std::max(0.0, opt.relativeGap));
    const char* argv[] = {"mpq-mxq", "-log", "0", "-timeMode", "elapsed", "-seconds", seconds,
                          "-ratioGap", gap, "-allowableGap", "1e-9", "-increment", "1e-9",
                          "-solve", "-quit"};
    CbcMain1(int(sizeof argv / sizeof argv[0]), argv, model, nullptr, data);
    s.nodes = model.getNodeCount();

    if (ctx && ctx->isCancelled())
        throw Cancelled();
    const double* best = model.bestSolution();
    if (!best) {
        s.status = model.isProvenInfeasible() ? MxqStatus::Infeasible : MxqStatus::Error;
        s.message = model.isProvenInfeasible()
                        ? "CBC proved the budget infeasible"
                        : "CBC found no solution (status " + std::to_string(model.status()) +
                              ", secondary " + std::to_string(model.secondaryStatus()) + ")";
        return;
    }
    std::vector<int> position(fronts.size(), 0);
    for (size_t m = 0; m < fronts.size(); ++m) {
        int arg = 0;
        for (int k = 1; k < int(fronts[m].size()); ++k)
            if (best[firstColumn[m] + k] > best[firstColumn[m] + arg])
                arg = k;
        position[m] = arg;
    }
    setChoice(s, fronts, position);
    s.status = model.isProvenOptimal() ? MxqStatus::Optimal : MxqStatus::Feasible;
    // After CbcMain1, getBestPossibleObjValue() can be a stale root bound (seen: 1 % below an
    // optimum proven at the root). A proof of optimality bounds the objective within the gaps
    // asked for; otherwise the better of CBC's bound and the LP bound of the greedy stage holds.
    double bound = model.getBestPossibleObjValue() * costScale;
    if (!std::isfinite(bound))
        bound = -std::numeric_limits<double>::infinity();
    bound = std::max(bound, greedy.lpBound);
    if (s.status == MxqStatus::Optimal)
        bound = std::max(bound, s.objective - std::max(opt.relativeGap * s.objective, 1e-9 * costScale));
    s.bound = std::min(s.objective, bound);
    s.gap = relativeGap(s.objective, s.bound);
}
#endif

} // namespace

double MxqBudget::toBits(int64_t parameters) const
{
    return unit == Unit::MiB ? value * kBitsPerMiB : value * double(parameters);
}

std::string MxqBudget::describe() const
{
    return unit == Unit::MiB ? fmt(value, 3) + " MiB" : fmt(value, 4) + " bits/parameter";
}

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

    const auto fronts = paretoFronts(table);
    const Greedy greedy = greedySolve(fronts, s.budgetBits);
    // The greedy solution is optimal (within the gap asked for) when it is that close to the LP
    // bound; then no branch and bound is needed.
    const bool greedyOptimal = relativeGap(greedy.cost, greedy.lpBound) <= options.relativeGap;
#ifdef MPQ_HAVE_CBC
    s.solver = std::string("CBC ") + CBC_VERSION;
    if (!greedyOptimal) {
        try {
            cbcSolve(s, fronts, greedy, options, ctx);
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            s.status = MxqStatus::Error;
            s.message = std::string("CBC failed: ") + e.what();
            return finish();
        } catch (...) { // CoinError does not derive from std::exception
            s.status = MxqStatus::Error;
            s.message = "CBC failed with an exception";
            return finish();
        }
        if (!s.hasSolution())
            return finish();
    } else {
        s.solver = "greedy, proven by its LP bound";
    }
#else
    s.solver = "greedy (no MIP solver in this build)";
#endif
    if (s.choice.empty()) {
        setChoice(s, fronts, greedy.position);
        s.bound = std::min(s.objective, greedy.lpBound);
        s.gap = relativeGap(s.objective, s.bound);
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
