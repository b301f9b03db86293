// MXQ's mixed integer program with COIN-OR CBC (optional back end: EPL-1.0, see docs/mxq.md).
#include "alloc/mxq/detail/MxqSearch.h"

#ifdef MPQ_MIP_CBC
#include "core/Error.h"

#include <CbcConfig.h>
#include <CbcEventHandler.hpp>
#include <CbcModel.hpp>
#include <CbcSolver.hpp>
#include <CoinMessageHandler.hpp>
#include <OsiClpSolverInterface.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>

namespace mpq::detail {

namespace {

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
void cbcSolve(MxqSolution& s, const Fronts& fronts, const Greedy& greedy, const MxqSolveOptions& opt,
              const JobContext* ctx)
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

} // namespace

std::string mipSolverName()
{
    return std::string("CBC ") + CBC_VERSION;
}

void mipSolve(MxqSolution& s, const Fronts& fronts, const Greedy& greedy, const MxqSolveOptions& opt,
              const JobContext* ctx)
{
    cbcSolve(s, fronts, greedy, opt, ctx);
}

} // namespace mpq::detail
#endif
