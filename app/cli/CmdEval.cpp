#include "Args.h"
#include "Commands.h"
#include "Terminal.h"

#include "eval/Perplexity.h"
#include "eval/Windows.h"

#include <nlohmann/json.hpp>

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
    args.option("tokenizer", "PATH", "tokenizer .model to use instead of the one beside the model");
    args.option("data-dir", "DIR", "shared data directory (default: $MPQ_DATA_DIR, else ../shared/data)");
}

EvalParams evalParamsFrom(const Args& args, const std::string& model)
{
    EvalParams p;
    p.model = model;
    p.tokenizer = args.get("tokenizer");
    p.dataset = args.get("dataset");
    p.protocol = args.get("protocol");
    p.seqlen = args.getInt("seqlen");
    p.stride = args.getInt("stride");
    p.device = args.get("device");
    p.dtype = parseDTypeOption(args.get("dtype"));
    checkDeviceOption(p.device);
    try {
        eval::parseProtocol(p.protocol);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    p.batchSize = args.getInt("batch-size");
    p.maxWindows = args.getInt("max-windows");
    p.dataDir = args.get("data-dir");
    return p;
}

nlohmann::json evalResultJson(const EvalResult& r)
{
    return {{"perplexity", r.perplexity},   {"mean_nll", r.meanNll},
            {"tokens", r.tokens},           {"windows", r.windows},
            {"input_tokens", r.inputTokens}, {"protocol", r.protocol},
            {"dataset", r.dataset},         {"dataset_path", r.datasetPath},
            {"seqlen", r.seqlen},           {"device", r.device},
            {"device_name", r.deviceName},  {"dtype", r.dtype},
            {"seconds", {{"load", r.loadSeconds}, {"tokenize", r.tokenizeSeconds},
                         {"forward", r.forwardSeconds}, {"total", r.totalSeconds}}}};
}

int runEval(const std::vector<std::string>& argv)
{
    Args args("eval", "Measures perplexity of a model on a text set under a named protocol\n"
                      "(docs/eval-protocols.md). Progress goes to stderr; Ctrl-C stops cleanly.");
    args.positional("MODEL", "Hugging Face folder or llama2.c .bin checkpoint");
    addEvalOptions(args);
    args.flag("json", "print one JSON object on stdout (perplexity, mean_nll, tokens, ...)");
    if (!args.parse(argv))
        return 0;

    const EvalParams params = evalParamsFrom(args, args.get("MODEL"));
    JobContext ctx;
    attachTerminalReporter(ctx);
    installInterruptHandler(ctx);
    const EvalResult r = evaluatePerplexity(params, ctx);
    endProgressLine();
    if (args.has("json")) {
        std::cout << evalResultJson(r).dump() << std::endl;
    } else {
        std::printf("%s (%s, seqlen %lld): perplexity %.4f  mean NLL %.5f nats  over %lld tokens in "
                    "%lld windows\n",
                    r.dataset.c_str(), r.protocol.c_str(), (long long)r.seqlen, r.perplexity, r.meanNll,
                    (long long)r.tokens, (long long)r.windows);
        std::printf("%s, %s: load %.2fs, tokenize %.2fs, forward %.2fs, total %.2fs\n", r.deviceName.c_str(),
                    r.dtype.c_str(), r.loadSeconds, r.tokenizeSeconds, r.forwardSeconds, r.totalSeconds);
    }
    return 0;
}

} // namespace mpq::cli
