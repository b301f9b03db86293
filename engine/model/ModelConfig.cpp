#include "model/ModelConfig.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace mpq {

const char* ropeTypeName(RopeType t)
{
    switch (t) {
    case RopeType::Default: return "default";
    case RopeType::Linear: return "linear";
    case RopeType::Dynamic: return "dynamic";
    case RopeType::Llama3: return "llama3";
    case RopeType::Yarn: return "yarn";
    }
    return "?";
}

bool ModelConfig::isMoeLayer(int64_t layer) const
{
    if (moe.numExperts <= 0)
        return false;
    if (std::find(moe.mlpOnlyLayers.begin(), moe.mlpOnlyLayers.end(), layer) != moe.mlpOnlyLayers.end())
        return false;
    return (layer + 1) % std::max<int64_t>(1, moe.decoderSparseStep) == 0;
}

int64_t ModelConfig::windowOf(int64_t layer) const
{
    if (slidingWindow <= 0 || layer < 0 || layer >= int64_t(slidingLayers.size()))
        return 0;
    return slidingLayers[size_t(layer)] ? slidingWindow : 0;
}

int64_t ModelConfig::layerParameters(int64_t layer) const
{
    const int64_t q = numHeads * headDim, kv = numKvHeads * headDim;
    int64_t attention = hiddenSize * q * 2 + hiddenSize * kv * 2; // q, o; k, v
    if (qkvBias)
        attention += q + 2 * kv;
    if (oBias)
        attention += hiddenSize;
    if (qkNorm)
        attention += 2 * headDim;
    auto swiglu = [&](int64_t width) { return 3 * hiddenSize * width + (mlpBias ? 2 * width + hiddenSize : 0); };
    int64_t mlp = 0;
    if (isMoeLayer(layer)) {
        mlp = moe.numExperts * (swiglu(moe.expertIntermediateSize) + hiddenSize); // experts + router rows
        if (moe.sharedExpertIntermediateSize > 0)
            mlp += swiglu(moe.sharedExpertIntermediateSize) + hiddenSize; // shared expert + its gate
    } else {
        mlp = swiglu(intermediateSize);
    }
    return attention + mlp + 2 * hiddenSize;
}

int64_t ModelConfig::totalParameters() const
{
    const int64_t embedding = vocabSize * hiddenSize;
    int64_t layers = 0;
    for (int64_t i = 0; i < numLayers; ++i)
        layers += layerParameters(i);
    return embedding * (tieWordEmbeddings ? 1 : 2) + layers + hiddenSize;
}

std::string ModelConfig::featureSummary() const
{
    std::vector<std::string> parts;
    auto num = [](double v) {
        std::string s = std::to_string(v);
        s.erase(s.find_last_not_of('0') + 1);
        if (!s.empty() && s.back() == '.')
            s.pop_back();
        return s;
    };
    if (rope.type != RopeType::Default)
        parts.push_back(std::string("rope ") + ropeTypeName(rope.type) + " x" + num(rope.factor) +
                        (rope.originalMaxPositions > 0 ? " (trained context " + std::to_string(rope.originalMaxPositions) + ")" : ""));
    if (qkvBias)
        parts.push_back(oBias ? "q/k/v/o biases" : "q/k/v biases");
    if (mlpBias)
        parts.push_back("MLP biases");
    if (qkNorm)
        parts.push_back("per-head q/k RMSNorm");
    if (numHeads * headDim != hiddenSize)
        parts.push_back("head dim " + std::to_string(headDim) + " (not hidden/heads)");
    if (slidingWindow > 0) {
        int64_t windowed = 0;
        for (bool b : slidingLayers)
            windowed += b;
        parts.push_back("sliding window " + std::to_string(slidingWindow) + " on " + std::to_string(windowed) + " of " +
                        std::to_string(numLayers) + " layers");
    }
    if (moe.numExperts > 0) {
        int64_t sparse = 0;
        for (int64_t i = 0; i < numLayers; ++i)
            sparse += isMoeLayer(i);
        std::string m = std::to_string(moe.numExperts) + " experts (top " + std::to_string(moe.topK) +
                        (moe.normTopkProb ? ", renormalised" : "") + ", width " + std::to_string(moe.expertIntermediateSize) +
                        ") in " + std::to_string(sparse) + " of " + std::to_string(numLayers) + " layers";
        if (moe.sharedExpertIntermediateSize > 0)
            m += ", shared expert (width " + std::to_string(moe.sharedExpertIntermediateSize) + ")";
        parts.push_back(m);
    }
    if (parts.empty())
        return "plain LLaMA";
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i)
        s += (i ? ", " : "") + parts[i];
    return s;
}

namespace {

using nlohmann::json;

constexpr const char* kSupported =
    "supported: llama (LLaMA 1/2/3.x), mistral, qwen2 (Qwen2/2.5), qwen3, mixtral, qwen2_moe, qwen3_moe";

int64_t requireInt(const json& j, const char* key, const std::string& file)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        throw Error(file + ": required field \"" + key + "\" is missing");
    if (!it->is_number_integer())
        throw Error(file + ": field \"" + key + "\" must be an integer");
    return it->get<int64_t>();
}

template <typename T>
T optional(const json& j, const char* key, T fallback, const std::string& file)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        return detail::jsonInt<T>(*it, file + ": field \"" + key + "\"");
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        throw Error(file + ": field \"" + key + "\" has the wrong type");
    }
}

/// A token id that may be given as a list (Llama 3.1's eos_token_id): the first entry.
int32_t tokenId(const json& j, const char* key, int32_t fallback, const std::string& file)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    const json& v = it->is_array() ? (it->empty() ? json() : it->front()) : *it;
    if (v.is_null())
        return fallback;
    if (!v.is_number_integer())
        throw Error(file + ": field \"" + std::string(key) + "\" must be an integer or a list of integers");
    return static_cast<int32_t>(v.get<int64_t>());
}

RopeType parseRopeType(const std::string& type, const std::string& file)
{
    if (type == "default")
        return RopeType::Default;
    if (type == "linear")
        return RopeType::Linear;
    if (type == "dynamic")
        return RopeType::Dynamic;
    if (type == "llama3")
        return RopeType::Llama3;
    if (type == "yarn")
        return RopeType::Yarn;
    throw Error(file + ": rope type \"" + type +
                "\" is not supported (supported: default, linear, dynamic, llama3, yarn)");
}

/// rope_scaling / rope_parameters, as transformers' standardize_rope_params reads them.
void parseRope(const json& j, ModelConfig& c, const std::string& file)
{
    c.ropeTheta = optional<double>(j, "rope_theta", c.ropeTheta, file);
    for (const char* key : {"rope_scaling", "rope_parameters"}) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null())
            continue;
        if (!it->is_object())
            throw Error(file + ": \"" + key + "\" must be an object");
        const json& r = *it;
        const std::string type = optional<std::string>(r, "rope_type", optional<std::string>(r, "type", "default", file), file);
        c.rope.type = parseRopeType(type, file);
        c.ropeTheta = optional<double>(r, "rope_theta", c.ropeTheta, file);
        if (optional<double>(r, "partial_rotary_factor", 1.0, file) != 1.0)
            throw Error(file + ": partial_rotary_factor other than 1 is not supported");
        if (c.rope.type == RopeType::Default)
            continue;
        auto need = [&](const char* name) {
            if (!r.contains(name) || r[name].is_null())
                throw Error(file + ": rope type \"" + type + "\" needs \"" + name + "\" in \"" + key + "\"");
            return optional<double>(r, name, 0.0, file);
        };
        c.rope.factor = need("factor");
        if (c.rope.type == RopeType::Llama3) {
            c.rope.lowFreqFactor = need("low_freq_factor");
            c.rope.highFreqFactor = need("high_freq_factor");
        }
        c.rope.originalMaxPositions = optional<int64_t>(r, "original_max_position_embeddings",
                                                        optional<int64_t>(j, "original_max_position_embeddings", 0, file), file);
        if (c.rope.type == RopeType::Yarn) {
            c.rope.attentionFactor = optional<double>(r, "attention_factor", -1.0, file);
            c.rope.betaFast = optional<double>(r, "beta_fast", 32.0, file);
            c.rope.betaSlow = optional<double>(r, "beta_slow", 1.0, file);
            c.rope.mscale = optional<double>(r, "mscale", 0.0, file);
            c.rope.mscaleAllDim = optional<double>(r, "mscale_all_dim", 0.0, file);
            c.rope.truncate = optional<bool>(r, "truncate", true, file);
        }
    }
}

/// Which layers use the sliding window. `explicitTypes`: config.json's layer_types (written by
/// transformers >= 4.53 for the Qwen families), which then takes precedence.
std::vector<bool> slidingFromLayerTypes(const json& j, int64_t layers, const std::string& file)
{
    std::vector<bool> out;
    const json& t = j["layer_types"];
    if (!t.is_array() || int64_t(t.size()) != layers)
        throw Error(file + ": \"layer_types\" must list one entry per layer");
    for (const auto& e : t) {
        if (!e.is_string() || (e != "sliding_attention" && e != "full_attention"))
            throw Error(file + ": \"layer_types\" entries must be \"full_attention\" or \"sliding_attention\"");
        out.push_back(e == "sliding_attention");
    }
    return out;
}

} // namespace

ModelConfig ModelConfig::fromHuggingFaceJson(const std::string& jsonText, const std::string& file)
{
    json j;
    try {
        j = json::parse(jsonText);
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for numbers beyond double ("1e309"; found by fuzz_config)
        throw Error(file + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object())
        throw Error(file + ": expected a JSON object");

    ModelConfig c;
    c.modelType = optional<std::string>(j, "model_type", "llama", file);
    const std::string& t = c.modelType;
    const bool isLlama = t == "llama", isMistral = t == "mistral", isQwen2 = t == "qwen2", isQwen3 = t == "qwen3",
               isMixtral = t == "mixtral", isQwen2Moe = t == "qwen2_moe", isQwen3Moe = t == "qwen3_moe";
    if (!(isLlama || isMistral || isQwen2 || isQwen3 || isMixtral || isQwen2Moe || isQwen3Moe))
        throw Error(file + ": model_type \"" + t + "\" is not supported (" + kSupported + ")");
    const std::string act = optional<std::string>(j, "hidden_act", "silu", file);
    if (act != "silu")
        throw Error(file + ": hidden_act \"" + act + "\" is not supported (expected silu)");

    const bool moe = isMixtral || isQwen2Moe || isQwen3Moe;
    c.hiddenSize = requireInt(j, "hidden_size", file);
    c.intermediateSize = moe && !isQwen2Moe && !j.contains("intermediate_size") ? 0 : requireInt(j, "intermediate_size", file);
    c.numLayers = requireInt(j, "num_hidden_layers", file);
    c.numHeads = requireInt(j, "num_attention_heads", file);
    c.numKvHeads = optional<int64_t>(j, "num_key_value_heads", c.numHeads, file);
    c.vocabSize = requireInt(j, "vocab_size", file);
    c.maxPositions = optional<int64_t>(j, "max_position_embeddings", 2048, file);
    c.rmsNormEps = optional<double>(j, "rms_norm_eps", 1e-6, file);
    c.tieWordEmbeddings = optional<bool>(j, "tie_word_embeddings", false, file);
    c.headDim = optional<int64_t>(j, "head_dim", c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0, file);
    c.bosTokenId = tokenId(j, "bos_token_id", isLlama || isMistral || isMixtral ? 1 : -1, file);
    c.eosTokenId = tokenId(j, "eos_token_id", isLlama || isMistral || isMixtral ? 2 : -1, file);
    // transformers >= 5 writes "dtype" and nests rope_theta in "rope_parameters";
    // older versions write "torch_dtype" and a top-level "rope_theta".
    c.torchDtype = optional<std::string>(j, "torch_dtype", optional<std::string>(j, "dtype", "float32", file), file);
    c.ropeTheta = isMixtral ? 1e6 : 10000.0;
    parseRope(j, c, file);

    // Biases and per-head norms, as each family's modeling code builds its linears.
    if (isLlama || isQwen3 || isQwen3Moe) {
        c.qkvBias = c.oBias = optional<bool>(j, "attention_bias", false, file);
    } else if (isQwen2) {
        c.qkvBias = true;
    } else if (isQwen2Moe) {
        c.qkvBias = optional<bool>(j, "qkv_bias", true, file);
    } else if (optional<bool>(j, "attention_bias", false, file)) {
        throw Error(file + ": attention_bias is not part of the " + t + " architecture");
    }
    c.mlpBias = isLlama && optional<bool>(j, "mlp_bias", false, file);
    c.qkNorm = isQwen3 || isQwen3Moe;

    // Sliding-window attention: where each family's modeling code applies it.
    const int64_t window = optional<int64_t>(j, "sliding_window", isMistral ? 4096 : 0, file);
    const bool useWindow = optional<bool>(j, "use_sliding_window", false, file);
    if (isMistral || isMixtral || (isQwen3Moe && useWindow)) {
        c.slidingWindow = window;
        c.slidingLayers.assign(size_t(std::max<int64_t>(0, c.numLayers)), window > 0);
    } else if ((isQwen2 || isQwen3 || isQwen2Moe) && useWindow && window > 0) {
        c.slidingWindow = window;
        if (j.contains("layer_types") && !j["layer_types"].is_null()) {
            c.slidingLayers = slidingFromLayerTypes(j, c.numLayers, file);
        } else {
            const int64_t maxWindowLayers = optional<int64_t>(j, "max_window_layers", 28, file);
            for (int64_t i = 0; i < c.numLayers; ++i)
                c.slidingLayers.push_back(isQwen2Moe ? ((i + 1) % 2 != 0 && i < maxWindowLayers)
                                                     : i >= maxWindowLayers);
        }
    }
    if (c.slidingWindow < 0)
        throw Error(file + ": sliding_window must not be negative");

    if (isMixtral) {
        c.moe.kind = MoeKind::Mixtral;
        c.moe.numExperts = optional<int64_t>(j, "num_local_experts", 8, file);
        c.moe.topK = optional<int64_t>(j, "num_experts_per_tok", 2, file);
        c.moe.expertIntermediateSize = c.intermediateSize;
        c.moe.normTopkProb = true;
    } else if (isQwen2Moe || isQwen3Moe) {
        c.moe.kind = MoeKind::Qwen;
        // The hub's Qwen configs say num_experts; transformers 5 writes its alias num_local_experts.
        c.moe.numExperts = j.contains("num_experts") || !j.contains("num_local_experts")
                               ? requireInt(j, "num_experts", file)
                               : requireInt(j, "num_local_experts", file);
        c.moe.topK = requireInt(j, "num_experts_per_tok", file);
        c.moe.expertIntermediateSize = requireInt(j, "moe_intermediate_size", file);
        c.moe.normTopkProb = optional<bool>(j, "norm_topk_prob", false, file);
        c.moe.decoderSparseStep = optional<int64_t>(j, "decoder_sparse_step", 1, file);
        c.moe.mlpOnlyLayers = optional<std::vector<int64_t>>(j, "mlp_only_layers", {}, file);
        if (isQwen2Moe)
            c.moe.sharedExpertIntermediateSize = requireInt(j, "shared_expert_intermediate_size", file);
    }
    c.validate(file);
    return c;
}

std::string ModelConfig::toJson() const
{
    json j{{"hidden_size", hiddenSize},       {"intermediate_size", intermediateSize},
           {"num_hidden_layers", numLayers},  {"num_attention_heads", numHeads},
           {"num_key_value_heads", numKvHeads}, {"head_dim", headDim},
           {"vocab_size", vocabSize},         {"max_position_embeddings", maxPositions},
           {"rms_norm_eps", rmsNormEps},      {"rope_theta", ropeTheta},
           {"tie_word_embeddings", tieWordEmbeddings}, {"torch_dtype", torchDtype},
           {"bos_token_id", bosTokenId},      {"eos_token_id", eosTokenId}};
    // Keys beyond LLaMA-2's only where a feature is on, so older sessions' records still match.
    if (modelType != "llama")
        j["model_type"] = modelType;
    if (rope.type != RopeType::Default)
        j["rope_scaling"] = {{"rope_type", ropeTypeName(rope.type)}, {"factor", rope.factor},
                             {"low_freq_factor", rope.lowFreqFactor}, {"high_freq_factor", rope.highFreqFactor},
                             {"original_max_position_embeddings", rope.originalMaxPositions},
                             {"attention_factor", rope.attentionFactor}, {"beta_fast", rope.betaFast},
                             {"beta_slow", rope.betaSlow}, {"mscale", rope.mscale},
                             {"mscale_all_dim", rope.mscaleAllDim}, {"truncate", rope.truncate}};
    if (qkvBias)
        j["qkv_bias"] = true;
    if (oBias)
        j["o_bias"] = true;
    if (mlpBias)
        j["mlp_bias"] = true;
    if (qkNorm)
        j["qk_norm"] = true;
    if (slidingWindow > 0) {
        j["sliding_window"] = slidingWindow;
        j["sliding_layers"] = slidingLayers;
    }
    if (moe.numExperts > 0)
        j["moe"] = {{"kind", moe.kind == MoeKind::Mixtral ? "mixtral" : "qwen"},
                    {"num_experts", moe.numExperts},
                    {"top_k", moe.topK},
                    {"expert_intermediate_size", moe.expertIntermediateSize},
                    {"norm_topk_prob", moe.normTopkProb},
                    {"shared_expert_intermediate_size", moe.sharedExpertIntermediateSize},
                    {"decoder_sparse_step", moe.decoderSparseStep},
                    {"mlp_only_layers", moe.mlpOnlyLayers}};
    return j.dump();
}

void ModelConfig::validate(const std::string& source) const
{
    auto positive = [&](int64_t v, const char* name) {
        if (v <= 0)
            throw Error(source + ": " + name + " must be positive (got " + std::to_string(v) + ")");
    };
    positive(hiddenSize, "hidden size");
    positive(numLayers, "number of layers");
    positive(numHeads, "number of attention heads");
    positive(numKvHeads, "number of key/value heads");
    positive(headDim, "head dimension");
    positive(vocabSize, "vocabulary size");
    positive(maxPositions, "maximum positions");
    bool anyDense = moe.numExperts <= 0;
    for (int64_t i = 0; i < numLayers && !anyDense; ++i)
        anyDense = !isMoeLayer(i);
    if (anyDense)
        positive(intermediateSize, "intermediate size");
    if (moe.numExperts > 0) {
        positive(moe.topK, "experts per token (num_experts_per_tok)");
        positive(moe.expertIntermediateSize, "expert intermediate size");
        if (moe.topK > moe.numExperts)
            throw Error(source + ": num_experts_per_tok (" + std::to_string(moe.topK) + ") exceeds the " +
                        std::to_string(moe.numExperts) + " experts");
        if (moe.numExperts > 4096)
            throw Error(source + ": " + std::to_string(moe.numExperts) + " experts is implausibly many (limit 4096)");
    }
    if (numHeads % numKvHeads != 0)
        throw Error(source + ": attention heads (" + std::to_string(numHeads) +
                    ") are not a multiple of key/value heads (" + std::to_string(numKvHeads) + ")");
    if (headDim % 2 != 0)
        throw Error(source + ": head dimension must be even for rotary embeddings");
    if (!(rmsNormEps > 0) || !(ropeTheta > 0))
        throw Error(source + ": rms_norm_eps and rope_theta must be positive");
    if (rope.type != RopeType::Default && !(rope.factor > 0 && std::isfinite(rope.factor)))
        throw Error(source + ": rope scaling factor must be positive");
    if (rope.type == RopeType::Llama3 && !(rope.highFreqFactor > rope.lowFreqFactor))
        throw Error(source + ": llama3 rope needs high_freq_factor > low_freq_factor");
    auto bounded = [&](int64_t v, int64_t limit, const char* name) {
        if (v > limit)
            throw Error(source + ": " + name + " " + std::to_string(v) + " is implausibly large (limit " +
                        std::to_string(limit) + ")");
    };
    bounded(hiddenSize, int64_t(1) << 20, "hidden size");
    bounded(intermediateSize, int64_t(1) << 20, "intermediate size");
    bounded(moe.expertIntermediateSize, int64_t(1) << 20, "expert intermediate size");
    bounded(numLayers, 4096, "number of layers");
    bounded(vocabSize, int64_t(1) << 24, "vocabulary size");
    bounded(maxPositions, int64_t(1) << 24, "max_position_embeddings (context length)");
}

} // namespace mpq
