#include "GgufOptions.h"

#include "alloc/GgufMix.h"
#include "core/Error.h"
#include "core/Files.h"
#include "pipeline/Method.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace mpq::cli {

void addGgufOptions(Args& args)
{
    args.option("type", "PRESET",
                "gguf: llama.cpp's mix, one of Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, "
                "Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (its per-tensor rules and fallbacks, computed by us)",
                "Q4_K_M");
    args.option("types", "LIST",
                "gguf-mxq: candidate llama.cpp types per matrix (a matrix gets those whose block divides its "
                "columns)",
                "Q2_K,Q3_K,Q4_0,Q4_1,Q4_K,Q5_0,Q5_1,Q5_K,Q6_K,Q8_0,F16");
    args.option("gguf-costs", "FILE",
                "gguf-mxq: cost table to reuse (JSON); computed and saved there when absent");
}

namespace {

std::vector<ggml::Type> parseTypes(const std::string& text)
{
    std::vector<ggml::Type> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto t = ggml::typeFromName(item);
        if (!t || *t == ggml::Type::F32)
            throw UsageError("--types: \"" + item + "\" is not one of Q2_K, Q3_K, Q4_0, Q4_1, Q4_K, Q5_0, Q5_1, "
                                                    "Q5_K, Q6_K, Q8_0, F16");
        out.push_back(*t);
    }
    if (out.empty())
        throw UsageError("--types needs at least one type");
    return out;
}

GgufCostTable costTable(const Args& args, const std::string& method, std::FILE* log, const QuantizeParams& p,
                        JobContext& ctx)
{
    // auto (the default of --cost): a stored table's kind, else fnorm (llama.cpp without an imatrix).
    const std::string asked = args.get("cost");
    std::string kind = asked == "auto" ? "fnorm" : asked;
    if (kind != "fnorm" && kind != "hessian")
        throw UsageError("--cost must be auto, fnorm or hessian");
    const std::string file = args.get("gguf-costs");
    if (method == "gguf-mxq" && !file.empty() && files::exists(file)) {
        GgufCostTable t = ggufCostTableFromJson(files::readAll(file), file);
        if (asked == "auto")
            kind = t.costKind;
        if (t.costKind != kind)
            throw UsageError(file + " holds " + t.costKind + " costs, but --cost " + kind + " was asked for");
        return t;
    }
    GgufCostParams cp;
    cp.model = p.model;
    cp.tokenizer = p.tokenizer;
    cp.device = p.device;
    cp.costKind = kind;
    cp.types = method == "gguf-mxq" ? parseTypes(args.get("types")) : GgufCostParams::defaultTypes();
    cp.measure = method == "gguf-mxq";
    cp.calibration.source = p.calib;
    cp.calibration.nsamples = p.nsamples;
    cp.calibration.seqlen = p.seqlen;
    cp.calibration.seed = p.seed;
    cp.calibration.dataDir = p.dataDir;
    cp.calibration.tokensFile = p.calibTokens;
    cp.batchSize = p.batchSize;
    GgufCostTable t = computeGgufCosts(cp, ctx);
    if (log && cp.measure)
        std::fprintf(log, "\ngguf costs: %zu matrices x %zu types in %.1f s\n", t.matrices.size(), t.types.size(),
                     t.seconds);
    if (method == "gguf-mxq" && !file.empty()) {
        std::ofstream out(file);
        out << ggufCostTableToJson(t) << "\n";
        if (!out)
            throw Error(file + ": cannot write the cost table");
    }
    return t;
}

/// The chosen type of every linear (F16 ones are not in the plan) and the bits per weight over
/// all of them, for the run's solver record.
SolverRecord typeSummary(const GgufCostTable& t, const AllocationPlan& plan)
{
    SolverRecord r;
    double bits = 0, weights = 0;
    for (const auto& m : t.matrices) {
        const MatrixPlan* mp = plan.find(m.tensor);
        const ggml::Type ty = mp ? ggmlSpecOf(*mp).type : ggml::Type::F16;
        r.ggufTypes[m.tensor] = ggml::typeName(ty);
        bits += ggufStorageBits(m.rows, m.cols, ty);
        weights += double(m.rows * m.cols);
    }
    r.ggufBitsPerWeight = weights > 0 ? bits / weights : 0.0;
    return r;
}

} // namespace

bool applyGgufMethod(const Args& args, const std::string& method, std::FILE* log, QuantizeParams& p,
                     JobContext& ctx)
{
    if (method != "gguf" && method != "gguf-mxq")
        return false;
    if (p.plan)
        throw UsageError("--plan and --method " + method + " exclude each other");
    if (method == "gguf") {
        const GgufCostTable t = costTable(args, method, log, p, ctx);
        p.plan = ggufPresetPlan(t, args.get("type"));
        p.solver = typeSummary(t, *p.plan);
        p.solver.ggufPreset = args.get("type");
        p.solver.imatrix = t.costKind == "hessian";
    } else {
        if (args.has("budget") == args.has("budget-mib"))
            throw UsageError("gguf-mxq needs exactly one of --budget and --budget-mib");
        const GgufCostTable t = costTable(args, method, log, p, ctx);
        const MxqBudget budget = args.has("budget") ? MxqBudget::bitsPerParameter(args.getDouble("budget"))
                                                    : MxqBudget::mib(args.getDouble("budget-mib"));
        MxqSolution s;
        p.plan = ggufMixPlan(t, budget, {}, &ctx, &s);
        if (log)
            std::fprintf(log, "gguf-mxq: %s (%s, %s): %.4f bits/weight, objective %.6g, gap %.2g, %.3f s\n",
                         mxqStatusName(s.status), s.solver.c_str(), budget.describe().c_str(), s.bitsPerParameter,
                         s.objective, s.gap, s.seconds);
        p.solver = mxqSolverRecord(s, budget);
        const SolverRecord types = typeSummary(t, *p.plan);
        p.solver.ggufTypes = types.ggufTypes;
        p.solver.ggufBitsPerWeight = types.ggufBitsPerWeight;
        p.solver.costKind = t.costKind;
        p.solver.costSeconds = t.seconds;
        p.solver.imatrix = t.costKind == "hessian";
    }
    p.method = "hqq"; // the pipeline's data-free path; the plan's "ggml" quantizer decides per matrix
    return true;
}

} // namespace mpq::cli
