// Writes the seed corpora of the fuzz targets into DIR/<target>/ (fuzz/corpus/ in the
// repository), each a few hundred bytes to a few tens of KiB, made by the engine's own writers
// from the fuzz fixture (a tiny synthetic LLaMA) or written out field by field here. Nothing is
// copied from the shared data. `fuzz_make_seeds DIR`.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/SafetensorsWriter.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string g_out;

void put(const std::string& target, const std::string& name, const std::string& bytes)
{
    const std::string dir = g_out + "/" + target;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name, std::ios::binary | std::ios::trunc) << bytes;
}

std::string floats(size_t n, float start)
{
    std::string s(n * 4, '\0');
    for (size_t i = 0; i < n; ++i) {
        const float v = start + 0.25f * float(i % 7) - 0.5f;
        std::memcpy(&s[i * 4], &v, 4);
    }
    return s;
}

// --- protobuf wire format, for a tiny SentencePiece ModelProto ---
std::string varint(uint64_t v)
{
    std::string s;
    while (v >= 0x80) {
        s += char((v & 0x7f) | 0x80);
        v >>= 7;
    }
    s += char(v);
    return s;
}
std::string key(int field, int wire) { return varint(uint64_t(field) << 3 | uint64_t(wire)); }
std::string bytesField(int field, const std::string& b) { return key(field, 2) + varint(b.size()) + b; }
std::string intField(int field, uint64_t v) { return key(field, 0) + varint(v); }
std::string floatField(int field, float f)
{
    std::string s(4, '\0');
    std::memcpy(&s[0], &f, 4);
    return key(field, 5) + s;
}

/// pieces (field 1: piece 1, score 2, type 3), trainer_spec (field 2: model_type 3,
/// byte_fallback 35), normalizer_spec (field 3: name 1, add_dummy_prefix 3).
std::string sentencePieceModel(int modelType, bool byteFallback)
{
    std::string m;
    auto piece = [&](const std::string& p, float score, int type) {
        m += bytesField(1, bytesField(1, p) + floatField(2, score) + intField(3, uint64_t(type)));
    };
    piece("<unk>", 0, 2);
    piece("<s>", 0, 3);
    piece("</s>", 0, 3);
    if (byteFallback)
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            piece(name, 0, 6);
        }
    const char* words[] = {"\xe2\x96\x81", "a", "e", "n", "o", "t", "\xe2\x96\x81t", "on", "ce", "up",
                           "\xe2\x96\x81" "a", "\xe2\x96\x81on", "\xe2\x96\x81up", "im", "e,"};
    float score = -1;
    for (const char* w : words)
        piece(w, score -= 0.5f, 1);
    m += bytesField(2, intField(3, uint64_t(modelType)) + intField(35, byteFallback ? 1 : 0));
    m += bytesField(3, bytesField(1, "identity") + intField(3, 1));
    return m;
}

std::string llama2c(int32_t dim, int32_t hidden, int32_t layers, int32_t heads, int32_t kvHeads, int32_t vocab,
                    int32_t seq)
{
    const int32_t header[7] = {dim, hidden, layers, heads, kvHeads, vocab, seq};
    std::string s(reinterpret_cast<const char*>(header), sizeof header);
    const int64_t headDim = dim / heads, kvDim = int64_t(kvHeads) * headDim, v = vocab < 0 ? -vocab : vocab;
    const int64_t n = v * dim + layers * (2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * int64_t(dim) * hidden) +
                      dim + 2 * int64_t(seq) * (headDim / 2) + (vocab < 0 ? v * dim : 0);
    return s + floats(size_t(n), 0.1f);
}

/// GPT-2's byte → printable character map (the ByteLevel pre-tokenizer's alphabet), as UTF-8.
std::string byteLevelChar(int b)
{
    int cp = b;
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
        int n = 0;
        for (int x = 0; x < b; ++x)
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255)))
                ++n;
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

/// A small byte-level BPE tokenizer.json in Llama 3's layout: the 256 byte tokens, a few merges,
/// Split (Llama 3's pattern) + ByteLevel pre-tokenizers, NFC, TemplateProcessing with BOS,
/// ByteLevel decoder, two special added tokens.
std::string byteLevelTokenizerJson()
{
    using nlohmann::json;
    json vocab = json::object();
    for (int b = 0; b < 256; ++b)
        vocab[byteLevelChar(b)] = b;
    const std::string sp = byteLevelChar(' ');
    const std::vector<std::pair<std::string, std::string>> merges = {
        {sp, "t"}, {"h", "e"}, {sp + "t", "he"}, {"o", "n"}, {sp, "a"}, {"i", "n"}, {sp, "c"}, {"e", "n"}, {"en", "d"}};
    json mergeList = json::array();
    int id = 256;
    for (const auto& [a, b] : merges) {
        vocab[a + b] = id++;
        mergeList.push_back(json::array({a, b}));
    }
    json j;
    j["version"] = "1.0";
    j["added_tokens"] = json::array({
        {{"id", id}, {"content", "<|begin_of_text|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}},
        {{"id", id + 1}, {"content", "<|end_of_text|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}},
    });
    j["normalizer"] = {{"type", "NFC"}};
    const char* pattern = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", json::array({
                               {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
                               {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}},
                           })}};
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", json::array({{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                                                   {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                           {"pair", json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                                 {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
                           {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", json::array({id})}, {"tokens", json::array({"<|begin_of_text|>"})}}}}}};
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", true},
                  {"vocab", vocab}, {"merges", mergeList}};
    return j.dump(1);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
        return 2;
    }
    g_out = argv[1];
    try {
        const auto& f = mpq::fuzz::fixture();

        // safetensors: a small file of each weight dtype, and the fixture model's header alone.
        mpq::SafetensorsWriter w;
        w.add("a.weight", "F32", {2, 3}, floats(6, 1));
        w.add("b.weight", "F16", {4}, std::string(8, '\x3c'));
        w.add("c.weight", "BF16", {1, 2}, std::string(4, '\x3f'));
        w.setMetadata("format", "pt");
        const std::string tmp = mpq::fuzz::scratchDir() + "/seed.safetensors";
        w.write(tmp);
        put("safetensors", "small.safetensors", mpq::files::readAll(tmp));
        const std::string model = mpq::files::readAll(f.model + "/model.safetensors");
        uint64_t headerLen = 0;
        std::memcpy(&headerLen, model.data(), 8);
        put("safetensors", "fixture-header-only.safetensors", model.substr(0, size_t(8 + headerLen)));

        // The sharded index that names the fixture's weights as one shard.
        nlohmann::json index;
        index["metadata"]["total_size"] = model.size() - 8 - headerLen;
        const auto header = nlohmann::json::parse(model.substr(8, size_t(headerLen)));
        for (const auto& [name, v] : header.items())
            if (name != "__metadata__")
                index["weight_map"][name] = "model-00001-of-00001.safetensors";
        put("safetensors_index", "index.json", index.dump(1));

        // config.json: the fixture's, and one with the llama3 rope scaling and grouped KV heads.
        const std::string config = mpq::files::readAll(f.model + "/config.json");
        put("config", "fixture.json", config);
        auto c = nlohmann::json::parse(config);
        c["num_key_value_heads"] = 1;
        c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                             {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
        c["rope_theta"] = 500000.0;
        put("config", "llama3-rope.json", c.dump(1));

        // llama2.c: shared and unshared classifier, and a header without its tensors.
        put("llama2c", "tiny-shared.bin", llama2c(8, 16, 1, 2, 2, 16, 8));
        put("llama2c", "tiny-unshared-gqa.bin", llama2c(8, 16, 1, 2, 1, -16, 8));
        put("llama2c", "header-only.bin", llama2c(8, 16, 1, 2, 2, 16, 8).substr(0, 28));

        // tokenizer.model: BPE with byte fallback, and unigram without.
        put("sentencepiece", "bpe-bytefallback.model", sentencePieceModel(2, true));
        put("sentencepiece", "unigram.model", sentencePieceModel(1, false));

        // tokenizer.json: a byte-level BPE (Llama 3 layout) written here, and the repository's two
        // tiny SentencePiece-style test tokenizers (LLaMA-2 and Mistral layouts, tests/data).
        put("hf_tokenizer", "bytelevel.json", byteLevelTokenizerJson());
        for (const char* name : {"tiny_sp_legacy", "tiny_sp_metaspace"})
            put("hf_tokenizer", std::string(name) + ".json",
                mpq::files::readAll(std::string(MPQ_SOURCE_DIR) + "/tests/data/tokenizer/" + name + "/tokenizer.json"));

        // The fixture's stored runs: a result folder's and a packed export's descriptions, a session.
        put("result", "result.json", mpq::files::readAll(f.result + "/result.json"));
        put("packed", "mpq-packed.json", mpq::files::readAll(f.packed + "/mpq-packed.json"));
        put("session", "rtn-run.h5", mpq::files::readAll(f.session));
    } catch (const mpq::Error& e) {
        std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
        return 1;
    }
    std::printf("seeds written to %s\n", g_out.c_str());
    return 0;
}
