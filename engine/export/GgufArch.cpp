// Model-family knowledge of the GGUF export: architecture keys, llama.cpp tensor names, the q/k
// row order and the tokenizer vocabulary (docs/gguf.md).
#include "export/detail/GgufArch.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "core/Files.h"
#include "tokenizer/SentencePieceModelProto.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace mpq::detail {

namespace {

//  model_type   arch        permute pre          oBias  mlpBias qkNorm moe    shexp  normTopk
const GgufFamily kFamilies[] = {
    {"llama",     "llama",    true,  "llama-bpe", true,  true,  false, false, false, false},
    {"mistral",   "llama",    true,  "llama-bpe", true,  true,  false, false, false, false},
    {"mixtral",   "llama",    true,  "llama-bpe", true,  false, false, true,  false, true},
    {"qwen2",     "qwen2",    false, "qwen2",     false, false, false, false, false, false},
    {"qwen3",     "qwen3",    false, "qwen2",     false, false, true,  false, false, false},
    {"qwen2_moe", "qwen2moe", false, "qwen2",     false, false, false, true,  true,  false},
    {"qwen3_moe", "qwen3moe", false, "qwen2",     false, false, true,  true,  false, true},
};

/// Hugging Face suffix inside a decoder layer → llama.cpp suffix inside "blk.N.".
const std::map<std::string, std::string> kLayerNames = {
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},        // qwen2
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"}, // qwen3
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"self_attn.o_proj.bias", "attn_output.bias"},     // llama's attention_bias
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate_proj.bias", "ffn_gate.bias"},          // llama's mlp_bias
    {"mlp.up_proj.bias", "ffn_up.bias"},
    {"mlp.down_proj.bias", "ffn_down.bias"},
    {"block_sparse_moe.gate.weight", "ffn_gate_inp.weight"}, // routers: Mixtral, Qwen-MoE
    {"mlp.gate.weight", "ffn_gate_inp.weight"},
    {"mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"}, // Qwen2-MoE's shared expert
    {"mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"},
    {"mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"},
    {"mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
};

std::string readText(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path + ": cannot read the file");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::json readJsonIfPresent(const std::string& path)
{
    if (!files::exists(path))
        return nlohmann::json::object();
    try {
        return nlohmann::json::parse(readText(path));
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": malformed JSON (" + e.what() + ")");
    }
}

/// "<s>" or {"content": "<s>", …} in tokenizer_config.json.
std::string tokenText(const nlohmann::json& v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    return {};
}

// llama.cpp's token types (llama_token_type).
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;

void padVocabulary(std::vector<std::string>& tokens, std::vector<float>* scores, std::vector<int32_t>& types,
                   int64_t vocabSize, const std::string& source)
{
    if (int64_t(tokens.size()) > vocabSize)
        throw Error(source + ": the tokenizer has " + std::to_string(tokens.size()) +
                    " tokens but the model's vocab_size is " + std::to_string(vocabSize));
    while (int64_t(tokens.size()) < vocabSize) {
        tokens.push_back("[PAD" + std::to_string(tokens.size()) + "]");
        if (scores)
            scores->push_back(-1000.0f);
        types.push_back(kUnused);
    }
}

} // namespace

const GgufFamily& ggufFamily(const std::string& modelType)
{
    for (const auto& f : kFamilies)
        if (modelType == f.modelType)
            return f;
    std::string known;
    for (const auto& f : kFamilies)
        known += (known.empty() ? "" : ", ") + std::string(f.modelType);
    throw Error("GGUF export: model_type \"" + modelType + "\" has no GGUF mapping (known: " + known + ")");
}

std::string hfModelType(const ModelSource& source)
{
    if (source.format() == ModelFormat::Llama2c)
        return "llama";
    const nlohmann::json j = readJsonIfPresent(files::join(source.path(), "config.json"));
    return j.value("model_type", std::string("llama"));
}

std::string ggufTensorName(const std::string& hf)
{
    if (hf == "model.embed_tokens.weight")
        return "token_embd.weight";
    if (hf == "model.norm.weight")
        return "output_norm.weight";
    if (hf == "lm_head.weight")
        return "output.weight";
    static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
    // Routed experts: one stacked tensor per layer and role (Mixtral's w1/w3/w2 are gate/up/down).
    static const std::regex expert(
        R"(model\.layers\.(\d+)\.(?:block_sparse_moe|mlp)\.experts\.\d+\.(w1|w3|w2|gate_proj|up_proj|down_proj)\.weight)");
    std::smatch m;
    if (std::regex_match(hf, m, expert)) {
        const std::string r = m[2].str();
        const char* role = r == "w1" || r == "gate_proj" ? "gate" : r == "w3" || r == "up_proj" ? "up" : "down";
        return "blk." + m[1].str() + ".ffn_" + role + "_exps.weight";
    }
    if (std::regex_match(hf, m, layer)) {
        const auto it = kLayerNames.find(m[2].str());
        if (it != kLayerNames.end())
            return "blk." + m[1].str() + "." + it->second;
    }
    throw Error("GGUF export: no llama.cpp name for tensor \"" + hf + "\"");
}

std::vector<uint8_t> permuteRopeRows(const std::vector<uint8_t>& rows, int64_t nRows, int64_t rowBytes,
                                     int64_t heads)
{
    if (heads <= 0 || nRows % heads != 0 || (nRows / heads) % 2 != 0)
        throw Error("GGUF export: cannot permute " + std::to_string(nRows) + " rows into " + std::to_string(heads) +
                    " heads of even size");
    const int64_t d = nRows / heads, halfD = d / 2;
    std::vector<uint8_t> out(rows.size());
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < halfD; ++i)
            for (int64_t p = 0; p < 2; ++p) {
                const int64_t dst = h * d + 2 * i + p, src = h * d + p * halfD + i;
                std::memcpy(out.data() + dst * rowBytes, rows.data() + src * rowBytes, size_t(rowBytes));
            }
    return out;
}

std::vector<std::string> checkGgufSupport(const GgufFamily& f, const ModelConfig& c)
{
    const std::string a = f.arch;
    auto refuse = [&](const std::string& what) {
        throw Error("GGUF export: " + what + " (docs/gguf.md, \"Families\")");
    };
    if (c.oBias && !f.oBias)
        refuse("the model has an o_proj bias (attention_bias), which llama.cpp's " + a +
               " architecture has no tensor for (it would refuse the file); a real " + c.modelType + " has none");
    if (c.mlpBias && !f.mlpBias)
        refuse("the model has MLP biases (mlp_bias), which llama.cpp's " + a + " architecture has no tensor for");
    if (c.qkNorm != f.qkNorm)
        refuse(std::string("llama.cpp's ") + a + " architecture " + (f.qkNorm ? "requires" : "has no") +
               " per-head q/k norms, which this model " + (c.qkNorm ? "has" : "lacks"));
    if (f.moe) {
        for (int64_t i = 0; i < c.numLayers; ++i)
            if (!c.isMoeLayer(i))
                refuse("decoder layer " + std::to_string(i) + " is a dense MLP (mlp_only_layers / decoder_sparse_step), "
                       "but llama.cpp's " + a + " architecture makes every layer a mixture of experts");
        if ((c.moe.sharedExpertIntermediateSize > 0) != f.sharedExpert)
            refuse(std::string("llama.cpp's ") + a + " architecture " + (f.sharedExpert ? "requires" : "has no") +
                   " shared expert");
        if (c.moe.normTopkProb != f.normTopk)
            refuse(std::string("llama.cpp's ") + a + " architecture " + (f.normTopk ? "renormalises" : "does not renormalise") +
                   " the top-k router weights, but this model's norm_topk_prob is " + (c.moe.normTopkProb ? "true" : "false"));
    } else if (c.moe.numExperts > 0) {
        refuse("a mixture of experts in the " + a + " architecture");
    }
    switch (c.rope.type) {
    case RopeType::Default:
    case RopeType::Linear:
    case RopeType::Llama3:
        break;
    case RopeType::Dynamic:
        refuse("dynamic NTK rope scaling, which llama.cpp does not implement");
        break;
    case RopeType::Yarn:
        // llama.cpp reads yarn's factor and original context; it uses beta_fast 32, beta_slow 1,
        // truncated correction dimensions and the attention factor 0.1·ln(factor) + 1 always.
        if (c.rope.betaFast != 32 || c.rope.betaSlow != 1 || !c.rope.truncate || c.rope.attentionFactor > 0 ||
            c.rope.mscale != 0 || c.rope.mscaleAllDim != 0)
            refuse("yarn rope scaling with beta_fast/beta_slow, truncate, attention_factor or mscale settings other "
                   "than the defaults, which llama.cpp's " + a + " architecture does not read");
        break;
    }
    std::vector<std::string> warnings;
    int64_t windowed = 0;
    for (int64_t i = 0; i < c.numLayers; ++i)
        windowed += c.windowOf(i) > 0 ? 1 : 0;
    if (windowed > 0)
        warnings.push_back("sliding window of " + std::to_string(c.slidingWindow) + " positions on " +
                           std::to_string(windowed) + " of " + std::to_string(c.numLayers) + " layers: llama.cpp's " + a +
                           " architecture attends to the whole context, so the GGUF file computes what this model "
                           "does only for contexts of up to " + std::to_string(c.slidingWindow) + " tokens");
    return warnings;
}

std::vector<float> llama3RopeFactors(const ModelConfig& c)
{
    if (c.rope.type != RopeType::Llama3)
        return {};
    // convert_hf_to_gguf.py: freqs in fp32, the rest in double.
    const double old = double(c.rope.originalMaxPositions > 0 ? c.rope.originalMaxPositions : c.maxPositions);
    const double lowWavelen = old / c.rope.lowFreqFactor, highWavelen = old / c.rope.highFreqFactor;
    std::vector<float> out;
    for (int64_t i = 0; i < c.headDim; i += 2) {
        const float freq = 1.0f / std::pow(float(c.ropeTheta), float(i) / float(c.headDim));
        const double wavelen = 2 * M_PI / double(freq);
        double f;
        if (wavelen < highWavelen)
            f = 1;
        else if (wavelen > lowWavelen)
            f = c.rope.factor;
        else {
            const double smooth = (old / wavelen - c.rope.lowFreqFactor) / (c.rope.highFreqFactor - c.rope.lowFreqFactor);
            f = 1 / ((1 - smooth) / c.rope.factor + smooth);
        }
        out.push_back(float(f));
    }
    return out;
}

void writeArchMetadata(GgufWriter& w, const GgufFamily& f, const ModelConfig& c)
{
    const std::string a = f.arch;
    w.setU32(a + ".context_length", uint32_t(c.maxPositions));
    w.setU32(a + ".embedding_length", uint32_t(c.hiddenSize));
    w.setU32(a + ".block_count", uint32_t(c.numLayers));
    // llama's (Mixtral's) experts take their width from feed_forward_length; Qwen-MoE's from
    // expert_feed_forward_length.
    w.setU32(a + ".feed_forward_length",
             uint32_t(f.moe && a == "llama" ? c.moe.expertIntermediateSize : c.intermediateSize));
    w.setU32(a + ".attention.head_count", uint32_t(c.numHeads));
    w.setU32(a + ".attention.head_count_kv", uint32_t(c.numKvHeads));
    w.setF32(a + ".rope.freq_base", float(c.ropeTheta));
    w.setF32(a + ".attention.layer_norm_rms_epsilon", float(c.rmsNormEps));
    w.setU32(a + ".rope.dimension_count", uint32_t(c.headDim));
    w.setU32(a + ".vocab_size", uint32_t(c.vocabSize));
    if (c.headDim * c.numHeads != c.hiddenSize) {
        w.setU32(a + ".attention.key_length", uint32_t(c.headDim));
        w.setU32(a + ".attention.value_length", uint32_t(c.headDim));
    }
    // Rope scaling as convert_hf_to_gguf.py writes it; llama3's is the rope_freqs tensor instead.
    if (c.rope.type == RopeType::Linear) {
        w.setString(a + ".rope.scaling.type", "linear");
        w.setF32(a + ".rope.scaling.factor", float(c.rope.factor));
    } else if (c.rope.type == RopeType::Yarn) {
        w.setString(a + ".rope.scaling.type", "yarn");
        w.setF32(a + ".rope.scaling.factor", float(c.rope.factor));
        w.setU32(a + ".rope.scaling.original_context_length",
                 uint32_t(c.rope.originalMaxPositions > 0 ? c.rope.originalMaxPositions : c.maxPositions));
    }
    if (c.moe.numExperts > 0) {
        w.setU32(a + ".expert_count", uint32_t(c.moe.numExperts));
        w.setU32(a + ".expert_used_count", uint32_t(c.moe.topK));
        if (a != "llama")
            w.setU32(a + ".expert_feed_forward_length", uint32_t(c.moe.expertIntermediateSize));
        if (c.moe.sharedExpertIntermediateSize > 0)
            w.setU32(a + ".expert_shared_feed_forward_length", uint32_t(c.moe.sharedExpertIntermediateSize));
    }
}

std::string writeTokenizerMetadata(GgufWriter& w, const GgufFamily& f, const ModelSource& source)
{
    const ModelConfig& cfg = source.config();
    const std::string folder =
        source.format() == ModelFormat::Llama2c ? files::parent(source.path()) : source.path();
    const nlohmann::json tcfg = readJsonIfPresent(files::join(folder, "tokenizer_config.json"));
    const std::string tokJson = files::join(folder, "tokenizer.json");
    bool addBos = true;

    // llama.cpp's "llama" vocabulary comes from a SentencePiece model: the one the model source
    // picked, else one beside a tokenizer.json (hub LLaMA-2 / Mistral folders carry both).
    const std::string& tokPath = source.tokenizerPath();
    std::string spmPath = tokPath.size() > 6 && tokPath.compare(tokPath.size() - 6, 6, ".model") == 0
                              ? tokPath
                              : files::join(folder, "tokenizer.model");
    if (!files::exists(spmPath))
        spmPath.clear();
    if (!spmPath.empty()) {
        // SentencePiece: llama.cpp's "llama" vocabulary (pieces, scores, token types).
        const std::string path = spmPath;
        const SentencePieceModelProto proto = SentencePieceModelProto::parse(readText(path), path);
        std::vector<std::string> tokens;
        std::vector<float> scores;
        std::vector<int32_t> types;
        for (const auto& p : proto.pieces) {
            tokens.push_back(p.piece);
            scores.push_back(p.score);
            types.push_back(int32_t(p.type)); // SentencePiece's numbering is llama.cpp's
        }
        padVocabulary(tokens, &scores, types, cfg.vocabSize, path);
        w.setString("tokenizer.ggml.model", "llama");
        w.setStringArray("tokenizer.ggml.tokens", tokens);
        w.setF32Array("tokenizer.ggml.scores", scores);
        w.setI32Array("tokenizer.ggml.token_type", types);
        const auto& ts = proto.trainerSpec;
        const int32_t bos = cfg.bosTokenId >= 0 && cfg.bosTokenId < int32_t(tokens.size()) ? cfg.bosTokenId : ts.bosId;
        const int32_t eos = cfg.eosTokenId >= 0 && cfg.eosTokenId < int32_t(tokens.size()) ? cfg.eosTokenId : ts.eosId;
        if (bos >= 0)
            w.setU32("tokenizer.ggml.bos_token_id", uint32_t(bos));
        if (eos >= 0)
            w.setU32("tokenizer.ggml.eos_token_id", uint32_t(eos));
        if (ts.unkId >= 0)
            w.setU32("tokenizer.ggml.unknown_token_id", uint32_t(ts.unkId));
        if (ts.padId >= 0)
            w.setU32("tokenizer.ggml.padding_token_id", uint32_t(ts.padId));
    } else if (files::exists(tokJson)) {
        // tokenizer.json (BPE): llama.cpp's "gpt2" vocabulary with merges, or its "llama" one.
        const nlohmann::json j = readJsonIfPresent(tokJson);
        try {
            const auto& model = j.at("model");
            if (model.value("type", std::string()) != "BPE")
                throw Error(tokJson + ": only BPE tokenizer.json files can be exported to GGUF");
            std::map<int64_t, std::string> byId;
            for (const auto& [tok, id] : model.at("vocab").items())
                byId[jsonInt<int64_t>(id, tokJson + ": the id of \"" + tok + "\"")] = tok;
            std::map<int64_t, int32_t> addedType;
            if (j.contains("added_tokens"))
                for (const auto& a : j["added_tokens"]) {
                    const int64_t id = jsonInt<int64_t>(a.at("id"), tokJson + ": an added token's id");
                    byId[id] = a.at("content").get<std::string>();
                    addedType[id] = a.value("special", false) ? kControl : kUserDefined;
                }
            const int64_t n = byId.empty() ? 0 : byId.rbegin()->first + 1;
            std::vector<std::string> merges;
            for (const auto& m : model.at("merges"))
                merges.push_back(m.is_string() ? m.get<std::string>()
                                               : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
            // A SentencePiece-style BPE (byte_fallback, "▁" for spaces: LLaMA-2 / Mistral folders
            // without tokenizer.model) is llama.cpp's "llama" vocabulary, which merges the adjacent
            // pair whose result scores highest: score = −(rank of the merge that makes the
            // token) reproduces BPE's lowest-rank-first order. Byte-level BPE is "gpt2" with merges.
            const bool spm = model.value("byte_fallback", false);
            std::map<std::string, int64_t> rankOf;
            if (spm)
                for (size_t r = 0; r < merges.size(); ++r) {
                    const size_t sp = merges[r].find(' ');
                    const std::string t = merges[r].substr(0, sp) + merges[r].substr(sp + 1);
                    rankOf.emplace(t, int64_t(r));
                }
            const std::string unk = model.contains("unk_token") && model["unk_token"].is_string()
                                        ? model["unk_token"].get<std::string>()
                                        : std::string();
            std::vector<std::string> tokens;
            std::vector<float> scores;
            std::vector<int32_t> types;
            for (int64_t id = 0; id < n; ++id) {
                const auto it = byId.find(id);
                tokens.push_back(it != byId.end() ? it->second : "[PAD" + std::to_string(id) + "]");
                const auto at = addedType.find(id);
                int32_t type = it == byId.end() ? kUnused : at != addedType.end() ? at->second : kNormal;
                const std::string& text = tokens.back();
                if (spm && text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>')
                    type = kByte;
                else if (spm && !unk.empty() && text == unk)
                    type = kUnknown;
                types.push_back(type);
                const auto r = rankOf.find(text);
                scores.push_back(r != rankOf.end() && type == kNormal ? -float(r->second) : 0.0f);
            }
            padVocabulary(tokens, spm ? &scores : nullptr, types, cfg.vocabSize, tokJson);
            if (spm) {
                w.setString("tokenizer.ggml.model", "llama");
                w.setString("tokenizer.ggml.pre", "default");
                w.setStringArray("tokenizer.ggml.tokens", tokens);
                w.setF32Array("tokenizer.ggml.scores", scores);
                w.setI32Array("tokenizer.ggml.token_type", types);
                // Metaspace's prepend_scheme "first"/"always" and the legacy Prepend("▁") normalizer
                // are llama.cpp's add_space_prefix; "never" turns it off.
                bool prefix = true;
                if (j.contains("pre_tokenizer") && j["pre_tokenizer"].is_object() &&
                    j["pre_tokenizer"].value("type", std::string()) == "Metaspace")
                    prefix = j["pre_tokenizer"].value("prepend_scheme", std::string("always")) != "never";
                if (tcfg.contains("add_prefix_space") && tcfg["add_prefix_space"].is_boolean())
                    prefix = tcfg["add_prefix_space"].get<bool>();
                w.setBool("tokenizer.ggml.add_space_prefix", prefix);
                if (!unk.empty())
                    for (const auto& [id, t] : byId)
                        if (t == unk) {
                            w.setU32("tokenizer.ggml.unknown_token_id", uint32_t(id));
                            break;
                        }
            } else {
                w.setString("tokenizer.ggml.model", "gpt2");
                w.setString("tokenizer.ggml.pre", f.bpePre);
                w.setStringArray("tokenizer.ggml.tokens", tokens);
                w.setI32Array("tokenizer.ggml.token_type", types);
                w.setStringArray("tokenizer.ggml.merges", merges);
            }
            auto idOf = [&](const std::string& text) -> int64_t {
                for (const auto& [id, t] : byId)
                    if (t == text)
                        return id;
                return -1;
            };
            const int64_t bos = tcfg.contains("bos_token") ? idOf(tokenText(tcfg["bos_token"])) : -1;
            const int64_t eos = tcfg.contains("eos_token") ? idOf(tokenText(tcfg["eos_token"])) : cfg.eosTokenId;
            if (bos >= 0)
                w.setU32("tokenizer.ggml.bos_token_id", uint32_t(bos));
            if (eos >= 0)
                w.setU32("tokenizer.ggml.eos_token_id", uint32_t(eos));
            if (tcfg.contains("pad_token")) {
                const int64_t pad = idOf(tokenText(tcfg["pad_token"]));
                if (pad >= 0)
                    w.setU32("tokenizer.ggml.padding_token_id", uint32_t(pad));
            }
            addBos = bos >= 0 && tcfg.value("add_bos_token", std::string(f.arch) == "llama");
        } catch (const nlohmann::json::exception& e) {
            throw Error(tokJson + ": unexpected layout (" + e.what() + ")");
        }
    } else {
        return source.path() + ": no tokenizer.model or tokenizer.json beside the model; the GGUF file has no "
                               "vocabulary and llama.cpp will refuse it";
    }
    if (tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean())
        addBos = tcfg["add_bos_token"].get<bool>();
    w.setBool("tokenizer.ggml.add_bos_token", addBos);
    w.setBool("tokenizer.ggml.add_eos_token",
              tcfg.contains("add_eos_token") && tcfg["add_eos_token"].is_boolean() && tcfg["add_eos_token"].get<bool>());
    if (tcfg.contains("chat_template") && tcfg["chat_template"].is_string())
        w.setString("tokenizer.chat_template", tcfg["chat_template"].get<std::string>());
    return {};
}

} // namespace mpq::detail
