#pragma once

#include "core/JobContext.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <vector>

namespace mpq::detail {

/// A SwiGLU MLP (dense, shared expert, or one routed expert); biases undefined when absent.
struct MlpWeights {
    at::Tensor gate, up, down;
    at::Tensor gateBias, upBias, downBias;
};

/// Weights of one decoder layer, on the compute device in the compute dtype. Which fields are
/// defined follows the config's features (biases, q/k norms, dense MLP or experts).
struct LayerWeights {
    int64_t layer = 0;
    at::Tensor inputNorm, postNorm;
    at::Tensor qNorm, kNorm;                  ///< Qwen3's per-head norms [headDim]
    at::Tensor q, k, v, o;
    at::Tensor qBias, kBias, vBias, oBias;
    MlpWeights mlp;                           ///< dense layers
    at::Tensor router;                        ///< MoE layers: [experts, hidden]
    std::vector<MlpWeights> experts;          ///< MoE layers
    MlpWeights shared;                        ///< Qwen2-MoE's shared expert
    at::Tensor sharedGate;                    ///< its gate [1, hidden]

    /// The weight [out, in] of a linear of this layer (llama::layerLinears).
    at::Tensor& weight(const llama::LinearSpec& s);
    const at::Tensor& weight(const llama::LinearSpec& s) const;
    /// Its bias (undefined when it has none).
    at::Tensor& bias(const llama::LinearSpec& s);
};

/// Replacement weights by tensor name (e.g. dequantized matrices of a quantization result).
using WeightOverrides = std::map<std::string, at::Tensor>;

/// Loads a decoder layer from disk (or from overrides) to `device` as `dtype`.
LayerWeights loadLayer(const ModelSource& source, int64_t layer, at::ScalarType dtype,
                       const at::Device& device, const WeightOverrides* overrides = nullptr);

/// Asks the kernel to start reading decoder layer `layer`'s tensors from disk (read-ahead while
/// the layer before it is being worked on; costs no process memory). Out-of-range layers: nothing.
void prefetchLayer(const ModelSource& source, int64_t layer);

/// Decoder layer `layer`'s tensors read into host memory as stored (the rotary permutation of
/// llama2.c files applied, no conversion), keyed by name: loadLayer takes them as overrides, so
/// a caller can read the next layer on another thread while the device works on this one.
WeightOverrides readLayerToHost(const ModelSource& source, int64_t layer);

/// Rotary tables as transformers builds them for the config's rope type: cos/sin of
/// [positions, headDim] in fp32, already multiplied by the rope's attention factor (YaRN).
/// Dynamic NTK scaling depends on the sequence length: the table is for sequences of exactly
/// `positions` tokens when that exceeds max_position_embeddings.
struct Rope {
    at::Tensor cos;
    at::Tensor sin;
    static Rope build(const ModelConfig& c, int64_t positions, const at::Device& device);
    /// The inverse frequencies [headDim/2] (fp32, CPU) for sequences of `positions` tokens.
    static at::Tensor inverseFrequencies(const ModelConfig& c, int64_t positions);
    /// cos/sin scale (YaRN's attention factor; 1 for the other types).
    static double attentionFactor(const ModelConfig& c);
};

/// RMSNorm as Hugging Face computes it: statistics in fp32, the result cast back, then scaled.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);
/// SiLU; LibTorch's CPU kernels have no fp16 SiLU, so it is computed in fp32 there.
at::Tensor silu(const at::Tensor& x);
/// x · wᵀ (+ b). On the CPU, half-precision operands are multiplied in fp32 (LibTorch's CPU kernels
/// for fp16 are missing or slow) and the product is rounded back to the input dtype.
at::Tensor applyLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});

/// The input of a group of linears, as the forward pass meets it.
struct LinearInput {
    llama::Stage stage;
    int expert;          ///< llama::kDense (attention, dense MLP), llama::kSharedExpert, or a routed expert
    const at::Tensor& x; ///< [batch, tokens, in]; a routed expert's: its tokens' rows [n, in] (n may be 0)
};

/// Sees the input of each group of linears that share one input. Within a stage every site is
/// reported (the shared expert and each routed expert); returning false from any of them stops the
/// layer after that stage (decoderLayer then returns an undefined tensor): the pipeline uses this
/// to compute only what a stage needs.
using LinearInputObserver = std::function<bool(const LinearInput&)>;

/// One layer's keys and values of the tokens seen so far (after rope, before grouped-query
/// repetition), for decoding a token at a time: [batch, kv heads, capacity, head dim] each, the
/// first `length` positions filled.
struct LayerKv {
    at::Tensor k, v;
    int64_t length = 0;
};

/// One decoder layer on hidden states [batch, tokens, hidden] (positions 0..tokens-1, causal,
/// windowed where the config says). Pure function of its arguments. With `kv`, the tokens are
/// positions kv->length.. of sequences whose earlier keys and values `kv` holds (it allocates
/// them for `capacity` positions on first use); their keys and values are appended to it.
at::Tensor decoderLayer(const ModelConfig& c, const LayerWeights& w, const at::Tensor& hidden,
                        const Rope& rope, const LinearInputObserver& observer = {}, LayerKv* kv = nullptr,
                        int64_t capacity = 0);

/// Per-expert routing of tokens [N, hidden] through a MoE layer's router, as transformers routes
/// them: softmax in fp32, top-k, optional renormalisation.
struct Routing {
    at::Tensor experts; ///< [N, k] expert indices
    at::Tensor weights; ///< [N, k] routing weights (fp32 for Mixtral, the activation dtype for Qwen)
};
Routing route(const ModelConfig& c, const LayerWeights& w, const at::Tensor& flat);

/// Next-token negative log-likelihood in fp32 from the last decoder layer's hidden states
/// [B,T,H]: final norm, lm_head, log-softmax at each target of ids [B,T] → [B,T-1]. Positions go
/// in chunks of 256 on the CPU so the fp32 logits stay small. Shared by the resident model and
/// layer-streamed evaluation, so both compute the same figure.
at::Tensor nllFromHidden(const ModelConfig& c, const at::Tensor& finalNorm, const at::Tensor& lmHead,
                         const at::Tensor& hidden, const at::Tensor& ids);

/// The rotary tables LlamaModel keeps for sequences of up to `tokens` tokens (the model's
/// context, at least 4096 positions when it has them), so streamed evaluation uses the same.
Rope modelRope(const ModelConfig& c, int64_t tokens, const at::Device& device);

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
    /// Decodes tokens ids [B,T] that follow what `cache` holds (one entry per decoder layer; empty
    /// on the first call, then sized for `capacity` positions) and returns the logits of the last
    /// position [B, vocab] in fp32.
    at::Tensor nextLogits(const at::Tensor& ids, std::vector<LayerKv>& cache, int64_t capacity) const;

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
