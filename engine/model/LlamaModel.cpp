#include "model/detail/LlamaModel.h"

#include "model/detail/WeightLoader.h"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpq::detail {

using llama::Linear;

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

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)
{
    // q: [B, nh, T, hd]; k, v: [B, nh, T, hd] (key/value heads already repeated).
#if TORCH_VERSION_MAJOR >= 2
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
#else
    // Older LibTorch has no fused attention. Query blocks keep the score matrix small (it stays
    // in cache and in the allocator's heap instead of fresh mmaps) and skip the masked future
    // keys entirely; softmax runs in fp32 as Hugging Face's eager attention does.
    const int64_t T = q.size(2);
    const bool upcast = q.device().is_cpu() && q.scalar_type() != at::kFloat;
    const at::ScalarType work = upcast ? at::kFloat : q.scalar_type();
    const at::Tensor qw = q.to(work), kw = k.to(work), vw = v.to(work);
    const double scale = 1.0 / std::sqrt(double(q.size(-1)));
    const int64_t block = 256;
    std::vector<at::Tensor> outputs;
    for (int64_t i0 = 0; i0 < T; i0 += block) {
        const int64_t i1 = std::min(T, i0 + block);
        at::Tensor scores = at::matmul(qw.slice(2, i0, i1), kw.slice(2, 0, i1).transpose(-1, -2)) * scale;
        // Query i0+r may see keys 0..i0+r: mask key columns c > i0 + r.
        const at::Tensor future = at::ones({i1 - i0, i1}, at::TensorOptions().dtype(at::kBool).device(q.device()))
                                      .triu(i0 + 1);
        scores.masked_fill_(future, -std::numeric_limits<float>::infinity());
        const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(work);
        outputs.push_back(at::matmul(probs, vw.slice(2, 0, i1)));
    }
    return at::cat(outputs, 2).to(q.scalar_type());
#endif
}

} // namespace

LayerWeights loadLayer(const ModelSource& source, int64_t layer, at::ScalarType dtype,
                       const at::Device& device, const WeightOverrides* overrides)
{
    LayerWeights w;
    w.inputNorm = loadOrOverride(source, llama::inputNormTensor(layer), dtype, device, overrides);
    w.postNorm = loadOrOverride(source, llama::postAttentionNormTensor(layer), dtype, device, overrides);
    for (Linear l : llama::kLinears)
        w[l] = loadOrOverride(source, llama::linearTensor(layer, l), dtype, device, overrides);
    return w;
}

Rope Rope::build(const ModelConfig& c, int64_t positions, const at::Device& device)
{
    // inv_freq_j = θ^(-2j/d); Hugging Face duplicates the angles for the half-split rotation.
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor invFreq =
        at::pow(c.ropeTheta, -at::arange(0, c.headDim, 2, f64) / double(c.headDim)).to(at::kFloat);
    const at::Tensor pos = at::arange(positions, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor angles = at::outer(pos, invFreq);
    const at::Tensor emb = at::cat({angles, angles}, -1);
    return {emb.cos().to(device), emb.sin().to(device)};
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps)
{
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight * normed.to(x.scalar_type());
}

at::Tensor applyLinear(const at::Tensor& x, const at::Tensor& w)
{
    if (x.device().is_cpu() && x.scalar_type() != at::kFloat)
        return at::matmul(x.to(at::kFloat), w.to(at::kFloat).t()).to(x.scalar_type());
    return at::matmul(x, w.t());
}

at::Tensor decoderLayer(const ModelConfig& c, const LayerWeights& w, const at::Tensor& hidden,
                        const Rope& rope, const LinearInputObserver& observer)
{
    const int64_t B = hidden.size(0), T = hidden.size(1);
    const int64_t nh = c.numHeads, nkv = c.numKvHeads, hd = c.headDim;
    TORCH_CHECK(T <= rope.cos.size(0), "sequence of ", T, " tokens exceeds the rotary table (",
                rope.cos.size(0), " positions)");

    // Attention block.
    const at::Tensor x = rmsNorm(hidden, w.inputNorm, c.rmsNormEps);
    if (observer && !observer(Linear::Q, x))
        return {};
    at::Tensor q = applyLinear(x, w[Linear::Q]).view({B, T, nh, hd}).transpose(1, 2);
    at::Tensor k = applyLinear(x, w[Linear::K]).view({B, T, nkv, hd}).transpose(1, 2);
    at::Tensor v = applyLinear(x, w[Linear::V]).view({B, T, nkv, hd}).transpose(1, 2);
    const at::Tensor cos = rope.cos.slice(0, 0, T).to(q.scalar_type());
    const at::Tensor sin = rope.sin.slice(0, 0, T).to(q.scalar_type());
    q = q * cos + rotateHalf(q) * sin;
    k = k * cos + rotateHalf(k) * sin;
    if (nkv != nh) { // grouped-query attention: each key/value head serves nh/nkv query heads
        const int64_t rep = nh / nkv;
        k = k.unsqueeze(2).expand({B, nkv, rep, T, hd}).reshape({B, nh, T, hd});
        v = v.unsqueeze(2).expand({B, nkv, rep, T, hd}).reshape({B, nh, T, hd});
    }
    const at::Tensor attn = attention(q, k, v).transpose(1, 2).reshape({B, T, nh * hd});
    if (observer && !observer(Linear::O, attn))
        return {};
    const at::Tensor h = hidden + applyLinear(attn, w[Linear::O]);

    // SwiGLU MLP block.
    const at::Tensor y = rmsNorm(h, w.postNorm, c.rmsNormEps);
    if (observer && !observer(Linear::Gate, y))
        return {};
    const at::Tensor gate = applyLinear(y, w[Linear::Gate]);
    // LibTorch's CPU kernels have no fp16 SiLU: compute it in fp32 there, as applyLinear does.
    const at::Tensor act = (gate.is_cpu() && gate.scalar_type() == at::kHalf
                                ? at::silu(gate.to(at::kFloat)).to(at::kHalf)
                                : at::silu(gate)) *
                           applyLinear(y, w[Linear::Up]);
    if (observer && !observer(Linear::Down, act))
        return {};
    return h + applyLinear(act, w[Linear::Down]);
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
    // The last position predicts nothing. NLL = logsumexp(logits) - logit[target], in fp32 as
    // transformers computes its loss; positions go in chunks so the [chunk, vocab] logits stay
    // small on the CPU.
    const at::Tensor targets = ids.to(m_device).slice(1, 1);
    const int64_t T = h.size(1) - 1;
    const int64_t chunk = m_device.is_cpu() ? 256 : T;
    std::vector<at::Tensor> parts;
    for (int64_t t0 = 0; t0 < T; t0 += chunk) {
        const int64_t t1 = std::min(T, t0 + chunk);
        const at::Tensor logit = logits(h.slice(1, t0, t1)).to(at::kFloat);
        const at::Tensor target = targets.slice(1, t0, t1).unsqueeze(-1);
        parts.push_back(at::logsumexp(logit, -1) - logit.gather(-1, target).squeeze(-1));
    }
    return at::cat(parts, 1);
}

} // namespace mpq::detail
