#include "eval/ModelSampler.h"

#include "core/Device.h"
#include "core/Error.h"
#include "core/Memory.h"
#include "core/detail/TorchDevice.h"
#include "data/PyRandom.h"
#include "model/detail/LlamaModel.h"
#include "tokenizer/ModelTokenizer.h"
#include "tokenizer/Tokenizer.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

namespace mpq {

namespace {

/// How the model's documents start and end.
struct DocumentTokens {
    std::vector<int32_t> start;
    int32_t eos = -1;
};

/// The start: the tokenizer's ids for an empty text (BOS where it has one), else the end-of-text
/// token (Qwen's documents are separated by it), else the config's BOS.
DocumentTokens documentTokens(const ModelSource& source)
{
    std::vector<int32_t> start;
    int32_t eos = source.config().eosTokenId;
    try {
        const auto tok = openModelTokenizer(source);
        start = tok->encodeForModel("");
        if (tok->eosId() >= 0)
            eos = tok->eosId();
    } catch (const Error&) {
        // No tokenizer beside the model: the config's ids.
    }
    if (start.empty() && eos >= 0)
        start = {eos};
    if (start.empty() && source.config().bosTokenId >= 0)
        start = {source.config().bosTokenId};
    if (start.empty())
        throw Error("sampling from the model: it has neither a BOS nor an end-of-text token to start a document with");
    return {start, eos};
}

/// Index drawn from softmax(row / temperature) with the uniform number u in [0, 1).
int32_t drawToken(const float* row, int64_t vocab, double temperature, double u)
{
    const float top = *std::max_element(row, row + vocab);
    std::vector<double> cumulative(static_cast<size_t>(vocab));
    double total = 0;
    for (int64_t i = 0; i < vocab; ++i) {
        total += std::exp((double(row[i]) - double(top)) / temperature);
        cumulative[size_t(i)] = total;
    }
    const double target = u * total;
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
    return int32_t(std::min<int64_t>(vocab - 1, it - cumulative.begin()));
}

} // namespace

int64_t sampleFromModelBytes(const ModelConfig& c, int64_t windows, int64_t seqlen, int64_t elementBytes)
{
    const int64_t cache = 2 * c.numLayers * windows * seqlen * c.numKvHeads * c.headDim * elementBytes;
    return c.totalParameters() * elementBytes + cache + windows * c.vocabSize * 4 * 3;
}

CalibrationSet sampleFromModel(const ModelSource& source, const ModelSampleParams& p, JobContext& ctx)
{
    const ModelConfig& cfg = source.config();
    if (p.windows < 1 || p.seqlen < 2)
        throw Error("sampling from the model needs at least 1 window of at least 2 tokens");
    if (!(p.temperature > 0) || !std::isfinite(p.temperature))
        throw Error("sampling from the model needs a positive temperature");
    if (p.seqlen > cfg.maxPositions)
        throw Error("sampling from the model: windows of " + std::to_string(p.seqlen) +
                    " tokens exceed its context of " + std::to_string(cfg.maxPositions));
    checkDevice(p.device);
    const DocumentTokens doc = documentTokens(source);
    const std::vector<int32_t>& start = doc.start;
    const int32_t eos = doc.eos;

    c10::InferenceMode guard;
    const at::Device device = detail::torchDevice(p.device);
    const at::ScalarType dtype = device.is_cuda() ? at::kHalf : at::kFloat;
    // The whole model is resident, with every layer's keys and values and a step's logits: say so
    // before loading rather than run out of memory (a 70B model needs a larger device).
    const int64_t need = sampleFromModelBytes(cfg, p.windows, p.seqlen, device.is_cuda() ? 2 : 4);
    const int64_t have = device.is_cuda() ? deviceTotalBytes(p.device) / 10 * 9 : physicalHostBytes() / 10 * 9;
    if (have > 0 && need > have)
        throw Error("sampling calibration text from the model needs about " + byteSizeText(need) + " on " + p.device +
                    " (the whole model resident, with its key/value cache), more than the " + byteSizeText(have) +
                    " there; calibrate with c4, wikitext2 or a file instead, or sample on a larger device");
    ctx.start("loading the model to sample calibration text");
    const detail::LlamaModel model(source, device, dtype, &ctx);

    // After an end-of-text token a document starts again; where the start is that token itself
    // (Qwen), the token already drawn is the start.
    const std::vector<int32_t> restart(start.begin() + (start.front() == eos ? 1 : 0), start.end());
    const int64_t B = p.windows, L = p.seqlen;
    // Every window starts with the document start; tokens still to be fed without a draw (the
    // rest of a start, at first and after each end-of-text token) wait in `pending`.
    std::vector<std::vector<int32_t>> windows(size_t(B), std::vector<int32_t>{start.front()});
    std::vector<std::vector<int32_t>> pending(size_t(B), std::vector<int32_t>(start.begin() + 1, start.end()));
    data::PyRandom rng(p.seed);
    std::vector<detail::LayerKv> cache;
    ctx.start("sampling calibration text");
    std::vector<int64_t> last(static_cast<size_t>(B));
    while (int64_t(windows.front().size()) < L) {
        ctx.checkCancelled();
        for (int64_t b = 0; b < B; ++b)
            last[size_t(b)] = windows[size_t(b)].back();
        const at::Tensor ids = at::tensor(last, at::TensorOptions().dtype(at::kLong)).view({B, 1}).to(device);
        const at::Tensor logits = model.nextLogits(ids, cache, L).cpu().contiguous();
        const int64_t vocab = logits.size(1);
        const float* data = logits.data_ptr<float>();
        for (int64_t b = 0; b < B; ++b) {
            auto& w = windows[size_t(b)];
            auto& todo = pending[size_t(b)];
            const double u = rng.random(); // one draw per window and position, used or not
            if (!todo.empty()) {
                w.push_back(todo.front());
                todo.erase(todo.begin());
                continue;
            }
            const int32_t t = drawToken(data + b * vocab, vocab, p.temperature, u);
            w.push_back(t);
            if (t == eos)
                todo = restart;
        }
        ctx.report(int64_t(windows.front().size()), L, "tokens", std::to_string(B) + " windows");
    }
    CalibrationSet set;
    set.windows = std::move(windows);
    set.sourcePath = source.path();
    set.description = std::to_string(B) + " x " + std::to_string(L) + " tokens sampled from the model (seed " +
                      std::to_string(p.seed) + ", temperature " + std::to_string(p.temperature).substr(0, 4) + ", " +
                      p.device + ")";
    return set;
}

CalibrationSet modelCalibration(const ModelSource& source, const CalibrationParams& params,
                                const std::string& device, JobContext& ctx)
{
    const ModelConfig& cfg = source.config();
    if (!params.tokensFile.empty())
        return loadCalibrationTokens(params.tokensFile, int32_t(cfg.vocabSize));
    CalibrationParams cp = params;
    cp.seqlen = std::min(cp.seqlen, cfg.maxPositions);
    const std::vector<std::string> parts = calibrationSourceParts(cp.source);
    if (parts.size() > 1) {
        // A mixture: part j gives its share of the windows, and the windows alternate between the
        // parts, so that any leading share (probed's cost windows) holds every part.
        const int64_t k = int64_t(parts.size());
        if (cp.nsamples < k)
            throw Error("calibration from " + cp.source + " needs at least " + std::to_string(k) + " windows");
        std::vector<CalibrationSet> sets;
        for (int64_t j = 0; j < k; ++j) {
            CalibrationParams one = cp;
            one.source = parts[size_t(j)];
            one.nsamples = cp.nsamples / k + (j < cp.nsamples % k ? 1 : 0);
            sets.push_back(modelCalibration(source, one, device, ctx));
        }
        CalibrationSet mixed;
        for (size_t i = 0; i < sets.front().windows.size(); ++i)
            for (auto& s : sets)
                if (i < s.windows.size())
                    mixed.windows.push_back(std::move(s.windows[i]));
        for (size_t j = 0; j < sets.size(); ++j) {
            mixed.sourcePath += (j ? " + " : "") + sets[j].sourcePath;
            mixed.description += (j ? ", alternating with " : "") + sets[j].description;
        }
        return mixed;
    }
    if (cp.source == kSelfCalibration) {
        ModelSampleParams sp;
        sp.windows = cp.nsamples;
        sp.seqlen = cp.seqlen;
        sp.seed = cp.seed;
        sp.device = device;
        return sampleFromModel(source, sp, ctx);
    }
    return sampleCalibration(cp, *openModelTokenizer(source), ctx);
}

} // namespace mpq
