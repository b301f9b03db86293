#include "eval/Perplexity.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/detail/TorchDevice.h"
#include "data/TextSources.h"
#include "eval/Windows.h"
#include "eval/detail/WindowRunner.h"
#include "core/detail/DeviceMemory.h"
#include "model/MemoryPlan.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "model/detail/LlamaModel.h"
#include "runs/StoredRun.h"
#include "runs/detail/QuantizedRun.h"
#include "tokenizer/ModelTokenizer.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <optional>
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
        throw SettingError("seqlen", "the window length (seqlen) must be at least 2");
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

    // The memory plan: resident (the whole model on the device) or layer-streamed. Whether the
    // resident plan fits does not depend on the number of windows, so it is decided first and
    // tokenizing (CPU) overlaps loading the weights (I/O, device start-up); a streamed plan waits
    // for the windows and is made before any weight is read.
    ctx.start("load weights");
    const auto tTok = std::chrono::steady_clock::now();
    auto tokenized = std::async(std::launch::async, [&] {
        int64_t inputTokens = 0;
        auto w = eval::buildWindows(p, *tok, seqlen, path, &inputTokens);
        return std::make_tuple(std::move(w), inputTokens, secondsSince(tTok));
    });

    // Without a limit the machine's memory decides (the device's on CUDA, else the host's).
    const bool limited = p.budget.limitsHost() || p.budget.limitsDevice();
    MemoryBudget budget = p.budget;
    if (!budget.limitsHost() && physicalHostBytes() > 0)
        budget.hostBytes = physicalHostBytes();
    if (!budget.limitsDevice() && deviceTotalBytes(p.device) > 0)
        budget.deviceBytes = deviceTotalBytes(p.device);
    EvalShape shape;
    shape.windows = int64_t(1) << 40; // unknown yet: the resident plan does not depend on it
    shape.seqlen = seqlen;
    shape.batchAsked = p.batchSize;
    shape.offload = p.offload;
    shape.quantizedRun = isResult;
    std::optional<EvalMemoryPlan> plan;
    try {
        plan = planEvalMemory(source.config(), p.dtype, p.device, shape, budget);
        if (plan->streamed)
            plan.reset(); // planned again below with the real number of windows
    } catch (const MemoryBudgetError&) {
    }
    auto finishPlan = [&](int64_t windows) {
        shape.windows = windows;
        try {
            return planEvalMemory(source.config(), p.dtype, p.device, shape, budget);
        } catch (const MemoryBudgetError&) {
            if (limited)
                throw;
            // Only the machine's size was exceeded: try the smallest streamed plan anyway.
            shape.offload = true;
            EvalMemoryPlan streamed = planEvalMemory(source.config(), p.dtype, p.device, shape, MemoryBudget{});
            streamed.reason = "the model does not fit this machine's memory";
            return streamed;
        }
    };

    c10::InferenceMode guard;
    const at::Device device = detail::torchDevice(p.device);
    const at::ScalarType dtype = detail::scalarType(p.dtype);
    detail::resetPeakDeviceBytes(device);
    if (p.budget.limitsHost())
        returnFreedMemoryPromptly();
    resetPeakHostBytes();
    r.startHostBytes = currentHostBytes();
    std::unique_ptr<detail::LlamaModel> model;
    const auto tLoad = std::chrono::steady_clock::now();
    if (plan) {
        detail::WeightOverrides overrides;
        if (isResult)
            overrides = detail::runOverrides(*run);
        model = std::make_unique<detail::LlamaModel>(source, device, dtype, &ctx, isResult ? &overrides : nullptr);
        detail::synchronize(device);
    }
    r.loadSeconds = secondsSince(tLoad);

    auto [windows, inputTokens, tokenizeSeconds] = tokenized.get();
    r.inputTokens = inputTokens;
    r.tokenizeSeconds = tokenizeSeconds;
    if (p.maxWindows > 0 && int64_t(windows.size()) > p.maxWindows)
        windows.resize(static_cast<size_t>(p.maxWindows));
    if (windows.empty())
        throw Error(path + ": too little text for one window of " + std::to_string(seqlen) + " tokens");
    if (!plan)
        plan = finishPlan(int64_t(windows.size()));
    r.streamed = plan->streamed;
    r.streamedReason = plan->reason;
    r.windowsPerPass = plan->streamed ? plan->windowsPerPass : 0;
    r.plannedHostBytes = plan->hostBytes;
    r.plannedDeviceBytes = plan->deviceBytes;
    r.memoryPlan = plan->breakdown;
    // The plan's batch applies where a limit made it smaller than the automatic one; otherwise the
    // automatic batch is kept (per window length, as before).
    const int64_t batch = p.batchSize > 0 ? p.batchSize : limited ? plan->batch : 0;

    ctx.start("eval " + p.dataset);
    const auto tFwd = std::chrono::steady_clock::now();
    eval::detail::NllSums sums;
    if (!plan->streamed) {
        r.batch = batch;
        sums = eval::detail::runWindows(*model, windows, batch, ctx);
    } else {
        const ModelConfig& c = source.config();
        eval::detail::StreamedWeights weights;
        weights.embedding = [&] { return detail::loadTensor(source, llama::embedTensor(), dtype, device); };
        weights.layer = [&](int64_t i) {
            detail::LayerWeights w;
            if (!isResult) {
                w = detail::loadLayer(source, i, dtype, device);
            } else {
                const detail::WeightOverrides o = detail::layerOverrides(*run, i);
                w = detail::loadLayer(source, i, dtype, device, &o);
            }
            detail::prefetchLayer(source, i + 1); // read-ahead while this layer runs
            return w;
        };
        weights.head = [&] {
            return std::make_pair(detail::loadTensor(source, llama::finalNormTensor(), dtype, device),
                                  detail::loadTensor(source, c.tieWordEmbeddings ? llama::embedTensor()
                                                                                 : llama::lmHeadTensor(),
                                                     dtype, device));
        };
        eval::detail::StreamedLayout layout;
        size_t longest = 0;
        for (const auto& w : windows)
            longest = std::max(longest, w.ids.size());
        layout.batch = batch > 0 ? batch : eval::detail::automaticBatch(c, int64_t(longest), device);
        layout.windowsPerPass = plan->windowsPerPass;
        layout.hiddenOnHost = plan->hiddenOnHost;
        r.batch = layout.batch;
        sums = eval::detail::runWindowsStreamed(c, weights, device, windows, layout, ctx);
    }
    detail::synchronize(device);
    r.forwardSeconds = secondsSince(tFwd);
    r.peakHostBytes = peakHostBytes();
    r.peakDeviceBytes = detail::peakDeviceBytes(device);

    r.tokens = sums.tokens;
    r.windows = int64_t(windows.size());
    r.meanNll = sums.nll / double(sums.tokens);
    r.windowMeanNll = std::move(sums.windowMeanNll);
    r.perplexity = std::exp(r.meanNll);
    if (!std::isfinite(r.meanNll))
        throw Error(p.model + ": perplexity on " + p.dataset + " is not a finite number (mean NLL " +
                    std::to_string(r.meanNll) + "): the model's outputs hold NaN or Inf" +
                    (p.dtype == DType::F32 ? "; check its weights" : "; try the fp32 dtype, else check its weights"));
    r.totalSeconds = secondsSince(t0);
    return r;
}

} // namespace mpq
