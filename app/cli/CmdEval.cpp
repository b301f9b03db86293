#include "Args.h"
#include "Commands.h"
#include "MemoryOptions.h"
#include "Terminal.h"

#include "core/Files.h"
#include "model/ModelSource.h"
#include "runs/StoredRun.h"
#include "Validate.h"
#include "Demo.h"

#include "eval/Perplexity.h"
#include "eval/Windows.h"
#include "session/EvaluationRecord.h"
#include "session/Session.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>

namespace mpq::cli {

void addEvalOptions(Args& args)
{
    args.option("dataset", "NAME|PATH",
                "wikitext2 (test split), c4 (GPTQ's c4-new validation text) or a UTF-8 text / JSON-lines "
                "(.jsonl, .json.gz) file",
                "wikitext2");
    args.option("protocol", "P",
                "gptq: non-overlapping windows over the BOS-prefixed token stream; sliding: Hugging Face's "
                "sliding window (--stride); documents: one window per <|endoftext|>-separated document",
                "gptq");
    args.option("seqlen", "N", "window length in tokens, capped at the model's context", "2048");
    args.option("stride", "N", "sliding protocol: tokens between window starts", "512");
    args.option("device", "D", "cpu, cuda or cuda:N", "cpu");
    args.option("dtype", "T", "compute precision: fp32, fp16 or bf16", "fp32");
    args.option("batch-size", "N", "windows per forward pass (0 = automatic)", "0");
    args.option("max-windows", "N", "evaluate only the first N windows (0 = all)", "0");
    args.option("tokenizer", "PATH", "tokenizer.json or SentencePiece .model to use instead of the one beside the model");
    args.option("data-dir", "DIR", "shared data directory (default: $MPQ_DATA_DIR, else ../shared/data)");
    args.flag("offload", "read the weights one decoder layer at a time over all windows (also chosen on its "
                         "own when the model does not fit the memory limits or the machine)");
    addMemoryOptions(args);
}

EvalParams evalParamsFrom(const Args& args, const std::string& model)
{
    EvalParams p;
    p.model = model;
    p.tokenizer = args.get("tokenizer");
    p.dataset = args.get("dataset");
    p.protocol = args.get("protocol");
    p.seqlen = intIn(args, "seqlen", 1, 1 << 20);
    p.stride = intIn(args, "stride", 1, 1 << 20);
    p.device = args.get("device");
    p.dtype = parseDTypeOption(args.get("dtype"));
    checkDeviceOption(p.device);
    try {
        eval::parseProtocol(p.protocol);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    p.batchSize = intIn(args, "batch-size", 0, 1000000);
    p.maxWindows = intIn(args, "max-windows", 0, INT64_MAX);
    p.dataDir = args.get("data-dir");
    p.offload = args.has("offload");
    p.budget = memoryBudgetFrom(args);
    return p;
}

void checkEvalInputs(const Args& args, const EvalParams& p, bool needsDataset, int64_t forwardBatch)
{
    // MODEL, or the base model of a stored run (its description is read, not its layers).
    std::string model = p.model;
    const auto [file, run] = session::splitRunSpec(p.model);
    if (!run.empty() && session::isHdf5File(file))
        model = quantizedRunModelPath(p.model);
    else if (isQuantizedRun(p.model))
        model = quantizedRunModelPath(p.model);
    else
        checkModelPath(p.model);
    checkFileOption(args, "tokenizer");
    if (needsDataset)
        checkEvalDataset(p.dataset, p.dataDir, "--dataset");
    const ModelSource source = ModelSource::open(model, p.tokenizer);
    const int64_t seqlen = std::min(p.seqlen, source.config().maxPositions);
    const int64_t batch = std::max<int64_t>(forwardBatch, p.batchSize);
    checkActivationBytes(double(batch) * double(seqlen) * double(source.config().vocabSize), 4, p.device,
                         std::to_string(batch) + " windows x " + std::to_string(seqlen) + " tokens x " +
                             std::to_string(source.config().vocabSize) + " logits (--batch-size / --forward-batch)");
}

int runEval(const std::vector<std::string>& argv)
{
    Args args("eval", "Measures perplexity of a model on a text set under a named protocol\n"
                      "(docs/eval-protocols.md). Progress goes to stderr; Ctrl-C stops cleanly.");
    args.positional("MODEL", "Hugging Face folder, llama2.c .bin checkpoint, result folder or SESSION#RUN");
    addEvalOptions(args);
    args.option("session", "FILE", "store the evaluation in this session (SESSION#RUN: stored in SESSION by default)");
    args.flag("no-store", "SESSION#RUN: do not store the evaluation in the session");
    args.flag("json", "print one JSON object on stdout (perplexity, mean_nll, tokens, ..., and window_mean_nll: each "
                      "window's mean NLL, for paired comparisons; docs/eval-protocols.md)");
    addDemoFlag(args, DemoUse::Eval);
    if (!args.parse(argv))
        return 0;
    applyDemo(args, DemoUse::Eval);

    const EvalParams params = evalParamsFrom(args, args.get("MODEL"));
    checkEvalInputs(args, params, true, 1);
    // A session run is evaluated only when complete; its evaluation is stored in the session.
    std::string storeIn = args.get("session"), runName;
    {
        const auto [file, run] = session::splitRunSpec(params.model);
        if (!run.empty() && session::isHdf5File(file)) {
            const session::RunInfo info = session::Session::open(file).run(run);
            if (info.status != session::RunStatus::Complete)
                throw Error(params.model + ": the run is " + session::statusName(info.status) + " (" +
                            std::to_string(info.layersDone.size()) + " of " + std::to_string(info.layersTotal) +
                            " layers stored); finish it first with: mpq quantize --resume " + params.model);
            runName = run;
            if (storeIn.empty())
                storeIn = file;
        } else if (session::isHdf5File(file) && run.empty()) {
            throw UsageError(params.model + " is a session file: name a run as " + params.model +
                             "#RUN (see 'mpq session ls " + params.model + "')");
        }
    }
    if (args.has("no-store"))
        storeIn.clear();
    if (!storeIn.empty() && files::exists(storeIn))
        (void)session::Session::open(storeIn); // a bad session file is reported before the evaluation
    JobContext ctx;
    attachToTerminal(ctx);
    const EvalResult r = withinBudget([&] { return evaluatePerplexity(params, ctx); });
    endProgressLine();
    if (!storeIn.empty()) {
        // A model or result folder on disk is stored by its absolute path, so that the workbench
        // finds it from anywhere (a result folder's evaluation shows it as a run of the session).
        const std::string evaluated = runName.empty() && files::exists(params.model) ? files::absolute(params.model)
                                                                                      : params.model;
        const int64_t id = session::addEvaluation(storeIn, session::evaluationRecord(runName, evaluated, r));
        if (!args.has("json"))
            std::fprintf(stderr, "stored as evaluation #%lld in %s\n", (long long)id, storeIn.c_str());
    }
    if (args.has("json")) {
        std::cout << withMemory(nlohmann::json::parse(r.toJson()), r.device).dump() << std::endl;
    } else {
        std::printf("%s (%s, seqlen %lld): perplexity %.4f  mean NLL %.5f nats  over %lld tokens in "
                    "%lld windows\n",
                    r.dataset.c_str(), r.protocol.c_str(), (long long)r.seqlen, r.perplexity, r.meanNll,
                    (long long)r.tokens, (long long)r.windows);
        std::printf("%s, %s: load %.2fs, tokenize %.2fs, forward %.2fs, total %.2fs\n", r.deviceName.c_str(),
                    r.dtype.c_str(), r.loadSeconds, r.tokenizeSeconds, r.forwardSeconds, r.totalSeconds);
        if (r.streamed)
            std::printf("layer-streamed (%s): %lld windows per pass over the layers\n",
                        params.offload ? "--offload" : r.streamedReason.c_str(), (long long)r.windowsPerPass);
        std::printf("memory: peak RSS %s, %s at the start (planned for the job's data %s)\n",
                    byteSizeText(r.peakHostBytes).c_str(), byteSizeText(r.startHostBytes).c_str(),
                    byteSizeText(r.plannedHostBytes).c_str());
    }
    return 0;
}

} // namespace mpq::cli
