#include "MemoryOptions.h"
#include "Args.h"
#include "Commands.h"
#include "Terminal.h"
#include "Validate.h"

#include "eval/Bench.h"
#include "eval/Perplexity.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace mpq::cli {

void addEvalOptions(Args& args);
EvalParams evalParamsFrom(const Args& args, const std::string& model);
void checkEvalInputs(const Args& args, const EvalParams& p, bool needsDataset, int64_t forwardBatch);

int runBench(const std::vector<std::string>& argv)
{
    Args args("bench", "Benchmarks a model: forward-pass throughput on random tokens, then the wall time of\n"
                       "a full perplexity evaluation (model load and tokenization included).");
    args.positional("MODEL", "Hugging Face folder or llama2.c .bin checkpoint");
    addEvalOptions(args);
    args.option("forward-batch", "N", "sequences per forward pass in the throughput test", "1");
    args.option("iterations", "N", "timed forward passes", "3");
    args.flag("skip-eval", "measure forward throughput only");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;

    const EvalParams evalParams = evalParamsFrom(args, args.get("MODEL"));
    const int64_t forwardBatch = intIn(args, "forward-batch", 1, 1000000);
    intIn(args, "iterations", 1, 1000000);
    checkEvalInputs(args, evalParams, !args.has("skip-eval"), forwardBatch);
    JobContext ctx;
    attachToTerminal(ctx);

    ForwardBenchParams fp;
    fp.model = evalParams.model;
    fp.device = evalParams.device;
    fp.dtype = evalParams.dtype;
    fp.seqlen = evalParams.seqlen;
    fp.batchSize = args.getInt("forward-batch");
    fp.iterations = int(args.getInt("iterations"));
    const ForwardBenchResult f = benchmarkForward(fp, ctx);
    endProgressLine();

    nlohmann::json j = {{"device", f.deviceName},
                        {"dtype", dtypeName(fp.dtype)},
                        {"forward", {{"tokens_per_second", f.tokensPerSecond},
                                     {"seconds_per_pass", f.secondsPerIteration},
                                     {"tokens_per_pass", f.tokensPerIteration}}}};
    if (!args.has("json"))
        std::printf("forward: %.0f tokens/s (%lld tokens per pass, %.3f s per pass) on %s, %s\n",
                    f.tokensPerSecond, (long long)f.tokensPerIteration, f.secondsPerIteration,
                    f.deviceName.c_str(), dtypeName(fp.dtype));
    if (!args.has("skip-eval")) {
        const auto t0 = std::chrono::steady_clock::now();
        const EvalResult r = evaluatePerplexity(evalParams, ctx);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        endProgressLine();
        j["eval"] = {{"dataset", r.dataset}, {"protocol", r.protocol}, {"perplexity", r.perplexity},
                     {"tokens", r.tokens}, {"wall_seconds", wall}, {"load_seconds", r.loadSeconds},
                     {"tokenize_seconds", r.tokenizeSeconds}, {"forward_seconds", r.forwardSeconds},
                     {"eval_tokens_per_second", double(r.windows * r.seqlen) / r.forwardSeconds}};
        if (!args.has("json"))
            std::printf("eval %s (%s): perplexity %.4f, wall %.2f s (load %.2f, tokenize %.2f, forward %.2f)\n",
                        r.dataset.c_str(), r.protocol.c_str(), r.perplexity, wall, r.loadSeconds,
                        r.tokenizeSeconds, r.forwardSeconds);
    }
    if (args.has("json"))
        std::cout << withMemory(j, evalParams.device).dump() << std::endl;
    return 0;
}

} // namespace mpq::cli
