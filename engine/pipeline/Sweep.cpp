#include "pipeline/Sweep.h"

#include "core/Error.h"
#include "session/EvaluationRecord.h"
#include "session/Session.h"

namespace mpq {

namespace {

// One quantization of point `i` (of one seed) and its evaluations.
SweepRun runOne(const SweepParams& sp, const SweepHooks& hooks, size_t i, const std::optional<uint64_t>& seed,
                const MxqCostTable*& costs, JobContext& ctx)
{
    ctx.checkCancelled();
    SweepRun run;
    run.index = i;
    run.value = sp.values[i];
    run.seed = seed;
    MethodSpec spec = withAxisValue(sp.method, sp.axis, run.value);
    if (seed)
        spec.mgptq.seed = *seed;
    run.params = sp.base;
    hooks.prepare(i, seed, run.params);
    if (spec.method == Method::Mxq && !costs) {
        if (!hooks.mxqCosts)
            throw Error("mxq sweeps need a cost table");
        costs = &hooks.mxqCosts(run.params);
    }
    if ((spec.method == Method::Gguf || spec.method == Method::GgufMxq) && hooks.resolveOther)
        hooks.resolveOther(spec, run.params);
    else
        run.resolved = resolveMethod(spec, run.params, costs, &ctx, [&](const MxqSolution& s) {
            if (hooks.mxqSolved)
                hooks.mxqSolved(s, spec.budget);
        });
    if (hooks.quantizing)
        hooks.quantizing(run);
    run.report = quantizeModel(run.params, ctx);
    if (hooks.quantized)
        hooks.quantized(run);
    for (const std::string& ds : sp.evalDatasets) {
        ctx.checkCancelled();
        EvalParams e = sp.eval;
        e.model = run.report.outDir.empty() ? run.report.sessionRun : run.report.outDir;
        e.tokenizer = run.params.tokenizer;
        e.dataset = ds;
        e.device = run.params.device;
        e.dataDir = run.params.dataDir;
        const EvalResult r = evaluatePerplexity(e, ctx);
        if (!sp.session.empty())
            session::addEvaluation(sp.session, session::evaluationRecord(run.params.runName, run.report.sessionRun, r));
        run.evaluations.emplace_back(ds, r);
        if (hooks.evaluated)
            hooks.evaluated(run, r);
    }
    if (hooks.runDone)
        hooks.runDone(run);
    return run;
}

} // namespace

void runSweep(const SweepParams& sp, const SweepHooks& hooks, JobContext& ctx)
{
    if (!hooks.prepare)
        throw Error("a sweep needs a prepare hook that names its runs");
    if (!sp.seeds.empty() && sp.method.method != Method::Mgptq)
        throw Error("allocator seeds need the mgptq method");
    session::Sweep table;
    table.name = sp.sweepName;
    table.method = methodName(sp.method.method);
    table.axis = sweepAxisName(sp.axis);
    table.model = sp.sweepModel.empty() ? sp.base.model : sp.sweepModel;
    const MxqCostTable* costs = nullptr;
    for (size_t i = 0; i < sp.values.size(); ++i) {
        std::vector<SweepRun> runs;
        if (sp.seeds.empty())
            runs.push_back(runOne(sp, hooks, i, std::nullopt, costs, ctx));
        else
            for (uint64_t seed : sp.seeds)
                runs.push_back(runOne(sp, hooks, i, seed, costs, ctx));
        // The session's sweep table: one row per point (a seeded point is not stored in a session).
        if (!sp.session.empty() && !sp.sweepName.empty() && runs.size() == 1) {
            const SweepRun& r = runs.front();
            session::SweepPoint p;
            p.value = r.value;
            p.run = r.params.runName;
            p.avgBits = r.report.avgBits;
            p.avgBitsWithOverhead = r.report.avgBitsWithOverhead;
            for (const auto& [ds, e] : r.evaluations)
                p.perplexity.emplace_back(ds, e.perplexity);
            table.points.push_back(p);
            session::saveSweep(sp.session, table);
        }
        if (hooks.pointDone)
            hooks.pointDone(i, runs);
    }
}

} // namespace mpq
