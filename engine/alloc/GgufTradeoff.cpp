#include "alloc/GgufTradeoff.h"

#include "core/Error.h"
#include "core/SettingError.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mpq {

using ggml::Type;

namespace {

/// Index of `t` in the table's types, or -1.
int typeIndex(const GgufCostTable& table, Type t)
{
    for (size_t k = 0; k < table.types.size(); ++k)
        if (table.types[k] == t)
            return int(k);
    return -1;
}

} // namespace

GgufTradeoffPoint ggufScorePlan(const GgufCostTable& table, const AllocationPlan& plan)
{
    GgufTradeoffPoint pt;
    double bits = 0, weights = 0, cost = 0;
    bool known = true;
    for (const auto& m : table.matrices) {
        const MatrixPlan* mp = plan.find(m.tensor);
        const Type t = mp ? ggmlSpecOf(*mp).type : Type::F16; // the plans leave F16 matrices out
        bits += ggufStorageBits(m.rows, m.cols, t);
        weights += double(m.rows * m.cols);
        const int k = typeIndex(table, t);
        const double c = k >= 0 ? m.cost[size_t(k)] : -1;
        if (c < 0)
            known = false;
        else
            cost += c;
        ++pt.typeCounts[ggml::typeName(t)];
    }
    pt.bitsPerWeight = weights > 0 ? bits / weights : 0;
    pt.cost = known ? cost : -1;
    return pt;
}

std::vector<double> ggufTradeoffBudgets(const GgufCostTable& table, int points)
{
    if (table.matrices.empty() || table.types.empty())
        throw Error("GGUF trade-off: the cost table is empty");
    double lo = 0, hi = 0, weights = 0;
    for (const auto& m : table.matrices) {
        double smallest = -1, largest = -1, f16 = -1;
        for (size_t k = 0; k < table.types.size(); ++k) {
            if (m.cost[k] < 0)
                continue;
            const double s = ggufStorageBits(m.rows, m.cols, table.types[k]);
            smallest = smallest < 0 ? s : std::min(smallest, s);
            if (table.types[k] == Type::F16 || table.types[k] == Type::F32)
                f16 = s;
            else
                largest = std::max(largest, s);
        }
        if (smallest < 0)
            throw Error("GGUF trade-off: no candidate type fits " + m.tensor);
        lo += smallest;
        hi += largest >= 0 ? largest : f16;
        weights += double(m.rows * m.cols);
    }
    lo /= weights;
    hi /= weights;
    std::vector<double> budgets;
    points = std::max(points, 2);
    for (int i = 0; i < points; ++i)
        budgets.push_back(lo + (hi - lo) * double(i) / double(points - 1));
    // Round up in the 4th decimal (a budget is "at most"): the smallest one stays feasible.
    for (double& b : budgets)
        b = std::ceil(b * 1e4 - 1e-6) / 1e4;
    return budgets;
}

GgufTradeoff ggufTradeoff(const GgufCostTable& table, const std::vector<double>& budgets,
                          const MxqSolveOptions& options, JobContext* ctx)
{
    if (table.matrices.empty() || table.types.empty())
        throw Error("GGUF trade-off: the cost table is empty");
    for (const auto& m : table.matrices)
        if (std::none_of(m.cost.begin(), m.cost.end(), [](double c) { return c >= 0; }))
            throw SettingError("ggufCosts", "GGUF trade-off: the cost table has no costs for " + m.tensor +
                                            " (a table measured for gguf-mxq has them; the presets' table has none)");
    GgufTradeoff out;
    out.model = table.model;
    out.costKind = table.costKind;
    std::vector<double> sorted = budgets;
    std::sort(sorted.begin(), sorted.end());
    char name[64];
    for (double b : sorted) {
        if (ctx)
            ctx->checkCancelled();
        std::snprintf(name, sizeof name, "MIP %.2f", b);
        MxqSolution s;
        try {
            const AllocationPlan plan = ggufMixPlan(table, MxqBudget::bitsPerParameter(b), options, ctx, &s);
            GgufTradeoffPoint pt = ggufScorePlan(table, plan);
            pt.name = name;
            pt.budget = b;
            pt.status = mxqStatusName(s.status);
            out.mixes.push_back(std::move(pt));
        } catch (const Cancelled&) {
            throw;
        } catch (const Error& e) {
            out.skipped.push_back(std::string(name) + ": " + e.what());
        }
    }
    for (const std::string& preset : ggufPresetNames()) {
        if (ctx)
            ctx->checkCancelled();
        GgufTradeoffPoint pt = ggufScorePlan(table, ggufPresetPlan(table, preset));
        pt.name = preset;
        pt.preset = true;
        if (pt.cost < 0) {
            out.skipped.push_back(preset + ": uses a type the cost table did not measure");
            continue;
        }
        out.presets.push_back(std::move(pt));
    }
    return out;
}

} // namespace mpq
