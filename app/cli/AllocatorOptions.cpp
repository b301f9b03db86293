#include "AllocatorOptions.h"
#include "GgufOptions.h"

#include "Validate.h"

#include "alloc/mxq/MxqCostChoice.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <sstream>

namespace mpq::cli {

void addAllocatorOptions(Args& args)
{
    args.option("bits-set", "LIST", "mgptq: candidate bit-widths", "2,3,4");
    args.option("alpha", "A", "mgptq: fixed bit penalty alpha (the paper's knob)");
    args.option("target-bits", "T", "mgptq: target average code bits (alpha is searched)");
    args.option("gnn", "KIND", "mgptq: gcn (MG-PTQ), mlp (ablation without the graph) or hessian-greedy "
                               "(non-learned baseline)", "gcn");
    args.option("epochs", "E",
                "mgptq: training epochs per matrix; auto = 50 with --target-bits and the stable rounding "
                "(the network's softmax only starts the relaxed solve, whose optimum is unique; docs/mgptq.md, "
                "\"Epochs\"), else 200",
                "auto");
    args.option("lr", "LR", "mgptq: learning rate", "0.01");
    args.option("tau-start", "T0", "mgptq: Gumbel-Softmax temperature at the first epoch", "1.0");
    args.option("tau-end", "T1", "mgptq: temperature at the last epoch", "0.1");
    args.flag("straight-through", "mgptq: hard (straight-through) Gumbel-Softmax samples");
    args.flag("no-skip-features", "mgptq: the allocator head sees only the GCN's (or MLP's) output, not also "
                                  "each column's own features (the paper's plain architecture; docs/mgptq.md)");
    args.option("hidden-dim", "H", "mgptq: width of the GCN layers and of the allocator head", "32");
    args.option("feature-dim", "F", "mgptq: node features from the seeded projection of each column's "
                                    "weights (plus 4 statistics and one error per candidate)", "32");
    args.option("top-k", "K", "mgptq: neighbours kept per column when the Hessian graph is sparsified", "32");
    args.option("dense-limit", "N", "mgptq: columns up to which the Hessian graph stays dense (0: always "
                                    "top-k)", "4096");
    args.option("alloc-seed", "S", "mgptq: seed of the network's initialisation, the projection and the "
                                   "Gumbel noise", "0");
    args.option("restarts", "N", "mgptq: trainings per matrix from different seeds; the plan with the lowest "
                                 "predicted error (the proxy tr(dW H dW^T) of RTN at the chosen bits) is kept", "1");
    args.flag("no-polish", "mgptq: with --target-bits, skip the exact local search that improves the repaired "
                           "plan against the proxy at the target (docs/mgptq.md)");
    args.flag("greedy-candidate", "mgptq: with --target-bits, also polish the marginal-gain greedy plan and keep "
                                  "it when its predicted error is below every restart's (deterministic)");
    args.flag("no-relaxed-rounding", "mgptq: with --target-bits, round the trained network's argmax (the paper's, "
                                     "seed-dependent) instead of the optimum of the relaxed proxy that the network's "
                                     "softmax starts (docs/mgptq.md, \"Stable rounding\")");
    args.flag("no-cuda-graph", "mgptq: on CUDA, run every training step eagerly instead of replaying "
                               "one captured CUDA graph (same results; slower; for comparison)");
    args.option("budget", "BITS", "mxq: memory budget in average bits per parameter (scales and zeros "
                                  "included)");
    args.option("budget-mib", "MIB", "mxq: memory budget in MiB for the quantized matrices");
    args.option("configs", "SPEC", "mxq: candidate configurations BITS x GROUPS", "2,3,4,8x32,64,128");
    args.option(
        "cost", "KIND",
        "mxq: auto (the default: probed where calibration data is at hand and the model fits twice in fp32 "
        "with its HQQ codes, else fnorm; the choice and why are printed; docs/mxq.md), "
        "fnorm (data-free, the paper's ||W - W_q||_F), relative (data-free: ||W - W_q||_F / RMS(W), "
        "each matrix's error in units of its own weight scale; mxq only), relative-mse (data-free: "
        "||W - W_q||_F^2 / mean(W^2), the squared relative error summed over the weights; mxq only), "
        "hessian (extension: tr(dW H dW^T) with calibration Hessians of the unquantized model; uses "
        "--calib, --nsamples, --seqlen, --seed), relative-hessian (the same Hessians: n * tr(dW H dW^T) / "
        "tr(W H W^T), each layer output's noise-to-signal ratio summed over the weights; mxq only) or sensitivity "
        "(calibration data: each matrix's calibration-loss increase measured with only it at the smallest "
        "candidate, b2g128 by default, scaled to each configuration by its squared error; mxq only) or probed "
        "(calibration data: at each budget the plans of the six costs above, the same without the widths "
        "below the budget's floor, the plans of two configurations around the budget and the best uniform "
        "configuration that fits are measured by the quantized model's calibration loss, the lowest kept; "
        "mxq only; "
        "docs/mxq.md). The data-aware costs calibrate on --nsamples x --seqlen where given, else on "
        "8 windows of 512 tokens (probed: 8 more to judge the plans); gguf-mxq: auto (= fnorm), fnorm or "
        "hessian",
        "auto");
    args.option("costs", "FILE", "mxq: cost table to reuse (JSON); computed and saved beside --out when absent");
    addGgufOptions(args);
}

namespace {

constexpr const char* kMxqCostKinds =
    "--cost must be auto, fnorm, relative, relative-mse, hessian, relative-hessian, sensitivity or probed";

bool isMxqCostKind(const std::string& kind)
{
    for (const char* k :
         {"auto", "fnorm", "relative", "relative-mse", "hessian", "relative-hessian", "sensitivity", "probed"})
        if (kind == k)
            return true;
    return false;
}

std::vector<int> parseInts(const std::string& text, const char* option)
{
    std::vector<int> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            size_t used = 0;
            out.push_back(std::stoi(item, &used));
            if (used != item.size())
                throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw UsageError(std::string("--") + option + ": \"" + item + "\" is not an integer");
        }
    }
    if (out.empty())
        throw UsageError(std::string("--") + option + " needs at least one value");
    return out;
}

} // namespace

const MxqCostTable& mxqCostTable(const Args& args, MxqCostCache& costs, const QuantizeParams& p,
                                 JobContext& ctx, std::FILE* log)
{
    if (costs.table)
        return *costs.table;
    const std::string asked = args.get("cost");
    if (!isMxqCostKind(asked))
        throw UsageError(kMxqCostKinds);
    // The data-aware costs' calibration: the job's --calib, --seed, --calib-tokens, and --nsamples
    // x --seqlen where given, else MXQ's own 8 x 512 (the protocol of docs/figures.md's MXQ figures;
    // the job's 128 x 2048 default is GPTQ's).
    MxqCostParams cp = mxqCostParams(p, parseMxqConfigs(args.get("configs")),
                                     args.has("nsamples") ? p.nsamples : kMxqCalibrationWindows,
                                     args.has("seqlen") ? p.seqlen : kMxqCalibrationSeqlen);
    cp.costKind = asked;
    const std::string file = args.get("costs");
    std::optional<MxqCostTable> stored;
    if (!file.empty() && files::exists(file))
        stored = MxqCostTable::load(file);
    std::string choice;
    if (asked == "auto" && stored) {
        cp.costKind = stored->costKind; // auto takes the stored table's kind
        if (log)
            std::fprintf(log, "mxq: --cost auto: %s, the kind of the cost table %s\n", cp.costKind.c_str(),
                         file.c_str());
    } else {
        choice = resolveAutoMxqCost(cp, p.budget);
        if (log && !choice.empty())
            std::fprintf(log, "mxq: --cost %s\n", choice.c_str());
    }
    const std::string& kind = cp.costKind;
    if (kind == "probed") {
        // Every budget of the job (a sweep's list, or quantize's one) is decided by measured loss.
        if (args.has("budget-mib"))
            cp.budgets.push_back(MxqBudget::mib(args.getDouble("budget-mib")));
        std::stringstream ss(args.get("budget"));
        std::string item;
        while (args.has("budget") && std::getline(ss, item, ','))
            cp.budgets.push_back(MxqBudget::bitsPerParameter(std::stod(item)));
    }
    if (stored) {
        costs.table = std::move(stored);
        if (costs.table->costKind != kind)
            throw UsageError(file + " holds " + costs.table->costKind + " costs, but --cost " + kind +
                             " was asked for; give another --costs file");
        if (kind == "probed") {
            // Budgets not probed yet: the stored costs re-solve, the new plans are measured.
            const size_t before = costs.table->selections.size();
            probeMxqBudgets(*costs.table, cp, ctx);
            if (costs.table->selections.size() != before)
                costs.table->save(file);
        }
    } else {
        costs.table = computeMxqCosts(cp, ctx);
        costs.table->costChoice = choice;
        if (!file.empty())
            costs.table->save(file);
    }
    return *costs.table;
}

void checkAllocatorOptions(const Args& args, const std::string& method, const std::string& skipAxis)
{
    cliMethod(method);
    if (method == "mgptq") {
        const std::vector<int> bitsSet = parseInts(args.get("bits-set"), "bits-set");
        int lo = 8, hi = 1;
        for (int b : bitsSet) {
            if (b < 1 || b > 8)
                throw UsageError("--bits-set: " + std::to_string(b) + " is not a bit-width in 1..8");
            lo = std::min(lo, b);
            hi = std::max(hi, b);
        }
        if (args.has("alpha") == args.has("target-bits"))
            throw UsageError("mgptq needs exactly one of --alpha and --target-bits");
        if (args.has("alpha") && skipAxis != "alpha")
            numberIn(args, "alpha", 0, 1e6);
        if (args.has("target-bits") && skipAxis != "target-bits")
            numberIn(args, "target-bits", lo, hi);
        const std::string gnn = args.get("gnn");
        if (gnn != "gcn" && gnn != "mlp" && gnn != "hessian-greedy")
            throw UsageError("--gnn must be gcn, mlp or hessian-greedy");
        if (args.get("epochs") != "auto")
            intIn(args, "epochs", 1, 1000000);
        numberIn(args, "lr", 0, 100, true);
        numberIn(args, "tau-start", 0, 1000, true);
        numberIn(args, "tau-end", 0, 1000, true);
        intIn(args, "hidden-dim", 1, 1 << 16);
        intIn(args, "feature-dim", 1, 1 << 16);
        intIn(args, "top-k", 1, 1 << 20);
        intIn(args, "dense-limit", 0, 1 << 20);
        intIn(args, "alloc-seed", 0, INT64_MAX);
        intIn(args, "restarts", 1, 1000);
    }
    if (method == "mxq" || method == "gguf-mxq") {
        if (args.has("budget") == args.has("budget-mib"))
            throw UsageError(method + " needs exactly one of --budget and --budget-mib");
        if (args.has("budget") && skipAxis != "budget")
            numberIn(args, "budget", 0, 64, true);
        if (args.has("budget-mib"))
            numberIn(args, "budget-mib", 0, 1e9, true);
        const std::string kind = args.get("cost");
        // relative and the others: MXQ's HQQ costs only
        if (method == "gguf-mxq" && kind != "auto" && kind != "fnorm" && kind != "hessian")
            throw UsageError("--cost must be auto, fnorm or hessian");
        if (!isMxqCostKind(kind))
            throw UsageError(kMxqCostKinds);
        if (method == "mxq")
            parseMxqConfigs(args.get("configs"));
        if (args.has("costs") && files::isDirectory(args.get("costs")))
            throw Error(args.get("costs") + ": is a folder, --costs needs a file");
    }
}

void logMxqSolve(std::FILE* log, const MxqSolution& s, const MxqBudget& budget)
{
    if (log)
        std::fprintf(log, "mxq: %s (%s, %s): %.4f bits/parameter, objective %.6g, gap %.2g, %.3f s\n",
                     mxqStatusName(s.status), s.solver.c_str(), budget.describe().c_str(), s.bitsPerParameter,
                     s.objective, s.gap, s.seconds);
}

MethodSpec methodSpecFrom(const Args& args, Method method)
{
    MethodSpec spec;
    spec.method = method;
    if (isUniformMethod(method)) {
        spec.bits = int(args.getInt("bits"));
    } else if (method == Method::Mgptq) {
        MgptqOptions& o = spec.mgptq;
        o.bitsSet = parseInts(args.get("bits-set"), "bits-set");
        if (args.has("alpha") == args.has("target-bits"))
            throw UsageError("mgptq needs exactly one of --alpha and --target-bits");
        if (args.has("alpha"))
            o.alpha = args.getDouble("alpha");
        else
            o.targetBits = args.getDouble("target-bits");
        const std::string gnn = args.get("gnn");
        if (gnn != "gcn" && gnn != "mlp" && gnn != "hessian-greedy")
            throw UsageError("--gnn must be gcn, mlp or hessian-greedy");
        o.model = gnn;
        o.epochs = args.get("epochs") == "auto" ? 0 : int(args.getInt("epochs")); // 0: mgptqEpochs()
        o.learningRate = args.getDouble("lr");
        o.tauStart = args.getDouble("tau-start");
        o.tauEnd = args.getDouble("tau-end");
        o.straightThrough = args.has("straight-through");
        o.skipFeatures = !args.has("no-skip-features");
        o.cudaGraph = !args.has("no-cuda-graph");
        o.hiddenDim = args.getInt("hidden-dim");
        o.featureDim = args.getInt("feature-dim");
        o.topK = args.getInt("top-k");
        o.denseLimit = args.getInt("dense-limit");
        o.seed = uint64_t(args.getInt("alloc-seed"));
        o.restarts = int(args.getInt("restarts"));
        o.polish = !args.has("no-polish");
        o.greedyCandidate = args.has("greedy-candidate");
        o.relaxedRounding = !args.has("no-relaxed-rounding");
    } else if (method == Method::Mxq || method == Method::GgufMxq) {
        if (args.has("budget") == args.has("budget-mib"))
            throw UsageError(std::string(methodName(method)) + " needs exactly one of --budget and --budget-mib");
        spec.budget = args.has("budget") ? MxqBudget::bitsPerParameter(args.getDouble("budget"))
                                         : MxqBudget::mib(args.getDouble("budget-mib"));
    }
    return spec;
}

Method cliMethod(const std::string& name)
{
    try {
        return parseMethod(name);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
}

void applyAllocatorOptions(const Args& args, const std::string& method, std::FILE* log, MxqCostCache& costs,
                           QuantizeParams& p, JobContext& ctx)
{
    const Method m = cliMethod(method);
    if (applyGgufMethod(args, method, log, p, ctx))
        return;
    const MethodSpec spec = methodSpecFrom(args, m);
    const MxqCostTable* table = m == Method::Mxq ? &mxqCostTable(args, costs, p, ctx, log) : nullptr;
    resolveMethod(spec, p, table, &ctx, [&](const MxqSolution& s) { logMxqSolve(log, s, spec.budget); });
}

} // namespace mpq::cli
