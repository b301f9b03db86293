#include "eval/Perplexity.h"

#include "core/Error.h"
#include "core/detail/TorchDevice.h"
#include "data/TextSources.h"
#include "eval/Windows.h"
#include "eval/detail/WindowRunner.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"
#include "pipeline/ResultFolder.h"
#include "pipeline/detail/QuantizedRun.h"
#include "tokenizer/ModelTokenizer.h"

#include <c10/core/InferenceMode.h>

#include <chrono>
#include <future>
#include <tuple>
#include <cmath>

namespace mpq {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool looksLikeWikitext(const std::string& name, const std::string& path)
{
    return name == "wikitext2" || path.find("wiki.") != std::string::npos;
}

} // namespace

namespace eval {

std::vector<Window> buildWindows(const EvalParams& p, const Tokenizer& tok, int64_t seqlen,
                                 const std::string& path,
                                 int64_t* inputTokens)
{
    const Protocol protocol = parseProtocol(p.protocol);
    const bool jsonLines = p.dataset == "c4" || data::isJsonLines(path);
    std::vector<std::string> documents;
    std::string text;
    if (jsonLines) {
        const int64_t limit = (p.dataset == "c4" && protocol != Protocol::Documents) ? p.c4Documents : -1;
        documents = data::readJsonLinesTexts(path, limit);
    } else if (looksLikeWikitext(p.dataset, path)) {
        text = data::loadWikitext2(path);
    } else {
        text = data::readUtf8File(path);
    }

    if (protocol == Protocol::Documents) {
        if (!jsonLines)
            documents = data::splitDocuments(text);
        std::vector<std::vector<int32_t>> encoded;
        *inputTokens = 0;
        for (const auto& d : documents) {
            encoded.push_back(tok.encodeForModel(d));
            *inputTokens += int64_t(encoded.back().size());
        }
        return documentWindows(encoded, seqlen);
    }
    if (jsonLines) { // GPTQ's c4-new: ' '.join(documents)
        for (size_t i = 0; i < documents.size(); ++i)
            text += (i ? " " : "") + documents[i];
    }
    std::vector<int32_t> ids = tok.encodeForModel(text);
    *inputTokens = int64_t(ids.size());
    if (p.dataset == "c4" && protocol == Protocol::Gptq && int64_t(ids.size()) > p.c4Windows * seqlen)
        ids.resize(static_cast<size_t>(p.c4Windows * seqlen));
    return protocol == Protocol::Gptq ? gptqWindows(ids, seqlen) : slidingWindows(ids, seqlen, p.stride);
}

} // namespace eval

EvalResult evaluatePerplexity(const EvalParams& p, JobContext& ctx)
{
    const auto t0 = std::chrono::steady_clock::now();
    checkDevice(p.device);
    eval::parseProtocol(p.protocol); // fail fast on a typo, before loading anything
    if (p.seqlen < 2)
        throw Error("--seqlen must be at least 2");
    const std::string dataDir = p.dataDir.empty() ? data::dataDirectory() : p.dataDir;
    const std::string path = data::resolveEvalSet(p.dataset, dataDir);

    ctx.start("open model");
    // A quantization result evaluates as its base model with the dequantized matrices.
    const bool isResult = isQuantizedRun(p.model);
    std::unique_ptr<detail::QuantizedRun> run;
    if (isResult)
        run = detail::openQuantizedRun(p.model);
    const ModelSource source = ModelSource::open(isResult ? run->modelPath() : p.model, p.tokenizer);
    for (const auto& note : source.notes())
        ctx.warn(note);
    const auto tok = openModelTokenizer(source);

    int64_t seqlen = p.seqlen;
    if (seqlen > source.config().maxPositions) {
        ctx.warn("sequence length " + std::to_string(seqlen) + " capped at the model's maximum " +
                 std::to_string(source.config().maxPositions));
        seqlen = source.config().maxPositions;
    }

    EvalResult r;
    r.protocol = p.protocol;
    r.dataset = p.dataset;
    r.datasetPath = path;
    r.device = p.device;
    r.deviceName = deviceDescription(p.device);
    r.dtype = dtypeName(p.dtype);
    r.seqlen = seqlen;

    // Tokenizing (CPU) and loading the weights (I/O, device start-up) overlap.
    ctx.start("load weights");
    const auto tTok = std::chrono::steady_clock::now();
    auto tokenized = std::async(std::launch::async, [&] {
        int64_t inputTokens = 0;
        auto w = eval::buildWindows(p, *tok, seqlen, path, &inputTokens);
        return std::make_tuple(std::move(w), inputTokens, secondsSince(tTok));
    });

    c10::InferenceMode guard;
    const auto tLoad = std::chrono::steady_clock::now();
    const at::Device device = detail::torchDevice(p.device);
    detail::WeightOverrides overrides;
    if (isResult)
        overrides = detail::runOverrides(*run);
    const detail::LlamaModel model(source, device, detail::scalarType(p.dtype), &ctx,
                                   isResult ? &overrides : nullptr);
    detail::synchronize(device);
    r.loadSeconds = secondsSince(tLoad);

    auto [windows, inputTokens, tokenizeSeconds] = tokenized.get();
    r.inputTokens = inputTokens;
    r.tokenizeSeconds = tokenizeSeconds;
    if (p.maxWindows > 0 && int64_t(windows.size()) > p.maxWindows)
        windows.resize(static_cast<size_t>(p.maxWindows));
    if (windows.empty())
        throw Error(path + ": too little text for one window of " + std::to_string(seqlen) + " tokens");

    ctx.start("eval " + p.dataset);
    const auto tFwd = std::chrono::steady_clock::now();
    const auto sums = eval::detail::runWindows(model, windows, p.batchSize, ctx);
    r.forwardSeconds = secondsSince(tFwd);

    r.tokens = sums.tokens;
    r.windows = int64_t(windows.size());
    r.meanNll = sums.nll / double(sums.tokens);
    r.perplexity = std::exp(r.meanNll);
    if (!std::isfinite(r.meanNll))
        throw Error(p.model + ": perplexity on " + p.dataset + " is not a finite number (mean NLL " +
                    std::to_string(r.meanNll) + "): the model's outputs hold NaN or Inf" +
                    (p.dtype == DType::F32 ? "; check its weights" : "; try --dtype fp32, else check its weights"));
    r.totalSeconds = secondsSince(t0);
    return r;
}

} // namespace mpq
