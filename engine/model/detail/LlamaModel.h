#pragma once

#include "core/JobContext.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"

#include <ATen/ATen.h>

#include <array>
#include <functional>
#include <map>

namespace mpq::detail {

/// Weights of one decoder layer, on the compute device in the compute dtype.
struct LayerWeights {
    at::Tensor inputNorm;
    at::Tensor postNorm;
    std::array<at::Tensor, 7> linears; ///< indexed by llama::Linear, each [out, in]

    at::Tensor& operator[](llama::Linear l) { return linears[static_cast<size_t>(l)]; }
    const at::Tensor& operator[](llama::Linear l) const { return linears[static_cast<size_t>(l)]; }
};

/// Replacement weights by tensor name (e.g. dequantized matrices of a quantization result).
using WeightOverrides = std::map<std::string, at::Tensor>;

/// Loads a decoder layer from disk (or from overrides) to `device` as `dtype`.
LayerWeights loadLayer(const ModelSource& source, int64_t layer, at::ScalarType dtype,
                       const at::Device& device, const WeightOverrides* overrides = nullptr);

/// Rotary tables, Hugging Face's "default" rope: cos/sin of [positions, headDim] in fp32.
struct Rope {
    at::Tensor cos;
    at::Tensor sin;
    static Rope build(const ModelConfig& c, int64_t positions, const at::Device& device);
};

/// RMSNorm as Hugging Face computes it: statistics in fp32, the result cast back, then scaled.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);
/// x · wᵀ. On the CPU, half-precision operands are multiplied in fp32 (LibTorch's CPU kernels
/// for fp16 are missing or slow) and the product is rounded back to the input dtype.
at::Tensor applyLinear(const at::Tensor& x, const at::Tensor& w);

/// Sees the input of each group of linears that share one input (q/k/v, o, gate/up, down),
/// as [batch, tokens, in]. Returning false stops the layer early (decoderLayer then returns an
/// undefined tensor): the pipeline uses this to compute only what a group needs.
using LinearInputObserver = std::function<bool(llama::Linear firstOfGroup, const at::Tensor& input)>;

/// One LLaMA decoder layer on hidden states [batch, tokens, hidden] (positions 0..tokens-1,
/// causal). Pure function of its arguments.
at::Tensor decoderLayer(const ModelConfig& c, const LayerWeights& w, const at::Tensor& hidden,
                        const Rope& rope, const LinearInputObserver& observer = {});

/// A whole model resident on one device, for evaluation.
class LlamaModel {
public:
    /// Loads every tensor (overrides replace matrices by name). Reports per-layer progress and
    /// checks cancellation on `ctx` when given. Throws mpq::Error.
    LlamaModel(const ModelSource& source, const at::Device& device, at::ScalarType dtype,
               JobContext* ctx = nullptr, const WeightOverrides* overrides = nullptr);

    const ModelConfig& config() const { return m_config; }
    const at::Device& device() const { return m_device; }
    at::ScalarType dtype() const { return m_dtype; }

    at::Tensor embed(const at::Tensor& ids) const;                 ///< [B,T] → [B,T,H]
    at::Tensor layer(int64_t i, const at::Tensor& hidden) const;   ///< one decoder layer
    at::Tensor logits(const at::Tensor& hidden) const;             ///< final norm + lm_head
    /// Next-token negative log-likelihood in fp32: ids [B,T] → [B,T-1].
    at::Tensor tokenNll(const at::Tensor& ids) const;

private:
    ModelConfig m_config;
    at::Device m_device;
    at::ScalarType m_dtype;
    at::Tensor m_embed;
    at::Tensor m_finalNorm;
    at::Tensor m_lmHead; ///< aliases m_embed when tied
    std::vector<LayerWeights> m_layers;
    /// Rotary tables grow on demand up to the model's context (a config may claim millions).
    void ensureRope(int64_t tokens) const;
    mutable Rope m_rope;
};

} // namespace mpq::detail
