#include "alloc/mxq/detail/LossProbe.h"

#include "core/Error.h"
#include "model/detail/WeightLoader.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>

namespace mpq::detail {

LossProbe::LossProbe(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
                     const at::Device& device, int64_t batch)
    : m_source(source), m_device(device), m_batch(std::max<int64_t>(1, batch))
{
    if (windows.empty() || windows.front().size() < 2)
        throw Error("loss probe: no calibration windows");
    c10::InferenceMode guard;
    const ModelConfig& c = source.config();
    const int64_t n = int64_t(windows.size());
    const int64_t tokens = int64_t(windows.front().size());
    m_ids = at::empty({n, tokens}, at::TensorOptions().dtype(at::kLong));
    auto acc = m_ids.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i) {
        if (int64_t(windows[size_t(i)].size()) != tokens)
            throw Error("loss probe: windows of different lengths");
        for (int64_t t = 0; t < tokens; ++t)
            acc[i][t] = windows[size_t(i)][size_t(t)];
    }
    m_ids = m_ids.to(device);
    m_rope = Rope::build(c, tokens, device);
    const at::Tensor embed = loadTensor(source, llama::embedTensor(), at::kFloat, device);
    m_norm = loadTensor(source, llama::finalNormTensor(), at::kFloat, device);
    m_head = c.tieWordEmbeddings ? embed : loadTensor(source, llama::lmHeadTensor(), at::kFloat, device);
    at::Tensor h = at::embedding(embed, m_ids);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        m_layers.push_back(loadLayer(source, l, at::kFloat, device));
        m_inputs.push_back(h);
        std::vector<at::Tensor> out;
        for (int64_t b = 0; b < n; b += m_batch)
            out.push_back(decoderLayer(c, m_layers.back(), h.slice(0, b, std::min(n, b + m_batch)), m_rope));
        h = at::cat(out, 0);
    }
    m_final = h;
    at::Tensor nll = at::zeros({}, at::TensorOptions().dtype(at::kDouble));
    for (int64_t b = 0; b < n; b += m_batch) {
        const int64_t e = std::min(n, b + m_batch);
        const at::Tensor part = nllFromHidden(c, m_norm, m_head, h.slice(0, b, e), m_ids.slice(0, b, e));
        nll += part.sum(at::kDouble).cpu();
    }
    m_baseline = nll.item<double>() / double(n * (tokens - 1));
}

double LossProbe::run(int64_t from, const LayerWeights& first) const
{
    const ModelConfig& c = m_source.config();
    const int64_t n = m_ids.size(0);
    double sum = 0;
    for (int64_t b = 0; b < n; b += m_batch) {
        const int64_t e = std::min(n, b + m_batch);
        at::Tensor h = decoderLayer(c, first, m_inputs[size_t(from)].slice(0, b, e), m_rope);
        for (int64_t l = from + 1; l < c.numLayers; ++l)
            h = decoderLayer(c, m_layers[size_t(l)], h, m_rope);
        sum += nllFromHidden(c, m_norm, m_head, h, m_ids.slice(0, b, e)).sum(at::kDouble).item<double>();
    }
    return sum / double(n * (m_ids.size(1) - 1));
}

double LossProbe::loss(int64_t layer, const llama::LinearSpec& linear, const at::Tensor& What) const
{
    c10::InferenceMode guard;
    if (layer < 0 || layer >= int64_t(m_layers.size()))
        throw Error("loss probe: no decoder layer " + std::to_string(layer));
    LayerWeights w = m_layers[size_t(layer)]; // shares every tensor but the one replaced
    at::Tensor& slot = w.weight(linear);
    TORCH_CHECK(slot.sizes() == What.sizes(), "loss probe: ", linear.tensor, " is ", slot.sizes(),
                ", the replacement ", What.sizes());
    slot = What.to(m_device, at::kFloat);
    return run(layer, w);
}

double LossProbe::planLoss(const WeightOf& weightOf, const JobContext* ctx, double* kl) const
{
    c10::InferenceMode guard;
    const ModelConfig& c = m_source.config();
    std::vector<LayerWeights> layers = m_layers; // shares every tensor not replaced
    for (int64_t l = 0; l < c.numLayers; ++l)
        for (const llama::LinearSpec& s : llama::layerLinears(c, l)) {
            const at::Tensor What = weightOf(l, s);
            if (!What.defined())
                continue;
            at::Tensor& slot = layers[size_t(l)].weight(s);
            TORCH_CHECK(slot.sizes() == What.sizes(), "loss probe: ", s.tensor, " is ", slot.sizes(),
                        ", the replacement ", What.sizes());
            slot = What.to(m_device, at::kFloat);
        }
    const int64_t n = m_ids.size(0), T = m_ids.size(1) - 1;
    double sum = 0, klSum = 0;
    for (int64_t b = 0; b < n; b += m_batch) {
        const int64_t e = std::min(n, b + m_batch);
        at::Tensor h = m_inputs.front().slice(0, b, e);
        for (int64_t l = 0; l < c.numLayers; ++l) {
            if (ctx)
                ctx->checkCancelled();
            h = decoderLayer(c, layers[size_t(l)], h, m_rope);
        }
        sum += nllFromHidden(c, m_norm, m_head, h, m_ids.slice(0, b, e)).sum(at::kDouble).item<double>();
        if (kl) {
            // The positions the NLL scores, in chunks of at most kKlChunkElements logits, so that
            // the two log-softmaxes and their difference stay small (LossProbe.h).
            const at::Tensor ref = m_final.slice(0, b, e);
            const int64_t chunk = std::max<int64_t>(1, kKlChunkElements / ((e - b) * c.vocabSize));
            for (int64_t t0 = 0; t0 < T; t0 += chunk) {
                const int64_t t1 = std::min(T, t0 + chunk);
                auto logProbs = [&](const at::Tensor& hidden) {
                    return at::log_softmax(
                        applyLinear(rmsNorm(hidden.slice(1, t0, t1), m_norm, c.rmsNormEps), m_head).to(at::kFloat), -1);
                };
                const at::Tensor p = logProbs(ref), q = logProbs(h);
                klSum += (p.exp() * (p - q)).sum(at::kDouble).item<double>();
            }
        }
    }
    if (kl)
        *kl = klSum / double(n * T);
    return sum / double(n * T);
}

} // namespace mpq::detail
