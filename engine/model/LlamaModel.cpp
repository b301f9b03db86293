#include "model/detail/LlamaModel.h"

#include "model/detail/WeightLoader.h"

#include "core/Files.h"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpq::detail {

namespace {

at::Tensor loadOrOverride(const ModelSource& source, const std::string& name, at::ScalarType dtype,
                          const at::Device& device, const WeightOverrides* overrides)
{
    if (overrides) {
        auto it = overrides->find(name);
        if (it != overrides->end())
            return it->second.to(device, dtype).contiguous();
    }
    return loadTensor(source, name, dtype, device);
}

at::Tensor rotateHalf(const at::Tensor& x)
{
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

#if TORCH_VERSION_MAJOR >= 2
/// Keys a query may see: causal, and within the window when one is set (the fused attention's mask).
at::Tensor allowedKeys(int64_t T, int64_t window, const at::Device& device)
{
    const auto opt = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor q = at::arange(T, opt).unsqueeze(1), k = at::arange(T, opt).unsqueeze(0);
    at::Tensor allowed = k.le(q);
    if (window > 0)
        allowed = allowed.logical_and(k.gt(q - window)); // transformers: kv_idx > q_idx - sliding_window
    return allowed;
}
#endif

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t window)
{
    // q: [B, nh, T, hd]; k, v: [B, nh, T, hd] (key/value heads already repeated).
    const int64_t T = q.size(2);
    const bool windowed = window > 0 && window < T;
#if TORCH_VERSION_MAJOR >= 2
    if (windowed)
        return at::scaled_dot_product_attention(q, k, v, allowedKeys(T, window, q.device()), 0.0, false);
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
#else
    // Older LibTorch has no fused attention. Query blocks keep the score matrix small (it stays
    // in cache and in the allocator's heap instead of fresh mmaps) and skip the masked keys
    // entirely; softmax runs in fp32 as Hugging Face's eager attention does.
    const bool upcast = q.device().is_cpu() && q.scalar_type() != at::kFloat;
    const at::ScalarType work = upcast ? at::kFloat : q.scalar_type();
    const at::Tensor qw = q.to(work), kw = k.to(work), vw = v.to(work);
    const double scale = 1.0 / std::sqrt(double(q.size(-1)));
    const int64_t block = 256;
    const auto longs = at::TensorOptions().dtype(at::kLong).device(q.device());
    std::vector<at::Tensor> outputs;
    for (int64_t i0 = 0; i0 < T; i0 += block) {
        const int64_t i1 = std::min(T, i0 + block);
        const int64_t k0 = windowed ? std::max<int64_t>(0, i0 - window + 1) : 0;
        at::Tensor scores = at::matmul(qw.slice(2, i0, i1), kw.slice(2, k0, i1).transpose(-1, -2)) * scale;
        // Query i may see keys c with c <= i (and c > i - window).
        const at::Tensor qi = at::arange(i0, i1, longs).unsqueeze(1), kc = at::arange(k0, i1, longs).unsqueeze(0);
        at::Tensor masked = kc.gt(qi);
        if (windowed)
            masked = masked.logical_or(kc.le(qi - window));
        scores.masked_fill_(masked, -std::numeric_limits<float>::infinity());
        const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(work);
        outputs.push_back(at::matmul(probs, vw.slice(2, k0, i1)));
    }
    return at::cat(outputs, 2).to(q.scalar_type());
#endif
}

/// Attention of T new queries at positions P..P+T-1 over keys 0..P+T-1 (decoding with a cache):
/// causal, windowed when `window` > 0; softmax in fp32. q: [B, nh, T, hd]; k, v: [B, nh, P+T, hd].
at::Tensor cachedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t window)
{
    const int64_t T = q.size(2), S = k.size(2), P = S - T;
    const at::ScalarType work = q.device().is_cpu() ? at::kFloat : q.scalar_type();
    const double scale = 1.0 / std::sqrt(double(q.size(-1)));
    at::Tensor scores = at::matmul(q.to(work), k.to(work).transpose(-1, -2)) * scale; // [B, nh, T, S]
    const auto longs = at::TensorOptions().dtype(at::kLong).device(q.device());
    const at::Tensor qi = at::arange(P, S, longs).unsqueeze(1), kc = at::arange(0, S, longs).unsqueeze(0);
    at::Tensor masked = kc.gt(qi);
    if (window > 0)
        masked = masked.logical_or(kc.le(qi - window));
    scores.masked_fill_(masked, -std::numeric_limits<float>::infinity());
    const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(work);
    return at::matmul(probs, v.to(work)).to(q.scalar_type());
}

/// down(silu(gate(x)) · up(x)), reporting the hidden activation to the observer.
at::Tensor swiglu(const MlpWeights& m, const at::Tensor& x, const LinearInputObserver& observer, int expert,
                  bool* stop)
{
    const at::Tensor act = detail::silu(applyLinear(x, m.gate, m.gateBias)) * applyLinear(x, m.up, m.upBias);
    if (observer && !observer({llama::Stage::MlpHidden, expert, act}))
        *stop = true;
    if (*stop)
        return {};
    return applyLinear(act, m.down, m.downBias);
}

/// The mixture-of-experts block on y [B, T, H] (transformers' sparse MoE blocks: each expert runs
/// on the tokens routed to it, its output weighted and summed back in token order).
at::Tensor moeBlock(const ModelConfig& c, const LayerWeights& w, const at::Tensor& y, const LinearInputObserver& observer)
{
    const int64_t H = y.size(-1);
    const at::Tensor flat = y.reshape({-1, H});
    const Routing r = route(c, w, flat);
    const int64_t E = c.moe.numExperts;
    // Token rows and top-k slots of each expert, in token order (as torch.where gives them).
    const at::Tensor hits = at::one_hot(r.experts, E).permute({2, 1, 0}); // [E, k, N]
    std::vector<at::Tensor> tokens(static_cast<size_t>(E)), slots(static_cast<size_t>(E)), inputs(static_cast<size_t>(E));
    const at::Tensor hitCount = hits.sum({1, 2}).cpu();
    const auto counts = hitCount.accessor<int64_t, 1>();
    bool stop = false;
    const bool shared = c.moe.sharedExpertIntermediateSize > 0;
    if (observer && !observer({llama::Stage::MlpInput, llama::kAllTokens, flat}))
        stop = true;
    if (shared && observer && !observer({llama::Stage::MlpInput, llama::kSharedExpert, flat}))
        stop = true;
    for (int64_t e = 0; e < E; ++e) {
        if (counts[e] > 0) {
            const std::vector<at::Tensor> where = at::where(hits[e]); // (slot, token), row-major over [k, N]
            slots[size_t(e)] = where[0];
            tokens[size_t(e)] = where[1];
            inputs[size_t(e)] = flat.index_select(0, tokens[size_t(e)]);
        } else {
            inputs[size_t(e)] = flat.slice(0, 0, 0);
        }
        if (observer && !observer({llama::Stage::MlpInput, int(e), inputs[size_t(e)]}))
            stop = true;
    }
    if (stop)
        return {};

    at::Tensor out = at::zeros_like(flat);
    at::Tensor sharedOut;
    if (shared)
        sharedOut = swiglu(w.shared, flat, observer, llama::kSharedExpert, &stop);
    for (int64_t e = 0; e < E; ++e) {
        if (counts[e] == 0) {
            if (observer && !observer({llama::Stage::MlpHidden, int(e), inputs[size_t(e)]}))
                stop = true;
            continue;
        }
        at::Tensor h = swiglu(w.experts[size_t(e)], inputs[size_t(e)], observer, int(e), &stop);
        if (stop)
            continue;
        const at::Tensor weight =
            r.weights.reshape({-1}).index_select(0, tokens[size_t(e)] * c.moe.topK + slots[size_t(e)]).unsqueeze(-1);
        out.index_add_(0, tokens[size_t(e)], (h * weight).to(out.scalar_type()));
    }
    if (stop)
        return {};
    if (shared)
        out = out + at::sigmoid(applyLinear(flat, w.sharedGate)) * sharedOut;
    return out.view(y.sizes());
}

} // namespace

at::Tensor& LayerWeights::weight(const llama::LinearSpec& s)
{
    if (s.stage == llama::Stage::AttentionInput || s.stage == llama::Stage::AttentionOutput) {
        switch (s.role) {
        case llama::Role::Q: return q;
        case llama::Role::K: return k;
        case llama::Role::V: return v;
        default: return o;
        }
    }
    MlpWeights& m = s.expert == llama::kDense ? mlp : s.expert == llama::kSharedExpert ? shared : experts.at(size_t(s.expert));
    return s.role == llama::Role::Gate ? m.gate : s.role == llama::Role::Up ? m.up : m.down;
}

const at::Tensor& LayerWeights::weight(const llama::LinearSpec& s) const
{
    return const_cast<LayerWeights*>(this)->weight(s);
}

at::Tensor& LayerWeights::bias(const llama::LinearSpec& s)
{
    if (s.stage == llama::Stage::AttentionInput || s.stage == llama::Stage::AttentionOutput) {
        switch (s.role) {
        case llama::Role::Q: return qBias;
        case llama::Role::K: return kBias;
        case llama::Role::V: return vBias;
        default: return oBias;
        }
    }
    MlpWeights& m = s.expert == llama::kDense ? mlp : s.expert == llama::kSharedExpert ? shared : experts.at(size_t(s.expert));
    return s.role == llama::Role::Gate ? m.gateBias : s.role == llama::Role::Up ? m.upBias : m.downBias;
}

namespace {

/// Every tensor of decoder layer `layer` with the field of `w` it fills, in reading order: the one
/// list that loadLayer, prefetchLayer and readLayerToHost share.
template <class Visit>
void visitLayerTensors(const ModelConfig& c, int64_t layer, LayerWeights& w, Visit&& visit)
{
    visit(llama::inputNormTensor(layer), w.inputNorm);
    visit(llama::postAttentionNormTensor(layer), w.postNorm);
    if (c.qkNorm) {
        visit(llama::qNormTensor(layer), w.qNorm);
        visit(llama::kNormTensor(layer), w.kNorm);
    }
    if (c.isMoeLayer(layer)) {
        visit(llama::routerTensor(c, layer), w.router);
        w.experts.resize(size_t(c.moe.numExperts));
        if (c.moe.sharedExpertIntermediateSize > 0)
            visit(llama::sharedExpertGateTensor(layer), w.sharedGate);
    }
    for (const llama::LinearSpec& s : llama::layerLinears(c, layer)) {
        visit(s.tensor, w.weight(s));
        if (!s.bias.empty())
            visit(s.bias, w.bias(s));
    }
}

/// The tensors of decoder layer `layer` that the file holds.
std::vector<std::string> layerTensorNames(const ModelSource& source, int64_t layer)
{
    LayerWeights scratch;
    std::vector<std::string> held;
    visitLayerTensors(source.config(), layer, scratch, [&](const std::string& name, at::Tensor&) {
        if (source.hasTensor(name))
            held.push_back(name);
    });
    return held;
}

} // namespace

LayerWeights loadLayer(const ModelSource& source, int64_t layer, at::ScalarType dtype,
                       const at::Device& device, const WeightOverrides* overrides)
{
    LayerWeights w;
    w.layer = layer;
    visitLayerTensors(source.config(), layer, w, [&](const std::string& name, at::Tensor& slot) {
        slot = loadOrOverride(source, name, dtype, device, overrides);
    });
    return w;
}

void prefetchLayer(const ModelSource& source, int64_t layer)
{
    if (layer < 0 || layer >= source.config().numLayers)
        return;
    for (const std::string& name : layerTensorNames(source, layer)) {
        const TensorEntry& e = source.tensor(name);
        files::adviseWillNeed(e.file, e.offset, e.bytes);
    }
}

WeightOverrides readLayerToHost(const ModelSource& source, int64_t layer)
{
    WeightOverrides out;
    for (const std::string& name : layerTensorNames(source, layer))
        out[name] = loadTensor(source, name, scalarType(source.tensor(name).type), at::kCPU);
    return out;
}

at::Tensor Rope::inverseFrequencies(const ModelConfig& c, int64_t positions)
{
    // transformers computes the frequencies in fp32 from an integer arange; so does this.
    const int64_t d = c.headDim;
    const at::Tensor exponent = at::arange(0, d, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / double(d);
    const double factor = c.rope.factor;
    switch (c.rope.type) {
    case RopeType::Default:
        return 1.0 / at::pow(c.ropeTheta, exponent);
    case RopeType::Linear:
        return (1.0 / at::pow(c.ropeTheta, exponent)) / factor;
    case RopeType::Dynamic: {
        if (positions <= c.maxPositions) // at or below the trained context the base is unchanged
            return 1.0 / at::pow(c.ropeTheta * std::pow(factor * double(c.maxPositions) / double(c.maxPositions) - (factor - 1),
                                                        double(d) / double(d - 2)),
                                 exponent);
        // Past it, transformers' dynamic update computes the base with fp32 tensors.
        const at::Tensor len = at::full({}, positions, at::TensorOptions().dtype(at::kLong));
        const at::Tensor base =
            c.ropeTheta * at::pow(factor * len / double(c.maxPositions) - (factor - 1), double(d) / double(d - 2));
        return 1.0 / at::pow(base, exponent);
    }
    case RopeType::Llama3: {
        const at::Tensor invFreq = 1.0 / at::pow(c.ropeTheta, exponent);
        const double old = double(c.rope.originalMaxPositions > 0 ? c.rope.originalMaxPositions : c.maxPositions);
        const double lowWavelen = old / c.rope.lowFreqFactor, highWavelen = old / c.rope.highFreqFactor;
        const at::Tensor wavelen = 2 * M_PI / invFreq;
        at::Tensor scaled = at::where(wavelen > lowWavelen, invFreq / factor, invFreq);
        const at::Tensor smooth = (old / wavelen - c.rope.lowFreqFactor) / (c.rope.highFreqFactor - c.rope.lowFreqFactor);
        const at::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
        const at::Tensor medium = wavelen.ge(highWavelen).logical_and(wavelen.le(lowWavelen));
        return at::where(medium, smoothed, scaled);
    }
    case RopeType::Yarn: {
        const double base = c.ropeTheta;
        const double original = double(c.rope.originalMaxPositions > 0 ? c.rope.originalMaxPositions : c.maxPositions);
        const at::Tensor posFreqs = at::pow(base, at::arange(0, d, 2, at::TensorOptions().dtype(at::kFloat)) / double(d));
        const at::Tensor extrapolation = 1.0 / posFreqs;
        const at::Tensor interpolation = 1.0 / (factor * posFreqs);
        auto correctionDim = [&](double rotations) {
            return (double(d) * std::log(original / (rotations * 2 * M_PI))) / (2 * std::log(base));
        };
        double low = correctionDim(c.rope.betaFast), high = correctionDim(c.rope.betaSlow);
        if (c.rope.truncate) {
            low = std::floor(low);
            high = std::ceil(high);
        }
        low = std::max(low, 0.0);
        high = std::min(high, double(d - 1));
        if (low == high)
            high += 0.001; // transformers' guard against a zero-width ramp
        const at::Tensor ramp =
            at::clamp((at::arange(d / 2, at::TensorOptions().dtype(at::kFloat)) - low) / (high - low), 0, 1);
        const at::Tensor extrapolationFactor = 1 - ramp;
        return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
    }
    }
    return {};
}

double Rope::attentionFactor(const ModelConfig& c)
{
    if (c.rope.type != RopeType::Yarn)
        return 1.0;
    if (c.rope.attentionFactor > 0)
        return c.rope.attentionFactor;
    auto mscale = [](double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    if (c.rope.mscale != 0 && c.rope.mscaleAllDim != 0)
        return mscale(c.rope.factor, c.rope.mscale) / mscale(c.rope.factor, c.rope.mscaleAllDim);
    return mscale(c.rope.factor, 1.0);
}

Rope Rope::build(const ModelConfig& c, int64_t positions, const at::Device& device)
{
    // angles = t · inv_freq; transformers duplicates them for the half-split rotation.
    const at::Tensor invFreq = inverseFrequencies(c, positions);
    const at::Tensor pos = at::arange(positions, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor angles = at::outer(pos, invFreq);
    const at::Tensor emb = at::cat({angles, angles}, -1);
    const double scale = attentionFactor(c);
    if (scale == 1.0)
        return {emb.cos().to(device), emb.sin().to(device)};
    return {(emb.cos() * scale).to(device), (emb.sin() * scale).to(device)};
}

at::Tensor silu(const at::Tensor& x)
{
    return x.is_cpu() && x.scalar_type() == at::kHalf ? at::silu(x.to(at::kFloat)).to(at::kHalf) : at::silu(x);
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps)
{
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight * normed.to(x.scalar_type());
}

at::Tensor applyLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b)
{
    if (x.device().is_cpu() && x.scalar_type() != at::kFloat) {
        at::Tensor y = at::matmul(x.to(at::kFloat), w.to(at::kFloat).t());
        if (b.defined())
            y = y + b.to(at::kFloat);
        return y.to(x.scalar_type());
    }
    if (b.defined())
        return at::linear(x, w, b);
    return at::matmul(x, w.t());
}

Routing route(const ModelConfig& c, const LayerWeights& w, const at::Tensor& flat)
{
    const at::Tensor logits = applyLinear(flat, w.router);
    const at::Tensor probs = at::softmax(logits.to(at::kFloat), -1);
    auto [top, index] = at::topk(probs, c.moe.topK, -1);
    if (c.moe.normTopkProb)
        top = top / top.sum(-1, /*keepdim=*/true);
    // Qwen's router hands the weights back in the activation dtype; Mixtral's stay fp32.
    if (c.moe.kind == MoeKind::Qwen)
        top = top.to(logits.scalar_type());
    return {index, top};
}

at::Tensor decoderLayer(const ModelConfig& c, const LayerWeights& w, const at::Tensor& hidden,
                        const Rope& rope, const LinearInputObserver& observer, LayerKv* kv, int64_t capacity)
{
    using llama::Stage;
    const int64_t B = hidden.size(0), T = hidden.size(1);
    const int64_t nh = c.numHeads, nkv = c.numKvHeads, hd = c.headDim;
    const int64_t P = kv ? kv->length : 0; // positions already decoded
    TORCH_CHECK(P + T <= rope.cos.size(0), "sequence of ", P + T, " tokens exceeds the rotary table (",
                rope.cos.size(0), " positions)");

    // Attention block.
    const at::Tensor x = rmsNorm(hidden, w.inputNorm, c.rmsNormEps);
    if (observer && !observer({Stage::AttentionInput, llama::kDense, x}))
        return {};
    at::Tensor q = applyLinear(x, w.q, w.qBias).view({B, T, nh, hd});
    at::Tensor k = applyLinear(x, w.k, w.kBias).view({B, T, nkv, hd});
    if (w.qNorm.defined()) { // Qwen3: RMSNorm over each head before rope
        q = rmsNorm(q, w.qNorm, c.rmsNormEps);
        k = rmsNorm(k, w.kNorm, c.rmsNormEps);
    }
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
    at::Tensor v = applyLinear(x, w.v, w.vBias).view({B, T, nkv, hd}).transpose(1, 2);
    const at::Tensor cos = rope.cos.slice(0, P, P + T).to(q.scalar_type());
    const at::Tensor sin = rope.sin.slice(0, P, P + T).to(q.scalar_type());
    q = q * cos + rotateHalf(q) * sin;
    k = k * cos + rotateHalf(k) * sin;
    if (kv) {
        if (!kv->k.defined()) {
            TORCH_CHECK(capacity >= T, "key/value cache of ", capacity, " positions for ", T, " tokens");
            kv->k = at::empty({B, nkv, capacity, hd}, k.options());
            kv->v = at::empty({B, nkv, capacity, hd}, v.options());
        }
        TORCH_CHECK(P + T <= kv->k.size(2), "key/value cache of ", kv->k.size(2), " positions is full");
        kv->k.slice(2, P, P + T).copy_(k);
        kv->v.slice(2, P, P + T).copy_(v);
        kv->length = P + T;
        k = kv->k.slice(2, 0, P + T);
        v = kv->v.slice(2, 0, P + T);
    }
    const int64_t S = P + T; // keys
    if (nkv != nh) { // grouped-query attention: each key/value head serves nh/nkv query heads
        const int64_t rep = nh / nkv;
        k = k.unsqueeze(2).expand({B, nkv, rep, S, hd}).reshape({B, nh, S, hd});
        v = v.unsqueeze(2).expand({B, nkv, rep, S, hd}).reshape({B, nh, S, hd});
    }
    const at::Tensor heads = kv ? cachedAttention(q, k, v, c.windowOf(w.layer)) : attention(q, k, v, c.windowOf(w.layer));
    const at::Tensor attn = heads.transpose(1, 2).reshape({B, T, nh * hd});
    if (observer && !observer({Stage::AttentionOutput, llama::kDense, attn}))
        return {};
    const at::Tensor h = hidden + applyLinear(attn, w.o, w.oBias);

    // MLP block: a SwiGLU, or a mixture of SwiGLU experts.
    const at::Tensor y = rmsNorm(h, w.postNorm, c.rmsNormEps);
    if (w.router.defined()) {
        const at::Tensor m = moeBlock(c, w, y, observer);
        return m.defined() ? h + m : at::Tensor();
    }
    if (observer && !observer({Stage::MlpInput, llama::kDense, y}))
        return {};
    bool stop = false;
    const at::Tensor m = swiglu(w.mlp, y, observer, llama::kDense, &stop);
    return stop ? at::Tensor() : h + m;
}

LlamaModel::LlamaModel(const ModelSource& source, const at::Device& device, at::ScalarType dtype,
                       JobContext* ctx, const WeightOverrides* overrides)
    : m_config(source.config()), m_device(device), m_dtype(dtype)
{
    m_embed = loadOrOverride(source, llama::embedTensor(), dtype, device, overrides);
    m_finalNorm = loadOrOverride(source, llama::finalNormTensor(), dtype, device, overrides);
    m_lmHead = m_config.tieWordEmbeddings
                   ? m_embed
                   : loadOrOverride(source, llama::lmHeadTensor(), dtype, device, overrides);
    for (int64_t i = 0; i < m_config.numLayers; ++i) {
        if (ctx) {
            ctx->checkCancelled();
            ctx->report(i, m_config.numLayers, "layers", "loading weights");
        }
        m_layers.push_back(loadLayer(source, i, dtype, device, overrides));
    }
    m_rope = Rope::build(m_config, std::min<int64_t>(m_config.maxPositions, 4096), device);
}

void LlamaModel::ensureRope(int64_t tokens) const
{
    TORCH_CHECK(tokens <= m_config.maxPositions, "sequence of ", tokens, " tokens exceeds the model's context (",
                m_config.maxPositions, ")");
    if (tokens > m_rope.cos.size(0))
        m_rope = Rope::build(m_config, tokens, m_device);
}

at::Tensor LlamaModel::embed(const at::Tensor& ids) const
{
    return at::embedding(m_embed, ids.to(m_device));
}

at::Tensor LlamaModel::layer(int64_t i, const at::Tensor& hidden) const
{
    ensureRope(hidden.size(1));
    return decoderLayer(m_config, m_layers.at(static_cast<size_t>(i)), hidden, m_rope);
}

at::Tensor LlamaModel::logits(const at::Tensor& hidden) const
{
    return applyLinear(rmsNorm(hidden, m_finalNorm, m_config.rmsNormEps), m_lmHead);
}

at::Tensor LlamaModel::tokenNll(const at::Tensor& ids) const
{
    at::Tensor h = embed(ids);
    for (int64_t i = 0; i < m_config.numLayers; ++i)
        h = layer(i, h);
    return nllFromHidden(m_config, m_finalNorm, m_lmHead, h, ids);
}

at::Tensor LlamaModel::nextLogits(const at::Tensor& ids, std::vector<LayerKv>& cache, int64_t capacity) const
{
    if (cache.empty())
        cache.resize(size_t(m_config.numLayers));
    ensureRope(cache.front().length + ids.size(1));
    at::Tensor h = embed(ids);
    for (int64_t i = 0; i < m_config.numLayers; ++i)
        h = decoderLayer(m_config, m_layers.at(size_t(i)), h, m_rope, {}, &cache[size_t(i)], capacity);
    return logits(h.slice(1, h.size(1) - 1)).squeeze(1).to(at::kFloat);
}

at::Tensor nllFromHidden(const ModelConfig& c, const at::Tensor& finalNorm, const at::Tensor& lmHead,
                         const at::Tensor& h, const at::Tensor& ids)
{
    // The last position predicts nothing. NLL = logsumexp(logits) - logit[target], in fp32 as
    // transformers computes its loss; positions go in chunks so the [chunk, vocab] logits stay
    // small on the CPU.
    const at::Device device = h.device();
    const at::Tensor targets = ids.to(device).slice(1, 1);
    const int64_t T = h.size(1) - 1;
    const int64_t chunk = device.is_cpu() ? 256 : T;
    std::vector<at::Tensor> parts;
    for (int64_t t0 = 0; t0 < T; t0 += chunk) {
        const int64_t t1 = std::min(T, t0 + chunk);
        const at::Tensor logit = applyLinear(rmsNorm(h.slice(1, t0, t1), finalNorm, c.rmsNormEps), lmHead).to(at::kFloat);
        const at::Tensor target = targets.slice(1, t0, t1).unsqueeze(-1);
        parts.push_back(at::logsumexp(logit, -1) - logit.gather(-1, target).squeeze(-1));
    }
    return at::cat(parts, 1);
}

Rope modelRope(const ModelConfig& c, int64_t tokens, const at::Device& device)
{
    TORCH_CHECK(tokens <= c.maxPositions, "sequence of ", tokens, " tokens exceeds the model's context (",
                c.maxPositions, ")");
    return Rope::build(c, std::max(tokens, std::min<int64_t>(c.maxPositions, 4096)), device);
}

} // namespace mpq::detail
