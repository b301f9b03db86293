#include "Args.h"
#include "Commands.h"
#include "MemoryOptions.h"
#include "Terminal.h"

#include "core/Error.h"
#include "core/Files.h"
#include "pipeline/Override.h"
#include "pipeline/QuantizeJob.h"
#include "model/MemoryPlan.h"
#include "pipeline/QuantizeParamsJson.h"
#include "AllocatorOptions.h"
#include "session/Session.h"
#include "Validate.h"
#include "Demo.h"
#include "model/ModelSource.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace mpq::cli {

namespace {
/// The largest damping GPTQ accepts (kMaxDampPercent of quant/detail/Gptq.h, which is a torch
/// header this file does not include).
constexpr double kMaxDamp = 100;
} // namespace

void addQuantizeOptions(Args& args)
{
    args.option("method", "M",
                "rtn (round to nearest), gptq, hqq (data-free), mgptq (MG-PTQ: per-column bits from a graph "
                "neural allocator, then GPTQ), mxq (one HQQ configuration per matrix chosen by a mixed "
                "integer program under --budget; see --cost), gguf (llama.cpp's preset mix --type, for "
                "`mpq export --format gguf`) or gguf-mxq (one llama.cpp type per matrix chosen by MXQ's program under --budget; "
                "--cost hessian also quantizes with the calibration Hessian's diagonal as llama.cpp's imatrix)",
                "gptq");
    args.option("bits", "B", "bit-width of every weight, 1..8 (rtn, gptq, hqq)", "4");
    args.option("group-size", "G", "columns sharing a scale/zero; -1 = one per output channel", "-1");
    args.flag("act-order", "GPTQ: quantize columns in order of decreasing Hessian diagonal");
    args.flag("static-groups", "GPTQ: fit group grids on the original weights before any update");
    args.flag("sym", "symmetric grid (default: asymmetric min-max including zero)");
    args.option("damp", "F", "GPTQ damping as a fraction of mean(diag H), in (0, 100]; when H is still not "
                             "positive definite it is raised tenfold (up to 6 times), then the matrix falls back "
                             "to RTN (recorded per matrix; docs/quantization.md)", "0.01");
    args.option("block-size", "N", "GPTQ lazy-batch block size", "128");
    args.option("plan", "FILE", "allocation plan (JSON) giving per-matrix bits and group sizes");
    args.option("calib", "SET",
                "calibration text: c4 (train excerpt), wikitext2, a file, self (text sampled from the model "
                "itself), or a mixture A+B (windows alternate: c4+self)",
                "c4");
    args.option("nsamples", "N", "calibration windows", "128");
    args.option("seqlen", "L", "tokens per calibration window", "2048");
    args.option("seed", "S", "seed of the window draw (Python's random, as GPTQ's scripts)", "0");
    args.option("calib-tokens", "FILE", "reuse the windows of an earlier run (its calibration.bin)");
    args.option("expert-min-tokens", "N",
                "mixture of experts: an expert routed fewer calibration tokens than N gets the Hessian\n"
                "of all tokens instead (as if every token were routed to it); recorded per matrix", "64");
    args.option("device", "D", "cpu, cuda or cuda:N", "cpu");
    args.option("dtype", "T", "activation precision: fp32, fp16 or bf16 (default fp16 on CUDA, fp32 on CPU)");
    args.option("batch-size", "N", "calibration windows per forward pass (0 = automatic)", "0");
    args.option("tokenizer", "PATH", "tokenizer.json or SentencePiece .model to use instead of the one beside the model");
    args.option("data-dir", "DIR", "shared data directory (default: $MPQ_DATA_DIR, else ../shared/data)");
    addAllocatorOptions(args);
    addMemoryOptions(args);
}

QuantizeParams quantizeParamsFrom(const Args& args)
{
    QuantizeParams p;
    p.model = args.get("MODEL");
    p.dataDir = args.get("data-dir");
    p.tokenizer = args.get("tokenizer");
    p.method = args.get("method");
    p.bits = int(intIn(args, "bits", 1, 8));
    p.groupSize = args.getInt("group-size");
    if (p.groupSize == 0 || p.groupSize < -1)
        throw UsageError("--group-size must be -1 (one grid per output channel) or a positive number of columns, got " +
                         std::to_string(p.groupSize));
    p.actOrder = args.has("act-order");
    p.staticGroups = args.has("static-groups");
    p.symmetric = args.has("sym");
    p.dampPercent = numberIn(args, "damp", 0, kMaxDamp, /*loOpen=*/true);
    p.blockSize = intIn(args, "block-size", 1, 1 << 16);
    p.calib = args.get("calib");
    p.nsamples = intIn(args, "nsamples", 1, 1000000);
    p.seqlen = intIn(args, "seqlen", 1, 1 << 20);
    p.seed = uint64_t(intIn(args, "seed", 0, INT64_MAX));
    p.calibTokens = args.get("calib-tokens");
    p.expertMinTokens = args.getInt("expert-min-tokens");
    if (p.expertMinTokens < 0)
        throw Error("--expert-min-tokens must be 0 or more (got " + std::to_string(p.expertMinTokens) + ")");
    p.device = args.get("device");
    checkDeviceOption(p.device);
    if (args.has("dtype"))
        p.dtype = parseDTypeOption(args.get("dtype"));
    p.batchSize = intIn(args, "batch-size", 0, 1000000);
    p.out = args.get("out");
    p.budget = memoryBudgetFrom(args);

    if (args.has("plan"))
        p.plan = AllocationPlan::fromJson(files::readAll(args.get("plan")), args.get("plan"));
    return p;
}

void checkQuantizeInputs(const Args& args, const QuantizeParams& p, const std::string& method)
{
    checkModelPath(p.model);
    checkFileOption(args, "tokenizer");
    checkFileOption(args, "calib-tokens");
    // HQQ and MXQ with its data-free costs read no text; everything else calibrates.
    const std::string cost = args.get("cost");
    const bool dataFree = method == "hqq" || (method == "mxq" && cost != "hessian" && cost != "relative-hessian" &&
                                                    cost != "sensitivity" && cost != "probed");
    if (!dataFree && p.calibTokens.empty())
        checkCalibrationSet(p.calib, p.dataDir, "--calib");
    // The headers only (no weights): the figures for the memory check.
    const ModelSource source = ModelSource::open(p.model, p.tokenizer);
    const bool cuda = p.device.rfind("cuda", 0) == 0;
    const double elem = p.dtype ? (*p.dtype == DType::F32 ? 4 : 2) : (cuda ? 2 : 4);
    checkActivationBytes(2.0 * double(p.nsamples) * double(p.seqlen) * double(source.config().hiddenSize), elem,
                         p.device,
                         "--nsamples " + std::to_string(p.nsamples) + " x --seqlen " + std::to_string(p.seqlen) +
                             " calibration activations (inputs and outputs of a layer, hidden size " +
                             std::to_string(source.config().hiddenSize) + ")");
    // The memory plan from the headers: a job over --max-host-memory / --max-device-memory is
    // refused here, before any text is read.
    if (p.budget.limitsHost() || p.budget.limitsDevice())
        withinBudget([&] {
            return planQuantizeMemory(source.config(), p.dtype ? *p.dtype : (cuda ? DType::F16 : DType::F32), p.device,
                                      p.nsamples, std::min(p.seqlen, source.config().maxPositions), p.batchSize,
                                      dataFree, p.budget);
        });
}

namespace {

void addSessionOptions(Args& args)
{
    args.option("session", "FILE",
                "HDF5 session file to write the run into, layer by layer (created when absent; several runs "
                "share one file; docs/session-format.md)");
    args.option("run", "NAME", "the run's name in the session (default: <method>-<n>)");
    args.option("store-hessian", "N",
                "session: store the full Hessian of matrices with at most N columns (-1: all, 0: none; the "
                "diagonal and a sparse adjacency are always stored)",
                "1024");
}

void printReport(const QuantizeReport& r, const std::string& method, const QuantizeParams& p, bool json)
{
    if (json) {
        nlohmann::json j = nlohmann::json::parse(quantizeReportFiguresJson(r));
        j["out"] = r.outDir;
        j["method"] = method;
        j["warnings"] = r.warnings;
        if (!r.sessionRun.empty()) {
            j["session_run"] = r.sessionRun;
            j["resumed_layers"] = r.resumedLayers;
        }
        if (!p.solver.empty())
            j["solver"] = nlohmann::json::parse(p.solver.toJson());
        std::cout << withMemory(j, p.device).dump() << std::endl;
        return;
    }
    std::printf("quantized %zu matrices: %.3f bits per weight (%.3f with scales and zeros) in %.1f s\n",
                r.matrices.size(), r.avgBits, r.avgBitsWithOverhead, r.seconds);
    std::printf("time: calibration %.1f s, reading layers %.1f s, Hessians %.1f s, quantization %.1f s, "
                "forward %.1f s, writing layers %.1f s\n",
                r.calibrationSeconds, r.loadSeconds, r.hessianSeconds, r.quantizeSeconds, r.forwardSeconds,
                r.outputSeconds);
    std::printf("memory: peak RSS %s, %s at the start (planned for the job's data %s, batch %lld)\n",
                byteSizeText(r.peakHostBytes).c_str(), byteSizeText(r.startHostBytes).c_str(),
                byteSizeText(r.plannedHostBytes).c_str(), (long long)r.batch);
    if (r.resumedLayers > 0)
        std::printf("resumed: %lld decoder layers were taken from the session\n", (long long)r.resumedLayers);
    if (!r.outDir.empty())
        std::printf("result: %s (evaluate with: mpq eval %s)\n", r.outDir.c_str(), r.outDir.c_str());
    if (!r.sessionRun.empty())
        std::printf("session run: %s (evaluate with: mpq eval %s)\n", r.sessionRun.c_str(), r.sessionRun.c_str());
}

/// Runs the job; a cancelled session run says how to continue it.
QuantizeReport runJob(const QuantizeParams& p, JobContext& ctx)
{
    try {
        return withinBudget([&] { return quantizeModel(p, ctx); });
    } catch (const Cancelled&) {
        if (p.session.empty())
            throw;
        endProgressLine();
        std::fprintf(stderr,
                     "mpq quantize: cancelled; %s keeps the finished layers (continue with: mpq quantize "
                     "--resume %s%s)\n",
                     p.session.c_str(), p.session.c_str(), p.runName.empty() ? "" : ("#" + p.runName).c_str());
        std::exit(130);
    }
}

/// `mpq quantize --resume FILE[#RUN] [--out DIR]`: the stored settings decide everything else.
int runResume(const std::vector<std::string>& argv)
{
    Args args("quantize --resume",
              "Continues an unfinished run of a session from its last complete decoder layer, with the\n"
              "run's stored settings, plan and calibration windows. The result is bit-identical to an\n"
              "uninterrupted run's (on the same device and thread count).");
    args.option("resume", "FILE[#RUN]", "the session, and the run (default: its newest unfinished run)");
    args.option("out", "DIR", "also write a result folder");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;
    const auto [file, run] = session::splitRunSpec(args.get("resume"));
    if (file.empty())
        throw UsageError("--resume needs a session file");
    QuantizeParams p;
    p.session = file;
    p.runName = run;
    p.resume = true;
    p.out = args.get("out");
    JobContext ctx;
    attachToTerminal(ctx);
    const QuantizeReport r = runJob(p, ctx);
    endProgressLine();
    printReport(r, r.appliedPlan.method, p, args.has("json"));
    return 0;
}

/// `mpq quantize --override FILE --session S.h5`: a stored run with some widths changed, as a new run.
int runOverride(const std::vector<std::string>& argv)
{
    Args args("quantize --override",
              "Quantizes a stored run of a session again with some of its widths overridden (columns, a\n"
              "matrix or a decoder layer set to a width; an MXQ configuration pinned) as a new run of the\n"
              "session (docs/override.md). The layers before the first overridden one are copied from the\n"
              "base run; the job continues from there with the base's settings and calibration windows.\n"
              "An MXQ base re-solves its program with the pins fixed.");
    args.option("override", "FILE", "the override file (JSON, \"format\": \"mpq-override\"; docs/override.md)");
    args.option("session", "FILE", "the session holding the file's base run; the new run goes there too");
    args.option("run", "NAME", "the new run's name (default: <base>-override-<n>)");
    args.option("out", "DIR", "also write a result folder");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;
    if (!args.has("session"))
        throw UsageError("--override needs --session FILE (the session holding the base run)");
    OverrideParams op;
    op.source = args.get("override");
    op.spec = OverrideSpec::load(op.source);
    op.session = args.get("session");
    if (!files::exists(op.session))
        throw Error(op.session + ": no such session");
    op.runName = args.get("run");
    if (!op.runName.empty())
        session::checkRunName(op.runName);
    op.out = args.get("out");
    JobContext ctx;
    attachToTerminal(ctx);
    QuantizeReport r;
    try {
        r = withinBudget([&] { return quantizeOverride(op, ctx); });
    } catch (const Cancelled&) {
        endProgressLine();
        std::fprintf(stderr, "mpq quantize: cancelled; continue with: mpq quantize --resume %s\n", op.session.c_str());
        std::exit(130);
    }
    endProgressLine();
    QuantizeParams shown;
    shown.device = "cpu";
    printReport(r, "override", shown, args.has("json"));
    return 0;
}

} // namespace

int runQuantize(const std::vector<std::string>& argv)
{
    for (const auto& a : argv)
        if (a == "--resume" || a.rfind("--resume=", 0) == 0)
            return runResume(argv);
    for (const auto& a : argv)
        if (a == "--override" || a.rfind("--override=", 0) == 0)
            return runOverride(argv);

    Args args("quantize",
              "Quantizes a model layer by layer (GPTQ's sequential protocol: the inputs of each decoder\n"
              "layer are the outputs of the already quantized layers; within a layer the linears go in\n"
              "true-sequential groups [q,k,v] -> [o] -> [gate,up] -> [down]) and writes a result folder\n"
              "and/or a run of an HDF5 session. 'mpq eval RESULT' or 'mpq eval SESSION#RUN' evaluates it.\n"
              "Ctrl-C stops at the next layer: a result folder is not written, a session keeps the\n"
              "finished layers and 'mpq quantize --resume SESSION[#RUN]' continues them.");
    args.positional("MODEL", "Hugging Face folder or llama2.c .bin checkpoint");
    addQuantizeOptions(args);
    args.option("out", "DIR", "result folder to write (this, --session, or both)");
    addSessionOptions(args);
    args.option("resume", "FILE[#RUN]", "continue an unfinished session run instead, with its stored settings ('mpq quantize --resume FILE --help')");
    args.option("override", "FILE", "quantize a stored run again with widths overridden, as a new run ('mpq quantize --override FILE --help'; docs/override.md)");
    args.flag("json", "print one JSON object on stdout (avg_bits, avg_bits_with_overhead, seconds, ...)");
    addDemoFlag(args, DemoUse::Quantize);
    if (!args.parse(argv))
        return 0;
    if (!args.has("out") && !args.has("session"))
        throw UsageError("--out DIR or --session FILE is required (see 'mpq quantize --help')");
    applyDemo(args, DemoUse::Quantize);
    if (args.has("run") && !args.has("session"))
        throw UsageError("--run names a run in a session: give --session FILE too");

    QuantizeParams p = quantizeParamsFrom(args);
    p.session = args.get("session");
    p.runName = args.get("run");
    p.storeHessianLimit = intIn(args, "store-hessian", -1, INT64_MAX);
    if (!p.runName.empty())
        session::checkRunName(p.runName);
    const std::string method = args.get("method");
    checkAllocatorOptions(args, method);
    checkQuantizeInputs(args, p, method);

    JobContext ctx;
    attachToTerminal(ctx);
    MxqCostCache costs;
    applyAllocatorOptions(args, method, args.has("json") ? nullptr : stdout, costs, p, ctx);
    const QuantizeReport r = runJob(p, ctx);
    endProgressLine();
    if (!r.sessionRun.empty() && costs.table) // the GUI's budget slider re-solves from it
        session::saveMxqCostTable(p.session, session::splitRunSpec(r.sessionRun).second, *costs.table);
    printReport(r, method, p, args.has("json"));
    return 0;
}

} // namespace mpq::cli
