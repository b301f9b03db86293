#include "MemoryOptions.h"
#include "AllocatorOptions.h"
#include "GgufOptions.h"
#include "Args.h"
#include "Demo.h"
#include "Commands.h"
#include "Terminal.h"
#include "SettingFlags.h"
#include "Validate.h"

#include "core/Files.h"
#include "core/SettingError.h"
#include "eval/Perplexity.h"
#include "pipeline/QuantizeJob.h"
#include "pipeline/SeedStatistics.h"
#include "pipeline/Sweep.h"
#include "session/Session.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <map>
#include <optional>

namespace mpq::cli {

void addQuantizeOptions(Args& args);
QuantizeParams quantizeParamsFrom(const Args& args);
void checkQuantizeInputs(const Args& args, const QuantizeParams& p, const std::string& method);

int runSweep(const std::vector<std::string>& argv)
{
    Args args("sweep",
              "Quantizes a model at several points of a trade-off and evaluates each: mgptq over --alpha\n"
              "or --target-bits values, mxq over --budget values (the cost table is computed once), and\n"
              "rtn/gptq/hqq over --bits values. Per point: average bits (code, and with scales/zeros)\n"
              "and WikiText-2/C4 perplexity. The curve is saved as OUT/sweep.json, each point's result\n"
              "as OUT/point-NN; with --session, each point is a run of the session (NAME-NN), the curve a\n"
              "sweep table, the evaluations and MXQ's cost table are stored there too. mgptq with --seeds:\n"
              "every point is run once per allocator seed (OUT/point-NN-sS) and reported as mean ± sd.");
    args.positional("MODEL", "Hugging Face folder or llama2.c .bin checkpoint");
    addQuantizeOptions(args);
    args.option("eval-datasets", "LIST", "data sets evaluated at every point", "wikitext2,c4");
    args.option("eval-seqlen", "L", "evaluation window (default: the calibration --seqlen)");
    args.option("eval-dtype", "T", "evaluation precision (default fp16 on CUDA, fp32 on CPU)");
    args.option("eval-max-windows", "N", "evaluate only the first N windows of each set (0 = all)", "0");
    args.option("out", "DIR", "folder for the sweep (this, --session, or both)");
    args.option("session", "FILE", "HDF5 session to store the sweep in (created when absent)");
    args.option("name", "NAME", "the sweep's name in the session (default: sweep-<n>)");
    args.option("seeds", "LIST", "mgptq: allocator seeds (e.g. 0,1,2,3,4 or 0-4); each point is quantized and "
                                 "evaluated once per seed and reported as mean ± sample sd (--out only)");
    args.flag("json", "print the sweep as one JSON object on stdout");
    addDemoFlag(args, DemoUse::Sweep);
    if (!args.parse(argv))
        return 0;
    if (!args.has("out") && !args.has("session"))
        throw UsageError("--out DIR or --session FILE is required (see 'mpq sweep --help')");
    applyDemo(args, DemoUse::Sweep);
    const std::string sessionFile = args.get("session");
    std::string sweepName = args.get("name");
    if (!sessionFile.empty()) {
        std::vector<std::string> taken;
        if (files::exists(sessionFile)) {
            const session::Session s = session::Session::open(sessionFile);
            for (const auto& sw : s.sweeps())
                taken.push_back(sw.name);
            for (const auto& r : s.runs())
                taken.push_back(r.name.substr(0, r.name.rfind('-')));
        }
        if (sweepName.empty())
            for (int k = 1; sweepName.empty() || std::count(taken.begin(), taken.end(), sweepName); ++k)
                sweepName = "sweep-" + std::to_string(k);
        else if (std::count(taken.begin(), taken.end(), sweepName))
            throw UsageError(sessionFile + " already has a sweep (or runs) named " + sweepName + "; choose another --name");
        session::checkRunName(sweepName + "-00");
    }

    const std::string method = args.get("method");
    std::string axis;
    if (method == "mgptq")
        axis = args.has("alpha") ? "alpha" : "target-bits";
    else if (method == "mxq")
        axis = "budget";
    else
        axis = "bits";
    if (method == "mgptq" && args.has("alpha") == args.has("target-bits"))
        throw UsageError("mgptq sweeps need exactly one of --alpha LIST and --target-bits LIST");
    if (method == "mxq" && !args.has("budget"))
        throw UsageError("mxq sweeps need --budget LIST (bits per parameter)");
    const std::vector<std::string> points = args.getList(axis);
    if (points.empty())
        throw UsageError("--" + axis + " needs at least one value");
    std::vector<uint64_t> seeds;
    if (args.has("seeds")) {
        if (method != "mgptq" || args.get("gnn") == "hessian-greedy")
            throw UsageError("--seeds needs a learned allocator: --method mgptq with --gnn gcn or mlp");
        if (args.has("alloc-seed"))
            throw UsageError("give either --seeds or --alloc-seed, not both");
        if (!sessionFile.empty())
            throw UsageError("--seeds writes its runs to --out only; drop --session");
        try {
            seeds = parseSeedList(args.get("seeds"));
        } catch (const SettingError& e) {
            throw UsageError(e.what() + flagsSuffix(e));
        }
    }

    // Everything is checked before the first point is quantized: each point's value, every
    // setting, the model's headers, the calibration text and every evaluation set.
    checkAllocatorOptions(args, method, axis);
    Args check = args;
    for (const std::string& point : points) {
        check.set(axis, point);
        if (axis == "bits")
            intIn(check, axis, 1, 8);
        else if (axis == "budget")
            numberIn(check, axis, 0, 64, true);
        else if (axis == "alpha")
            numberIn(check, axis, 0, 1e6);
        else
            numberIn(check, axis, 1, 8);
    }
    check.set(axis, points.front());
    {
        QuantizeParams first = quantizeParamsFrom(check);
        checkQuantizeInputs(check, first, method);
        const std::vector<std::string> evalSets = args.getList("eval-datasets");
        for (const std::string& ds : evalSets)
            checkEvalDataset(ds, first.dataDir, "--eval-datasets");
        if (args.has("eval-seqlen"))
            intIn(args, "eval-seqlen", 1, 1 << 20);
        if (args.has("eval-dtype"))
            parseDTypeOption(args.get("eval-dtype"));
        intIn(args, "eval-max-windows", 0, INT64_MAX);
    }

    JobContext ctx;
    attachToTerminal(ctx);
    const std::string outDir = args.has("out") ? files::absolute(args.get("out")) : std::string();
    if (!outDir.empty())
        std::filesystem::create_directories(outDir);
    MxqCostCache costs;
    Args pointArgs = args;
    if (method == "mxq" && !args.has("costs") && !outDir.empty())
        pointArgs.set("costs", files::join(outDir, "mxq-costs.json"));
    std::FILE* log = args.has("json") ? nullptr : stderr;

    // The loop is the engine's (pipeline/Sweep.h); here: the CLI's names, log and JSON.
    SweepParams sp;
    sp.base = quantizeParamsFrom(check);
    sp.method = methodSpecFrom(check, cliMethod(method));
    sp.axis = parseSweepAxis(axis);
    for (const std::string& v : points)
        sp.values.push_back(std::stod(v));
    sp.seeds = seeds;
    sp.eval.seqlen = args.has("eval-seqlen") ? args.getInt("eval-seqlen") : sp.base.seqlen;
    sp.eval.dtype = args.has("eval-dtype") ? parseDTypeOption(args.get("eval-dtype"))
                                           : (sp.base.device == "cpu" ? DType::F32 : DType::F16);
    sp.eval.budget = sp.base.budget;
    sp.eval.maxWindows = args.getInt("eval-max-windows");
    sp.evalDatasets = args.getList("eval-datasets");
    sp.session = sessionFile;
    sp.sweepName = sweepName;
    sp.sweepModel = files::absolute(args.get("MODEL"));
    bool costsStored = false;

    nlohmann::json sweep = {{"model", files::absolute(args.get("MODEL"))}, {"method", method}, {"axis", axis}};
    sweep["points"] = nlohmann::json::array();
    if (args.getInt("eval-max-windows") > 0)
        sweep["eval_max_windows"] = args.getInt("eval-max-windows");
    // Each run's JSON (with --seeds, one per seed of the point).
    nlohmann::json seedRuns = nlohmann::json::array();

    SweepHooks hooks;
    hooks.prepare = [&](size_t i, const std::optional<uint64_t>& seed, QuantizeParams& p) {
        char name[48];
        if (seed)
            std::snprintf(name, sizeof name, "point-%02zu-s%llu", i, static_cast<unsigned long long>(*seed));
        else
            std::snprintf(name, sizeof name, "point-%02zu", i);
        p.out = outDir.empty() ? std::string() : files::join(outDir, name);
        if (!sessionFile.empty()) {
            char suffix[16];
            std::snprintf(suffix, sizeof suffix, "-%02zu", i);
            p.session = sessionFile;
            p.runName = sweepName + suffix;
        }
    };
    hooks.mxqCosts = [&](const QuantizeParams& p) -> const MxqCostTable& {
        return mxqCostTable(pointArgs, costs, p, ctx, log);
    };
    hooks.resolveOther = [&](const MethodSpec&, QuantizeParams& p) {
        if (!applyGgufMethod(pointArgs, method, log, p, ctx))
            throw Error("mpq sweep cannot resolve the method " + method);
    };
    hooks.mxqSolved = [&](const MxqSolution& s, const MxqBudget& budget) { logMxqSolve(log, s, budget); };
    hooks.quantizing = [&](const SweepRun&) {
        if (!sessionFile.empty() && costs.table && !costsStored) {
            session::saveMxqCostTable(sessionFile, sweepName, *costs.table);
            costsStored = true;
        }
    };
    hooks.quantized = [&](const SweepRun&) { endProgressLine(); };
    hooks.evaluated = [&](const SweepRun&, const EvalResult&) { endProgressLine(); };
    hooks.runDone = [&](const SweepRun& run) {
        const QuantizeReport& r = run.report;
        nlohmann::json point = {{"value", run.value},
                                {"avg_bits", r.avgBits},
                                {"avg_bits_with_overhead", r.avgBitsWithOverhead},
                                {"quantize_seconds", r.seconds},
                                {"result", r.outDir.empty() ? r.sessionRun : r.outDir}};
        if (run.seed)
            point["seed"] = *run.seed;
        if (!run.params.solver.empty())
            point["solver"] = nlohmann::json::parse(run.params.solver.toJson());
        for (const auto& [ds, er] : run.evaluations) {
            point["perplexity"][ds] = er.perplexity;
            point["window_mean_nll"][ds] = er.windowMeanNll; // for paired comparisons of points
        }
        seedRuns.push_back(point);
        if (run.seed && !outDir.empty()) { // an interrupted sweep keeps the seeds it finished
            const nlohmann::json partial = {{"value", run.value}, {"seeds", seedRuns}};
            std::ofstream(files::join(outDir, "sweep-partial.json")) << partial.dump(1) << "\n";
        }
    };
    hooks.pointDone = [&](size_t i, const std::vector<SweepRun>& runs) {
        nlohmann::json point;
        if (seeds.empty()) {
            point = seedRuns.back();
        } else {
            // The seeds protocol: one run per seed, then mean ± sample sd of every figure.
            point = {{"value", std::stod(points[i])}, {"seeds", seedRuns}};
            std::vector<double> bits, bitsOv;
            std::map<std::string, std::vector<double>> ppl;
            for (const SweepRun& run : runs) {
                bits.push_back(run.report.avgBits);
                bitsOv.push_back(run.report.avgBitsWithOverhead);
                for (const auto& [ds, er] : run.evaluations)
                    ppl[ds].push_back(er.perplexity);
            }
            point["avg_bits"] = seedStatistics(bits).mean;
            point["avg_bits_with_overhead"] = seedStatistics(bitsOv).mean;
            for (const auto& [ds, values] : ppl) {
                const SeedStatistics st = seedStatistics(values);
                point["perplexity"][ds] = st.mean;
                point["perplexity_sd"][ds] = st.sd;
                point["perplexity_relative_sd"][ds] = st.relativeSd;
                point["perplexity_min"][ds] = st.min;
                point["perplexity_max"][ds] = st.max;
            }
        }
        seedRuns = nlohmann::json::array();
        if (!args.has("json")) {
            std::printf("%s=%s: %.3f bits (%.3f with overhead)", axis.c_str(), points[i].c_str(),
                        point["avg_bits"].get<double>(), point["avg_bits_with_overhead"].get<double>());
            for (auto it = point["perplexity"].begin(); it != point["perplexity"].end(); ++it) {
                if (seeds.empty()) {
                    std::printf("  %s %.3f", it.key().c_str(), it.value().get<double>());
                } else {
                    SeedStatistics st;
                    st.mean = it.value().get<double>();
                    st.sd = point["perplexity_sd"][it.key()].get<double>();
                    st.relativeSd = point["perplexity_relative_sd"][it.key()].get<double>();
                    std::printf("  %s %s", it.key().c_str(), formatSeedStatistics(st).c_str());
                }
            }
            if (!seeds.empty())
                std::printf("  [%zu seeds]", seeds.size());
            std::printf("\n");
            std::fflush(stdout);
        }
        sweep["points"].push_back(point);
        // Saved after every point: an interrupted sweep keeps the points it finished.
        if (!outDir.empty())
            std::ofstream(files::join(outDir, "sweep.json")) << sweep.dump(1) << "\n";
    };
    withinBudget([&] { mpq::runSweep(sp, hooks, ctx); });
    if (!seeds.empty())
        sweep["seeds"] = seeds;
    if (args.has("json"))
        std::cout << withMemory(sweep, args.get("device")).dump() << std::endl;
    return 0;
}

} // namespace mpq::cli
