#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// Rotary position embedding variants, each as transformers computes it (docs/model-families.md).
enum class RopeType { Default, Linear, Dynamic, Llama3, Yarn };
const char* ropeTypeName(RopeType t);

/// `rope_scaling` (transformers < 5) or `rope_parameters` (transformers >= 5) of a config.json.
struct RopeScaling {
    RopeType type = RopeType::Default;
    double factor = 1.0;              ///< linear, dynamic, llama3, yarn
    double lowFreqFactor = 1.0;       ///< llama3
    double highFreqFactor = 4.0;      ///< llama3
    int64_t originalMaxPositions = 0; ///< llama3, yarn: pre-training context (0: max_position_embeddings)
    double attentionFactor = -1;      ///< yarn: cos/sin scale; negative: derived from factor (and mscale)
    double betaFast = 32, betaSlow = 1; ///< yarn
    double mscale = 0, mscaleAllDim = 0; ///< yarn (DeepSeek-style attention factor), 0 when absent
    bool truncate = true;             ///< yarn: round the correction range to whole dimensions
};

/// How the router's weights are formed and applied (they differ between families in dtype only).
enum class MoeKind { None, Mixtral, Qwen };

/// Mixture-of-experts settings; numExperts == 0 for a dense model.
struct MoeConfig {
    MoeKind kind = MoeKind::None;
    int64_t numExperts = 0;
    int64_t topK = 0;                     ///< experts per token
    int64_t expertIntermediateSize = 0;   ///< width of one expert's SwiGLU
    bool normTopkProb = true;             ///< renormalise the top-k probabilities to sum to one
    int64_t sharedExpertIntermediateSize = 0; ///< Qwen2-MoE's shared expert (0: none)
    int64_t decoderSparseStep = 1;        ///< Qwen-MoE: layer i is sparse when (i+1) % step == 0
    std::vector<int64_t> mlpOnlyLayers;   ///< Qwen-MoE: layers that keep a dense MLP
};

/// Architecture of a LLaMA-family decoder, from a Hugging Face config.json or a llama2.c header.
/// A family is a set of features (docs/model-families.md); the forward pass and the pipeline
/// read only the features, never the family name.
struct ModelConfig {
    std::string modelType = "llama"; ///< config.json's model_type (llama2.c checkpoints: "llama")
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;    ///< dense MLP width
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0;          ///< hiddenSize / numHeads unless the config says otherwise
    int64_t vocabSize = 0;
    int64_t maxPositions = 0;
    double rmsNormEps = 1e-5;
    double ropeTheta = 10000.0;
    RopeScaling rope;
    bool tieWordEmbeddings = false;
    std::string torchDtype = "float32"; ///< the dtype the checkpoint was saved in
    int32_t bosTokenId = 1;
    int32_t eosTokenId = 2;

    bool qkvBias = false;         ///< biases on q/k/v (Qwen2, attention_bias)
    bool oBias = false;           ///< bias on o (attention_bias of LLaMA / Qwen3)
    bool mlpBias = false;         ///< biases on gate/up/down (LLaMA's mlp_bias)
    bool qkNorm = false;          ///< Qwen3: RMSNorm over each head of q and k before rope
    int64_t slidingWindow = 0;    ///< keys within this many positions (0: full causal attention)
    std::vector<bool> slidingLayers; ///< per layer: does the window apply (empty: no layer)
    MoeConfig moe;

    /// Is decoder layer `layer` a mixture of experts (else a dense SwiGLU MLP)?
    bool isMoeLayer(int64_t layer) const;
    /// The attention window of `layer` in positions, 0 for full causal attention.
    int64_t windowOf(int64_t layer) const;

    /// One line naming the family's features beyond LLaMA-2's ("rope llama3 x8, q/k/v/o biases,
    /// 8 experts (top 2)…"); "plain LLaMA" when there are none.
    std::string featureSummary() const;

    /// Parameters of one decoder layer (attention + MLP or experts + norms + biases).
    int64_t layerParameters(int64_t layer = 0) const;
    /// All parameters, counting a tied embedding once.
    int64_t totalParameters() const;

    /// Parses and validates a Hugging Face config.json of a supported family (llama, mistral,
    /// qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe). Throws mpq::Error naming the file; an
    /// unsupported model_type or feature is refused with one message naming what is supported.
    static ModelConfig fromHuggingFaceJson(const std::string& jsonText, const std::string& fileName);
    /// The architecture as a JSON object (sessions keep it to recognise a model on resume; the
    /// LLaMA fields keep the keys they had before other families existed, so older sessions
    /// still match). Not a loadable config.json.
    std::string toJson() const;
    /// Checks internal consistency (positive sizes, heads dividing the width). Throws mpq::Error.
    void validate(const std::string& source) const;
};

} // namespace mpq
