#include "MemoryOptions.h"
#include "Args.h"
#include "Commands.h"
#include "Terminal.h"
#include "Validate.h"

#include "alloc/mxq/MxqBench.h"
#include "pipeline/QuantizeBench.h"
#include "core/Files.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>

namespace mpq::cli {

int runBenchMxq(const std::vector<std::string>& argv)
{
    Args args("bench-mxq",
              "Times MXQ on a synthetic LLaMA-shaped model generated on the device (seeded Gaussian\n"
              "weights; nothing read from disk): every HQQ configuration of every matrix with its\n"
              "||W - W_hat||_F, then the mixed integer program at each budget. Prints the HQQ time, the\n"
              "solve time per budget (what the GUI's budget slider pays per move) and peak GPU memory.");
    args.option("preset", "NAME", "model shape: llama-7b (32 layers, hidden 4096, intermediate 11008, 32 heads) "
                                  "or llama-70b (80 layers, hidden 8192, intermediate 28672, 64 heads / 8 KV heads); "
                                  "the options below override it", "llama-7b");
    args.option("layers", "N", "decoder layers (0 = the preset's)", "0");
    args.option("hidden", "N", "hidden size (0 = the preset's)", "0");
    args.option("intermediate", "N", "MLP size (0 = the preset's)", "0");
    args.option("heads", "N", "attention heads (0 = the preset's)", "0");
    args.option("kv-heads", "N", "key/value heads (0 = the preset's)", "0");
    args.option("configs", "SPEC", "candidate configurations BITS x GROUPS", "2,3,4,8x32,64,128");
    args.option("budget", "LIST", "budgets in bits per parameter, comma-separated; the first is solved "
                                  "inside the timed run, the others re-solve the cached costs",
                "3.5,3.13,4.25,4.51");
    args.option("device", "D", "cpu, cuda or cuda:N", "cuda");
    args.option("seed", "S", "weight seed", "0");
    args.option("costs-out", "FILE", "also save the cost table (the JSON that mpq quantize --costs reads), "
                                     "to re-solve or inspect it elsewhere");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;

    MxqBenchParams p;
    SyntheticModelSpec spec;
    try {
        spec = SyntheticModelSpec::preset(args.get("preset"));
    } catch (const Error& e) {
        throw UsageError(std::string("--preset: ") + e.what());
    }
    const auto pick = [&](const char* name, int64_t hi, int64_t preset) {
        const int64_t v = intIn(args, name, 0, hi);
        return v > 0 ? v : preset;
    };
    p.layers = pick("layers", 1000, spec.layers);
    p.hidden = pick("hidden", 1 << 17, spec.hidden);
    p.intermediate = pick("intermediate", 1 << 19, spec.intermediate);
    p.heads = pick("heads", 1 << 12, spec.heads);
    p.kvHeads = pick("kv-heads", 1 << 12, spec.kvHeads);
    if (p.hidden % p.heads != 0 || p.heads % p.kvHeads != 0)
        throw UsageError("--hidden must be a multiple of --heads, and --heads of --kv-heads (got " +
                         std::to_string(p.hidden) + ", " + std::to_string(p.heads) + ", " + std::to_string(p.kvHeads) + ")");
    p.seed = uint64_t(intIn(args, "seed", 0, INT64_MAX));
    p.configs = parseMxqConfigs(args.get("configs"));
    p.device = args.get("device");
    checkDeviceOption(p.device);
    const std::vector<double> budgets = args.getDoubles("budget");
    if (budgets.empty())
        throw UsageError("--budget needs at least one value");
    for (double b : budgets)
        if (!(b > 0 && b <= 64))
            throw UsageError("--budget values must be in (0, 64] bits per parameter, got " + std::to_string(b));
    p.budgetBitsPerParameter = budgets.front();
    if (p.layers <= 0 || p.hidden <= 0 || p.intermediate <= 0)
        throw UsageError("--layers, --hidden and --intermediate must be positive");
    if (args.has("costs-out") && !files::isDirectory(files::parent(args.get("costs-out"))))
        throw UsageError("--costs-out " + args.get("costs-out") + ": its folder does not exist");

    JobContext ctx;
    attachToTerminal(ctx);
    const MxqBenchResult r = benchmarkMxq(p, ctx);
    endProgressLine();
    if (args.has("costs-out"))
        r.table.save(args.get("costs-out"));

    nlohmann::json solves = nlohmann::json::array();
    auto record = [&](double budget, const MxqSolution& s) {
        solves.push_back({{"budget", budget},
                          {"status", mxqStatusName(s.status)},
                          {"solver", s.solver},
                          {"bits_per_parameter", s.bitsPerParameter},
                          {"objective", s.objective},
                          {"gap", s.gap},
                          {"nodes", s.nodes},
                          {"seconds", s.seconds}});
    };
    record(budgets.front(), r.solution);
    for (size_t i = 1; i < budgets.size(); ++i) {
        ctx.checkCancelled();
        record(budgets[i], solveMxq(r.table, MxqBudget::bitsPerParameter(budgets[i]), p.solve, &ctx));
    }
    const nlohmann::json j = {{"device", r.deviceName},
                              {"preset", args.get("preset")},
                              {"layers", r.layers},
                              {"hidden", p.hidden},
                              {"intermediate", p.intermediate},
                              {"heads", p.heads},
                              {"kv_heads", p.kvHeads},
                              {"matrices", r.matrices},
                              {"configs", r.configs},
                              {"parameters", r.parameters},
                              {"total_seconds", r.totalSeconds},
                              {"generate_seconds", r.generateSeconds},
                              {"hqq_seconds", r.hqqSeconds},
                              {"solve_seconds", r.solveSeconds},
                              {"hqq_mean_iterations", r.meanIterations},
                              {"hqq_mean_best_iteration", r.meanBestIteration},
                              {"peak_device_gib", r.peakDeviceBytes >= 0 ? r.peakDeviceBytes / 1073741824.0 : -1.0},
                              {"solves", solves}};
    if (args.has("json")) {
        std::cout << withMemory(j, p.device).dump() << std::endl;
        return 0;
    }
    std::printf("MXQ on a synthetic model: %lld layers, %lld matrices x %lld configurations, %s\n",
                (long long)r.layers, (long long)r.matrices, (long long)r.configs, r.deviceName.c_str());
    std::printf("total %.2f s (weights %.2f s, HQQ + costs %.2f s, solve %.3f s)\n", r.totalSeconds,
                r.generateSeconds, r.hqqSeconds, r.solveSeconds);
    std::printf("HQQ: %.1f zero-point updates per call on average (best at %.1f)\n", r.meanIterations,
                r.meanBestIteration);
    if (r.peakDeviceBytes >= 0)
        std::printf("peak GPU memory %.2f GiB\n", r.peakDeviceBytes / 1073741824.0);
    for (const auto& s : solves)
        std::printf("budget %.3f: %s by %s, %.4f bits/parameter, gap %.2g, %lld nodes, %.2f ms\n",
                    s["budget"].get<double>(), s["status"].get<std::string>().c_str(),
                    s["solver"].get<std::string>().c_str(), s["bits_per_parameter"].get<double>(),
                    s["gap"].get<double>(), (long long)s["nodes"].get<int64_t>(), 1000.0 * s["seconds"].get<double>());
    return 0;
}

} // namespace mpq::cli
