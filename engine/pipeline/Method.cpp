#include "pipeline/Method.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace mpq {

namespace {

struct MethodRow {
    Method method;
    const char* name;
};
// The one list of methods and their names.
constexpr MethodRow kMethods[] = {
    {Method::Rtn, "rtn"},   {Method::Gptq, "gptq"}, {Method::Hqq, "hqq"},          {Method::Mgptq, "mgptq"},
    {Method::Mxq, "mxq"},   {Method::Gguf, "gguf"}, {Method::GgufMxq, "gguf-mxq"},
};

std::string knownMethods()
{
    std::string s;
    for (size_t i = 0; i < std::size(kMethods); ++i)
        s += std::string(i == 0 ? "" : i + 1 == std::size(kMethods) ? " or " : ", ") + kMethods[i].name;
    return s;
}

} // namespace

const char* methodName(Method m)
{
    for (const MethodRow& r : kMethods)
        if (r.method == m)
            return r.name;
    return "?";
}

Method parseMethod(const std::string& name)
{
    for (const MethodRow& r : kMethods)
        if (name == r.name)
            return r.method;
    throw Error("unknown method \"" + name + "\" (" + knownMethods() + ")");
}

bool isUniformMethod(Method m) { return m == Method::Rtn || m == Method::Gptq || m == Method::Hqq; }

const char* columnAllocatorName(ColumnAllocatorKind k)
{
    switch (k) {
    case ColumnAllocatorKind::MgptqGcn:
        return "mgptq-gcn";
    case ColumnAllocatorKind::MgptqMlp:
        return "mgptq-mlp";
    case ColumnAllocatorKind::HessianGreedy:
        return "hessian-greedy";
    }
    return "?";
}

ColumnAllocatorKind columnAllocatorFor(const MgptqOptions& o)
{
    if (o.model == "gcn")
        return ColumnAllocatorKind::MgptqGcn;
    if (o.model == "mlp")
        return ColumnAllocatorKind::MgptqMlp;
    if (o.model == "hessian-greedy")
        return ColumnAllocatorKind::HessianGreedy;
    throw Error("unknown MG-PTQ model \"" + o.model + "\" (gcn, mlp or hessian-greedy)");
}

std::optional<ColumnAllocatorKind> parseColumnAllocator(const std::string& name, const MgptqOptions& o)
{
    if (name.empty())
        return std::nullopt;
    if (name == "mgptq") // the model named in the options
        return columnAllocatorFor(o);
    for (ColumnAllocatorKind k :
         {ColumnAllocatorKind::MgptqGcn, ColumnAllocatorKind::MgptqMlp, ColumnAllocatorKind::HessianGreedy})
        if (name == columnAllocatorName(k))
            return k;
    throw Error("unknown column allocator \"" + name + "\" (expected mgptq-gcn, mgptq-mlp or hessian-greedy)");
}

const char* sweepAxisName(SweepAxis a)
{
    switch (a) {
    case SweepAxis::Bits:
        return "bits";
    case SweepAxis::Alpha:
        return "alpha";
    case SweepAxis::TargetBits:
        return "target-bits";
    case SweepAxis::Budget:
        return "budget";
    }
    return "?";
}

SweepAxis parseSweepAxis(const std::string& name)
{
    for (SweepAxis a : {SweepAxis::Bits, SweepAxis::Alpha, SweepAxis::TargetBits, SweepAxis::Budget})
        if (name == sweepAxisName(a))
            return a;
    throw Error("unknown sweep axis \"" + name + "\" (bits, alpha, target-bits or budget)");
}

SweepAxis sweepAxisOf(const MethodSpec& spec)
{
    if (isUniformMethod(spec.method))
        return SweepAxis::Bits;
    if (spec.method == Method::Mgptq)
        return spec.mgptq.alpha ? SweepAxis::Alpha : SweepAxis::TargetBits;
    if (spec.method == Method::Mxq)
        return SweepAxis::Budget;
    throw Error(std::string("the method ") + methodName(spec.method) + " has no sweep axis");
}

MethodSpec withAxisValue(MethodSpec spec, SweepAxis axis, double value)
{
    switch (axis) {
    case SweepAxis::Bits:
        spec.bits = int(value);
        break;
    case SweepAxis::Alpha:
        spec.mgptq.alpha = value;
        spec.mgptq.targetBits.reset();
        break;
    case SweepAxis::TargetBits:
        spec.mgptq.targetBits = value;
        spec.mgptq.alpha.reset();
        break;
    case SweepAxis::Budget:
        spec.budget = MxqBudget::bitsPerParameter(value);
        break;
    }
    return spec;
}

MxqCostParams mxqCostParams(const QuantizeParams& p, std::vector<MxqConfig> configs, int64_t windows,
                            int64_t seqlen)
{
    MxqCostParams cp;
    cp.model = p.model;
    cp.tokenizer = p.tokenizer;
    cp.device = p.device;
    cp.batchSize = p.batchSize;
    cp.configs = std::move(configs);
    cp.calibration.source = p.calib;
    cp.calibration.nsamples = windows;
    cp.calibration.seqlen = seqlen;
    cp.calibration.seed = p.seed;
    cp.calibration.dataDir = p.dataDir;
    cp.calibration.tokensFile = p.calibTokens;
    return cp;
}

SolverRecord mxqSolverRecord(const MxqSolution& s, const MxqBudget& budget)
{
    SolverRecord r;
    r.status = mxqStatusName(s.status);
    r.solver = s.solver;
    r.message = s.message;
    r.budget = budget;
    r.objective = s.objective;
    r.gap = s.gap;
    r.bitsPerParameter = s.bitsPerParameter;
    r.solveSeconds = s.seconds;
    return r;
}

ResolvedMethod resolveMethod(const MethodSpec& spec, QuantizeParams& p, const MxqCostTable* mxqCosts, JobContext* ctx,
                             const std::function<void(const MxqSolution&)>& mxqSolved)
{
    ResolvedMethod out;
    switch (spec.method) {
    case Method::Rtn:
    case Method::Gptq:
    case Method::Hqq:
        p.method = methodName(spec.method);
        p.bits = spec.bits;
        return out;
    case Method::Mgptq: {
        if (spec.mgptq.alpha.has_value() == spec.mgptq.targetBits.has_value())
            throw Error("mgptq needs exactly one of alpha and target bits");
        if (spec.mgptq.bitsSet.empty())
            throw Error("mgptq needs at least one candidate bit-width");
        p.mgptq = spec.mgptq;
        p.mgptq.dampPercent = p.dampPercent; // the adjacency's factor is GPTQ's, with GPTQ's damping
        p.allocator = columnAllocatorName(columnAllocatorFor(spec.mgptq));
        p.method = "gptq";
        // The base plan; the allocator replaces every column's width.
        p.bits = std::max(1, *std::max_element(spec.mgptq.bitsSet.begin(), spec.mgptq.bitsSet.end()));
        return out;
    }
    case Method::Mxq: {
        if (!mxqCosts)
            throw Error("mxq needs its cost table");
        const MxqSolution s = solveMxq(*mxqCosts, spec.budget, {}, ctx);
        out.mxq = s;
        if (mxqSolved)
            mxqSolved(s);
        if (!s.hasSolution())
            throw Error("mxq: " + s.message);
        p.plan = toPlan(*mxqCosts, s);
        p.method = "hqq";
        p.solver = mxqSolverRecord(s, spec.budget);
        p.solver.costKind = mxqCosts->costKind;
        p.solver.costChoice = mxqCosts->costChoice;
        p.solver.costSeconds = mxqCosts->seconds;
        return out;
    }
    case Method::Gguf:
    case Method::GgufMxq:
        break;
    }
    throw Error(std::string("the method ") + methodName(spec.method) +
                " is resolved from llama.cpp's measured type table, not here");
}

} // namespace mpq
