#include "model/LlamaArch.h"

#include <cstdlib>

namespace mpq::llama {

const char* roleName(Role r)
{
    switch (r) {
    case Role::Q: return "q_proj";
    case Role::K: return "k_proj";
    case Role::V: return "v_proj";
    case Role::O: return "o_proj";
    case Role::Gate: return "gate_proj";
    case Role::Up: return "up_proj";
    case Role::Down: return "down_proj";
    }
    return "?";
}

namespace {

std::string layerPrefix(int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".";
}

/// The MLP module path of a layer: "mlp." for dense and Qwen-MoE layers, Mixtral's "block_sparse_moe.".
std::string mlpPrefix(const ModelConfig& c, int64_t layer)
{
    return layerPrefix(layer) + (c.moe.kind == MoeKind::Mixtral && c.isMoeLayer(layer) ? "block_sparse_moe." : "mlp.");
}

} // namespace

std::string inputNormTensor(int64_t layer) { return layerPrefix(layer) + "input_layernorm.weight"; }
std::string postAttentionNormTensor(int64_t layer) { return layerPrefix(layer) + "post_attention_layernorm.weight"; }
std::string qNormTensor(int64_t layer) { return layerPrefix(layer) + "self_attn.q_norm.weight"; }
std::string kNormTensor(int64_t layer) { return layerPrefix(layer) + "self_attn.k_norm.weight"; }
std::string routerTensor(const ModelConfig& c, int64_t layer) { return mlpPrefix(c, layer) + "gate.weight"; }
std::string sharedExpertGateTensor(int64_t layer) { return layerPrefix(layer) + "mlp.shared_expert_gate.weight"; }

std::string denseLinearTensor(int64_t layer, Role r)
{
    const bool attention = r == Role::Q || r == Role::K || r == Role::V || r == Role::O;
    return layerPrefix(layer) + (attention ? "self_attn." : "mlp.") + roleName(r) + ".weight";
}

std::vector<LinearSpec> layerLinears(const ModelConfig& c, int64_t layer)
{
    std::vector<LinearSpec> out;
    const int64_t H = c.hiddenSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
    auto add = [&](const std::string& module, const std::string& shortName, int64_t rows, int64_t cols, Stage s,
                   Role r, int expert, bool bias) {
        LinearSpec spec;
        spec.name = shortName;
        spec.tensor = module + ".weight";
        spec.bias = bias ? module + ".bias" : std::string();
        spec.rows = rows;
        spec.cols = cols;
        spec.stage = s;
        spec.role = r;
        spec.expert = expert;
        out.push_back(std::move(spec));
    };
    const std::string attn = layerPrefix(layer) + "self_attn.";
    add(attn + "q_proj", "q_proj", q, H, Stage::AttentionInput, Role::Q, kDense, c.qkvBias);
    add(attn + "k_proj", "k_proj", kv, H, Stage::AttentionInput, Role::K, kDense, c.qkvBias);
    add(attn + "v_proj", "v_proj", kv, H, Stage::AttentionInput, Role::V, kDense, c.qkvBias);
    add(attn + "o_proj", "o_proj", H, q, Stage::AttentionOutput, Role::O, kDense, c.oBias);

    const std::string mlp = mlpPrefix(c, layer);
    auto swiglu = [&](const std::string& module, const std::string& shortPrefix, int64_t width, int expert,
                      bool bias, bool mixtralNames) {
        const char* g = mixtralNames ? "w1" : "gate_proj";
        const char* u = mixtralNames ? "w3" : "up_proj";
        const char* d = mixtralNames ? "w2" : "down_proj";
        add(module + g, shortPrefix + g, width, H, Stage::MlpInput, Role::Gate, expert, bias);
        add(module + u, shortPrefix + u, width, H, Stage::MlpInput, Role::Up, expert, bias);
        add(module + d, shortPrefix + d, H, width, Stage::MlpHidden, Role::Down, expert, bias);
    };
    if (!c.isMoeLayer(layer)) {
        swiglu(mlp, "", c.intermediateSize, kDense, c.mlpBias, false);
        return out;
    }
    if (c.moe.sharedExpertIntermediateSize > 0)
        swiglu(mlp + "shared_expert.", "shared_expert.", c.moe.sharedExpertIntermediateSize, kSharedExpert, false, false);
    const bool mixtral = c.moe.kind == MoeKind::Mixtral;
    for (int64_t e = 0; e < c.moe.numExperts; ++e) {
        const std::string tag = "experts." + std::to_string(e) + ".";
        swiglu(mlp + tag, tag, c.moe.expertIntermediateSize, int(e), false, mixtral);
    }
    return out;
}

int hessianGroup(Stage stage, int expert)
{
    if (expert < 0)
        return int(stage);
    return 4 + 2 * expert + (stage == Stage::MlpHidden ? 1 : 0);
}

int hessianGroup(const LinearSpec& s)
{
    return hessianGroup(s.stage, s.expert);
}

const LinearSpec* findLinear(const std::vector<LinearSpec>& linears, const std::string& tensor)
{
    for (const auto& s : linears)
        if (s.tensor == tensor)
            return &s;
    return nullptr;
}

int64_t layerOf(const std::string& tensor)
{
    const std::string prefix = "model.layers.";
    if (tensor.compare(0, prefix.size(), prefix) != 0)
        return -1;
    const char* begin = tensor.c_str() + prefix.size();
    char* end = nullptr;
    const long long v = std::strtoll(begin, &end, 10);
    if (end == begin || *end != '.')
        return -1;
    return v;
}

std::string shortNameOf(const std::string& tensor)
{
    std::string s = tensor;
    if (layerOf(s) >= 0)
        s = s.substr(s.find('.', std::string("model.layers.").size()) + 1);
    for (const char* prefix : {"self_attn.", "mlp.", "block_sparse_moe."})
        if (s.compare(0, std::char_traits<char>::length(prefix), prefix) == 0) {
            s = s.substr(std::char_traits<char>::length(prefix));
            break;
        }
    const std::string suffix = ".weight";
    if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
        s.resize(s.size() - suffix.size());
    return s;
}

std::vector<ExpectedTensor> expectedTensors(const ModelConfig& c)
{
    std::vector<ExpectedTensor> out;
    out.push_back({embedTensor(), {c.vocabSize, c.hiddenSize}});
    for (int64_t i = 0; i < c.numLayers; ++i) {
        out.push_back({inputNormTensor(i), {c.hiddenSize}});
        if (c.qkNorm) {
            out.push_back({qNormTensor(i), {c.headDim}});
            out.push_back({kNormTensor(i), {c.headDim}});
        }
        bool routerDone = false;
        for (const LinearSpec& s : layerLinears(c, i)) {
            if (s.stage == Stage::MlpInput && s.role == Role::Gate && !routerDone) {
                out.push_back({postAttentionNormTensor(i), {c.hiddenSize}});
                if (c.isMoeLayer(i)) {
                    out.push_back({routerTensor(c, i), {c.moe.numExperts, c.hiddenSize}});
                    if (c.moe.sharedExpertIntermediateSize > 0)
                        out.push_back({sharedExpertGateTensor(i), {1, c.hiddenSize}});
                }
                routerDone = true;
            }
            out.push_back({s.tensor, {s.rows, s.cols}});
            if (!s.bias.empty())
                out.push_back({s.bias, {s.rows}});
        }
    }
    out.push_back({finalNormTensor(), {c.hiddenSize}});
    if (!c.tieWordEmbeddings)
        out.push_back({lmHeadTensor(), {c.vocabSize, c.hiddenSize}});
    return out;
}

} // namespace mpq::llama
