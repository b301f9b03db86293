#include "model/LlamaArch.h"

namespace mpq::llama {

const char* linearName(Linear l)
{
    switch (l) {
    case Linear::Q: return "q_proj";
    case Linear::K: return "k_proj";
    case Linear::V: return "v_proj";
    case Linear::O: return "o_proj";
    case Linear::Gate: return "gate_proj";
    case Linear::Up: return "up_proj";
    case Linear::Down: return "down_proj";
    }
    return "?";
}

std::string linearTensor(int64_t layer, Linear l)
{
    const bool attention = l == Linear::Q || l == Linear::K || l == Linear::V || l == Linear::O;
    return "model.layers." + std::to_string(layer) + (attention ? ".self_attn." : ".mlp.") +
           linearName(l) + ".weight";
}

std::string inputNormTensor(int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".input_layernorm.weight";
}

std::string postAttentionNormTensor(int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".post_attention_layernorm.weight";
}

std::vector<int64_t> linearShape(const ModelConfig& c, Linear l)
{
    switch (l) {
    case Linear::Q: return {c.numHeads * c.headDim, c.hiddenSize};
    case Linear::K:
    case Linear::V: return {c.numKvHeads * c.headDim, c.hiddenSize};
    case Linear::O: return {c.hiddenSize, c.numHeads * c.headDim};
    case Linear::Gate:
    case Linear::Up: return {c.intermediateSize, c.hiddenSize};
    case Linear::Down: return {c.hiddenSize, c.intermediateSize};
    }
    return {};
}

const std::vector<std::vector<Linear>>& trueSequentialGroups()
{
    static const std::vector<std::vector<Linear>> groups = {
        {Linear::Q, Linear::K, Linear::V}, {Linear::O}, {Linear::Gate, Linear::Up}, {Linear::Down}};
    return groups;
}

std::vector<ExpectedTensor> expectedTensors(const ModelConfig& c)
{
    std::vector<ExpectedTensor> out;
    out.push_back({embedTensor(), {c.vocabSize, c.hiddenSize}});
    for (int64_t i = 0; i < c.numLayers; ++i) {
        out.push_back({inputNormTensor(i), {c.hiddenSize}});
        for (Linear l : kLinears)
            out.push_back({linearTensor(i, l), linearShape(c, l)});
        out.push_back({postAttentionNormTensor(i), {c.hiddenSize}});
    }
    out.push_back({finalNormTensor(), {c.hiddenSize}});
    if (!c.tieWordEmbeddings)
        out.push_back({lmHeadTensor(), {c.vocabSize, c.hiddenSize}});
    return out;
}

} // namespace mpq::llama
