// mpq-make-demo: makes the embedded demo model of MPQ Workbench (resources/demo/model/) from
// nothing but this repository: stories from a hand-written grammar (StoryGrammar.cpp), a byte-
// fallback BPE tokenizer learned on them (512 tokens, written as a Hugging Face tokenizer.json),
// and a 0.33M-parameter LLaMA trained on them with LibTorch, saved as a Hugging Face folder in
// float16. See docs/packaging.md ("The embedded demo") for why and how it was made.
//
//   mpq-make-demo OUT_DIR [--steps N] [--batch N] [--seq N] [--threads N] [--device cpu|cuda]
//
// It needs only LibTorch and nlohmann/json (no engine), so that it builds on a GPU machine as a
// project of its own (resources/demo/CMakeLists.txt): on two CPU cores training takes hours, on
// a GPU about a minute. Text and tokenizer are deterministic; the weights depend on the device
// and LibTorch build, so the committed files are the reference.
#include "StoryGrammar.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using ojson = nlohmann::ordered_json;
const std::string kSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's visible space

constexpr int64_t kVocab = 512, kDim = 64, kLayers = 5, kHeads = 8, kInter = 192, kMaxPos = 256;
constexpr double kRopeTheta = 10000.0, kEps = 1e-5;

void writeFile(const std::filesystem::path& p, const std::string& text)
{
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out)
        throw std::runtime_error(p.string() + ": write failed");
}

/// UTF-8 characters of `s`.
std::vector<std::string> chars(const std::string& s)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

/// Metaspace (prepend "first", split): spaces become ▁, one ▁ in front, a piece starts at each ▁.
std::map<std::string, int64_t> pieceCounts(const std::string& text)
{
    std::string t = kSpace;
    for (char c : text)
        t += c == ' ' ? kSpace : std::string(1, c);
    std::map<std::string, int64_t> counts;
    size_t start = 0;
    while (start < t.size()) {
        size_t next = t.find(kSpace, start + kSpace.size());
        if (next == std::string::npos)
            next = t.size();
        ++counts[t.substr(start, next - start)];
        start = next;
    }
    return counts;
}

/// Learns BPE merges on the pieces until the vocabulary has kVocab tokens. Merges never involve a
/// newline, and ties go to the lexicographically smaller pair (deterministic).
ojson makeTokenizer(const std::string& text)
{
    const auto counts = pieceCounts(text);
    std::vector<std::pair<std::vector<std::string>, int64_t>> words;
    std::set<std::string> alphabet;
    for (const auto& [piece, n] : counts) {
        words.push_back({chars(piece), n});
        for (const auto& c : words.back().first)
            alphabet.insert(c);
    }
    ojson vocab = ojson::object();
    vocab["<unk>"] = 0;
    vocab["<s>"] = 1;
    vocab["</s>"] = 2;
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = 3 + b;
    }
    int64_t id = 259;
    for (const auto& c : alphabet)
        vocab[c] = id++;
    ojson merges = ojson::array();
    while (id < kVocab) {
        std::map<std::pair<std::string, std::string>, int64_t> pairs;
        for (const auto& [w, n] : words)
            for (size_t i = 0; i + 1 < w.size(); ++i)
                if (w[i] != "\n" && w[i + 1] != "\n")
                    pairs[{w[i], w[i + 1]}] += n;
        if (pairs.empty())
            break;
        auto best = pairs.begin();
        for (auto it = pairs.begin(); it != pairs.end(); ++it)
            if (it->second > best->second)
                best = it;
        const auto [a, b] = best->first;
        merges.push_back(ojson::array({a, b}));
        vocab[a + b] = id++;
        for (auto& [w, n] : words) {
            std::vector<std::string> m;
            for (size_t i = 0; i < w.size(); ++i) {
                if (i + 1 < w.size() && w[i] == a && w[i + 1] == b) {
                    m.push_back(a + b);
                    ++i;
                } else {
                    m.push_back(w[i]);
                }
            }
            w = std::move(m);
        }
    }
    auto special = [](int i, const char* s) {
        return ojson{{"id", i},         {"content", s},        {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}};
    };
    const ojson metaspace = {{"type", "Metaspace"}, {"replacement", kSpace}, {"prepend_scheme", "first"}, {"split", true}};
    ojson tok;
    tok["version"] = "1.0";
    tok["truncation"] = nullptr;
    tok["padding"] = nullptr;
    tok["added_tokens"] = ojson::array({special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")});
    tok["normalizer"] = nullptr;
    tok["pre_tokenizer"] = metaspace;
    tok["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", ojson::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", ojson::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                               {{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    tok["decoder"] = {{"type", "Sequence"},
                      {"decoders", ojson::array({metaspace, {{"type", "ByteFallback"}}, {{"type", "Fuse"}}})}};
    tok["model"] = {{"type", "BPE"},       {"dropout", nullptr},   {"unk_token", "<unk>"},
                    {"continuing_subword_prefix", nullptr},       {"end_of_word_suffix", nullptr},
                    {"fuse_unk", true},    {"byte_fallback", true}, {"ignore_merges", false},
                    {"vocab", vocab},      {"merges", merges}};
    return tok;
}

/// BPE as the tokenizers library applies it to one Metaspace piece: the lowest-ranked merge of an
/// adjacent pair first, until none applies. Characters outside the vocabulary become byte tokens.
std::vector<int64_t> encode(const std::string& text, const ojson& tok)
{
    const ojson& vocab = tok["model"]["vocab"];
    std::map<std::pair<std::string, std::string>, size_t> rank;
    for (size_t i = 0; i < tok["model"]["merges"].size(); ++i) {
        const auto& m = tok["model"]["merges"][i];
        rank[{m[0].get<std::string>(), m[1].get<std::string>()}] = i;
    }
    std::vector<int64_t> ids;
    std::string t = kSpace;
    for (char c : text)
        t += c == ' ' ? kSpace : std::string(1, c);
    size_t start = 0;
    while (start < t.size()) {
        size_t next = t.find(kSpace, start + kSpace.size());
        if (next == std::string::npos)
            next = t.size();
        std::vector<std::string> w = chars(t.substr(start, next - start));
        start = next;
        for (;;) {
            size_t best = SIZE_MAX, at = 0;
            for (size_t i = 0; i + 1 < w.size(); ++i) {
                auto it = rank.find({w[i], w[i + 1]});
                if (it != rank.end() && it->second < best) {
                    best = it->second;
                    at = i;
                }
            }
            if (best == SIZE_MAX)
                break;
            w[at] += w[at + 1];
            w.erase(w.begin() + long(at) + 1);
        }
        for (const auto& p : w) {
            if (vocab.contains(p)) {
                ids.push_back(vocab[p].get<int64_t>());
            } else {
                for (unsigned char b : p)
                    ids.push_back(3 + b);
            }
        }
    }
    return ids;
}

/// A .safetensors file: 8-byte little-endian header length, JSON header, raw data.
void writeSafetensors(const std::filesystem::path& p, const std::map<std::string, torch::Tensor>& tensors)
{
    ojson header = ojson::object();
    header["__metadata__"] = {{"format", "pt"},
                              {"mpq_demo", "trained by resources/demo/MakeDemoModel.cpp on StoryGrammar stories; GPL-3.0-or-later"}};
    std::string data;
    for (const auto& [name, t] : tensors) {
        auto h = t.detach().to(torch::kCPU, torch::kFloat16).contiguous();
        const size_t begin = data.size();
        data.append(static_cast<const char*>(h.data_ptr()), size_t(h.numel()) * 2);
        header[name] = {{"dtype", "F16"}, {"shape", h.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    uint64_t n = json.size();
    for (int i = 0; i < 8; ++i)
        out[size_t(i)] = char((n >> (8 * i)) & 0xFF);
    writeFile(p, out + json + data);
}

/// The LLaMA forward pass as transformers writes it (RMSNorm, rotate-half RoPE, SwiGLU), on a
/// map of tensors named as in a Hugging Face checkpoint.
struct TinyLlama {
    std::map<std::string, torch::Tensor> w;
    torch::Tensor cosT, sinT;

    TinyLlama(uint64_t seed, torch::Device dev)
    {
        torch::manual_seed(seed);
        auto normal = [](int64_t r, int64_t c, double std) { return (torch::randn({r, c}) * std).requires_grad_(); };
        const double proj = 0.02 / std::sqrt(2.0 * kLayers);
        w["model.embed_tokens.weight"] = normal(kVocab, kDim, 0.02);
        w["lm_head.weight"] = normal(kVocab, kDim, 0.02);
        w["model.norm.weight"] = torch::ones({kDim}).requires_grad_();
        for (int64_t l = 0; l < kLayers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            w[p + "input_layernorm.weight"] = torch::ones({kDim}).requires_grad_();
            w[p + "post_attention_layernorm.weight"] = torch::ones({kDim}).requires_grad_();
            for (const char* n : {"q_proj", "k_proj", "v_proj"})
                w[p + "self_attn." + n + ".weight"] = normal(kDim, kDim, 0.02);
            w[p + "self_attn.o_proj.weight"] = normal(kDim, kDim, proj);
            w[p + "mlp.gate_proj.weight"] = normal(kInter, kDim, 0.02);
            w[p + "mlp.up_proj.weight"] = normal(kInter, kDim, 0.02);
            w[p + "mlp.down_proj.weight"] = normal(kDim, kInter, proj);
        }
        const int64_t hd = kDim / kHeads;
        auto invFreq = 1.0 / torch::pow(kRopeTheta, torch::arange(0, hd, 2, torch::kFloat64) / double(hd));
        auto freqs = torch::outer(torch::arange(kMaxPos, torch::kFloat64), invFreq);
        auto emb = torch::cat({freqs, freqs}, -1);
        cosT = emb.cos().to(dev, torch::kFloat32);
        sinT = emb.sin().to(dev, torch::kFloat32);
        for (auto& [n, t] : w)
            t = t.detach().to(dev).requires_grad_();
    }

    std::vector<torch::Tensor> parameters() const
    {
        std::vector<torch::Tensor> p;
        for (const auto& [n, t] : w)
            p.push_back(t);
        return p;
    }

    static torch::Tensor rms(const torch::Tensor& x, const torch::Tensor& g)
    {
        return x * torch::rsqrt(x.pow(2).mean(-1, true) + kEps) * g;
    }
    static torch::Tensor rotateHalf(const torch::Tensor& x)
    {
        auto halves = x.chunk(2, -1);
        return torch::cat({-halves[1], halves[0]}, -1);
    }

    torch::Tensor forward(const torch::Tensor& ids) const
    {
        const int64_t B = ids.size(0), T = ids.size(1), hd = kDim / kHeads;
        auto x = torch::embedding(w.at("model.embed_tokens.weight"), ids);
        auto cos = cosT.slice(0, 0, T), sin = sinT.slice(0, 0, T);
        auto mask = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(ids.device())).triu(1);
        for (int64_t l = 0; l < kLayers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            auto h = rms(x, w.at(p + "input_layernorm.weight"));
            auto split = [&](const char* n) {
                return torch::linear(h, w.at(p + "self_attn." + n + ".weight")).view({B, T, kHeads, hd}).transpose(1, 2);
            };
            auto q = split("q_proj"), k = split("k_proj"), v = split("v_proj");
            q = q * cos + rotateHalf(q) * sin;
            k = k * cos + rotateHalf(k) * sin;
            auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(hd));
            att = att.masked_fill(mask, -INFINITY).softmax(-1);
            auto o = torch::matmul(att, v).transpose(1, 2).reshape({B, T, kDim});
            x = x + torch::linear(o, w.at(p + "self_attn.o_proj.weight"));
            h = rms(x, w.at(p + "post_attention_layernorm.weight"));
            auto m = torch::silu(torch::linear(h, w.at(p + "mlp.gate_proj.weight"))) * torch::linear(h, w.at(p + "mlp.up_proj.weight"));
            x = x + torch::linear(m, w.at(p + "mlp.down_proj.weight"));
        }
        return torch::linear(rms(x, w.at("model.norm.weight")), w.at("lm_head.weight"));
    }
};

/// Mean next-token loss over consecutive windows of `len` tokens (GPTQ's protocol, no BOS).
double evalLoss(const TinyLlama& m, const torch::Tensor& ids, int64_t len)
{
    torch::NoGradGuard ng;
    const int64_t n = std::min<int64_t>(ids.size(0) / len, 32);
    auto windows = ids.slice(0, 0, n * len).view({n, len});
    auto logits = m.forward(windows);
    return torch::nn::functional::cross_entropy(logits.slice(1, 0, len - 1).reshape({-1, kVocab}),
                                                windows.slice(1, 1, len).reshape({-1}))
        .item<double>();
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: mpq-make-demo OUT_DIR [--steps N] [--batch N] [--seq N] [--threads N] [--device cpu|cuda]\n");
        return 2;
    }
    const std::filesystem::path out = argv[1];
    int steps = 3000, threads = 2;
    std::string device = "cpu";
    int64_t batch = 32, len = kMaxPos;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--steps")
            steps = std::stoi(argv[i + 1]);
        else if (a == "--threads")
            threads = std::stoi(argv[i + 1]);
        else if (a == "--batch")
            batch = std::stoll(argv[i + 1]);
        else if (a == "--seq")
            len = std::min<int64_t>(kMaxPos, std::stoll(argv[i + 1]));
        else if (a == "--device")
            device = argv[i + 1];
    }
    torch::set_num_threads(threads);
    const torch::Device dev(device);
    std::filesystem::create_directories(out);

    const std::string train = mpq::demo::generateStories(1, 3000);
    const std::string valid = mpq::demo::generateStories(2, 120);
    const std::string calib = mpq::demo::generateStories(3, 120);
    writeFile(out / "demo-valid.txt", valid);
    writeFile(out / "demo-calib.txt", calib);

    const ojson tokenizer = makeTokenizer(train);
    writeFile(out / "tokenizer.json", tokenizer.dump(1) + "\n");
    writeFile(out / "tokenizer_config.json",
              ojson{{"tokenizer_class", "LlamaTokenizer"}, {"add_bos_token", true}, {"add_eos_token", false},
                    {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"legacy", false},
                    {"clean_up_tokenization_spaces", false}}
                      .dump(2) + "\n");
    const auto trainIds = torch::tensor(encode(train, tokenizer), torch::kInt64);
    const auto validIds = torch::tensor(encode(valid, tokenizer), torch::kInt64).to(dev);
    std::printf("corpus: %zu bytes, %lld tokens; valid %zu bytes, %lld tokens\n", train.size(),
                (long long)trainIds.size(0), valid.size(), (long long)validIds.size(0));

    TinyLlama model(1234, dev);
    torch::optim::AdamW opt(model.parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.01).betas({0.9, 0.95}));
    torch::manual_seed(42);
    const auto t0 = std::chrono::steady_clock::now();
    for (int step = 0; step < steps; ++step) {
        const double lr = step < 50 ? 3e-3 * (step + 1) / 50.0
                                    : 3e-4 + 0.5 * (3e-3 - 3e-4) * (1 + std::cos(M_PI * (step - 50) / double(steps - 50)));
        for (auto& g : opt.param_groups())
            static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        auto starts = torch::randint(0, trainIds.size(0) - len - 1, {batch}, torch::kInt64);
        std::vector<torch::Tensor> rows;
        for (int64_t b = 0; b < batch; ++b)
            rows.push_back(trainIds.slice(0, starts[b].item<int64_t>(), starts[b].item<int64_t>() + len + 1));
        auto xy = torch::stack(rows).to(dev);
        auto logits = model.forward(xy.slice(1, 0, len));
        auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, kVocab}), xy.slice(1, 1, len + 1).reshape({-1}));
        opt.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(model.parameters(), 1.0);
        opt.step();
        if (step % 100 == 0 || step + 1 == steps) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::printf("step %d  lr %.2e  train loss %.4f  valid ppl(%lld) %.3f  %.0f s\n", step, lr,
                        loss.item<double>(), (long long)len, std::exp(evalLoss(model, validIds, len)), s);
            std::fflush(stdout);
        }
    }

    // float16 as published checkpoints are; the perplexity printed last is of the float32 weights.
    writeSafetensors(out / "model.safetensors", model.w);
    const ojson config = {{"architectures", {"LlamaForCausalLM"}},
                          {"model_type", "llama"},
                          {"hidden_size", kDim},
                          {"intermediate_size", kInter},
                          {"num_hidden_layers", kLayers},
                          {"num_attention_heads", kHeads},
                          {"num_key_value_heads", kHeads},
                          {"vocab_size", kVocab},
                          {"max_position_embeddings", kMaxPos},
                          {"rms_norm_eps", kEps},
                          {"rope_theta", kRopeTheta},
                          {"tie_word_embeddings", false},
                          {"torch_dtype", "float16"},
                          {"hidden_act", "silu"},
                          {"bos_token_id", 1},
                          {"eos_token_id", 2}};
    writeFile(out / "config.json", config.dump(2) + "\n");
    std::printf("wrote %s\n", out.string().c_str());
    return 0;
}
