#include "model/ModelConfig.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq {

int64_t ModelConfig::layerParameters() const
{
    const int64_t attention = hiddenSize * numHeads * headDim * 2      // q, o
                              + hiddenSize * numKvHeads * headDim * 2; // k, v
    const int64_t mlp = 3 * hiddenSize * intermediateSize;
    return attention + mlp + 2 * hiddenSize;
}

int64_t ModelConfig::totalParameters() const
{
    const int64_t embedding = vocabSize * hiddenSize;
    return embedding * (tieWordEmbeddings ? 1 : 2) + numLayers * layerParameters() + hiddenSize;
}

namespace {

using nlohmann::json;

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
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        throw Error(file + ": field \"" + key + "\" has the wrong type");
    }
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

    const std::string modelType = optional<std::string>(j, "model_type", "llama", file);
    if (modelType != "llama" && modelType != "mistral")
        throw Error(file + ": model_type \"" + modelType +
                    "\" is not a LLaMA-family decoder (expected \"llama\")");
    if (optional<bool>(j, "attention_bias", false, file) || optional<bool>(j, "mlp_bias", false, file))
        throw Error(file + ": attention_bias/mlp_bias models are not supported");
    const std::string act = optional<std::string>(j, "hidden_act", "silu", file);
    if (act != "silu")
        throw Error(file + ": hidden_act \"" + act + "\" is not supported (expected silu)");

    ModelConfig c;
    c.hiddenSize = requireInt(j, "hidden_size", file);
    c.intermediateSize = requireInt(j, "intermediate_size", file);
    c.numLayers = requireInt(j, "num_hidden_layers", file);
    c.numHeads = requireInt(j, "num_attention_heads", file);
    c.numKvHeads = optional<int64_t>(j, "num_key_value_heads", c.numHeads, file);
    c.vocabSize = requireInt(j, "vocab_size", file);
    c.maxPositions = optional<int64_t>(j, "max_position_embeddings", 2048, file);
    c.rmsNormEps = optional<double>(j, "rms_norm_eps", 1e-6, file);
    c.tieWordEmbeddings = optional<bool>(j, "tie_word_embeddings", false, file);
    c.headDim = optional<int64_t>(j, "head_dim", c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0, file);
    c.bosTokenId = static_cast<int32_t>(optional<int64_t>(j, "bos_token_id", 1, file));
    c.eosTokenId = static_cast<int32_t>(optional<int64_t>(j, "eos_token_id", 2, file));

    // transformers >= 5 writes "dtype" and nests rope_theta in "rope_parameters";
    // older versions write "torch_dtype" and a top-level "rope_theta".
    c.torchDtype = optional<std::string>(j, "torch_dtype", optional<std::string>(j, "dtype", "float32", file), file);
    c.ropeTheta = optional<double>(j, "rope_theta", 10000.0, file);
    for (const char* key : {"rope_parameters", "rope_scaling"}) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null())
            continue;
        if (!it->is_object())
            throw Error(file + ": \"" + key + "\" must be an object");
        const std::string type = optional<std::string>(*it, "rope_type", optional<std::string>(*it, "type", "default", file), file);
        if (type != "default")
            throw Error(file + ": rope type \"" + type + "\" is not supported (only \"default\")");
        c.ropeTheta = optional<double>(*it, "rope_theta", c.ropeTheta, file);
    }
    c.validate(file);
    return c;
}

void ModelConfig::validate(const std::string& source) const
{
    auto positive = [&](int64_t v, const char* name) {
        if (v <= 0)
            throw Error(source + ": " + name + " must be positive (got " + std::to_string(v) + ")");
    };
    positive(hiddenSize, "hidden size");
    positive(intermediateSize, "intermediate size");
    positive(numLayers, "number of layers");
    positive(numHeads, "number of attention heads");
    positive(numKvHeads, "number of key/value heads");
    positive(headDim, "head dimension");
    positive(vocabSize, "vocabulary size");
    positive(maxPositions, "maximum positions");
    if (numHeads % numKvHeads != 0)
        throw Error(source + ": attention heads (" + std::to_string(numHeads) +
                    ") are not a multiple of key/value heads (" + std::to_string(numKvHeads) + ")");
    if (headDim % 2 != 0)
        throw Error(source + ": head dimension must be even for rotary embeddings");
    if (!(rmsNormEps > 0) || !(ropeTheta > 0))
        throw Error(source + ": rms_norm_eps and rope_theta must be positive");
    auto bounded = [&](int64_t v, int64_t limit, const char* name) {
        if (v > limit)
            throw Error(source + ": " + name + " " + std::to_string(v) + " is implausibly large (limit " +
                        std::to_string(limit) + ")");
    };
    bounded(hiddenSize, int64_t(1) << 20, "hidden size");
    bounded(intermediateSize, int64_t(1) << 20, "intermediate size");
    bounded(numLayers, 4096, "number of layers");
    bounded(vocabSize, int64_t(1) << 24, "vocabulary size");
    bounded(maxPositions, int64_t(1) << 24, "max_position_embeddings (context length)");
}

} // namespace mpq
