#include "export/detail/ExportFolder.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/SafetensorsWriter.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace mpq::detail {

at::ScalarType parseExportDtype(const std::string& name)
{
    if (name == "fp16" || name == "float16")
        return at::kHalf;
    if (name == "bf16" || name == "bfloat16")
        return at::kBFloat16;
    if (name == "fp32" || name == "float32")
        return at::kFloat;
    throw Error("export dtype \"" + name + "\" is not one of fp16, bf16, fp32");
}

const char* torchDtypeName(at::ScalarType t)
{
    switch (t) {
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: return "float32";
    }
}

std::string tensorBytes(const at::Tensor& t)
{
    const at::Tensor c = t.cpu().contiguous();
    return std::string(static_cast<const char*>(c.data_ptr()), size_t(c.nbytes()));
}

std::string safetensorsDtype(at::ScalarType t)
{
    switch (t) {
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kFloat: return "F32";
    case at::kInt: return "I32";
    case at::kByte: return "U8";
    default: throw Error(std::string("internal: no safetensors dtype for ") + c10::toString(t));
    }
}

ShardedWeights::ShardedWeights(std::string dir, int64_t maxShardBytes)
    : m_dir(std::move(dir)), m_maxBytes(maxShardBytes > 0 ? maxShardBytes : (int64_t(1) << 62))
{
}

void ShardedWeights::add(const std::string& name, const at::Tensor& tensor)
{
    const int64_t bytes = int64_t(tensor.nbytes());
    if (!m_pending.empty() && m_pendingBytes + bytes > m_maxBytes)
        flush();
    m_pending.push_back({name, safetensorsDtype(tensor.scalar_type()), tensor.sizes().vec(), tensorBytes(tensor)});
    m_pendingBytes += bytes;
    m_totalBytes += bytes;
    ++m_count;
}

namespace {

std::string shardTempName(size_t index)
{
    char name[48];
    std::snprintf(name, sizeof name, "shard-%05zu.safetensors", index + 1);
    return name;
}

} // namespace

void ShardedWeights::flush()
{
    if (m_pending.empty())
        return;
    SafetensorsWriter w;
    w.setMetadata("format", "pt");
    std::vector<std::string> names;
    for (Pending& p : m_pending) {
        names.push_back(p.name);
        w.add(p.name, p.dtype, p.shape, std::move(p.data));
    }
    w.write(files::join(m_dir, shardTempName(m_shardNames.size())));
    m_shardNames.push_back(std::move(names));
    m_pending.clear();
    m_pendingBytes = 0;
}

std::vector<std::string> ShardedWeights::finish()
{
    flush();
    const size_t n = m_shardNames.size();
    std::vector<std::string> written;
    if (n == 1) {
        std::filesystem::rename(files::join(m_dir, shardTempName(0)), files::join(m_dir, "model.safetensors"));
        return {"model.safetensors"};
    }
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", m_totalBytes}};
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (size_t i = 0; i < n; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, n);
        std::filesystem::rename(files::join(m_dir, shardTempName(i)), files::join(m_dir, name));
        for (const std::string& t : m_shardNames[i])
            map[t] = name;
        written.push_back(name);
    }
    index["weight_map"] = map;
    writeTextFile(m_dir, "model.safetensors.index.json", index.dump(2) + "\n");
    written.push_back("model.safetensors.index.json");
    return written;
}

void writeTextFile(const std::string& dir, const std::string& name, const std::string& text)
{
    const std::string file = files::join(dir, name);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(file + ": cannot create");
    out << text;
    out.flush();
    if (!out)
        throw Error(file + ": write failed (disk full?)");
}

namespace {

std::string modelFolder(const ModelSource& source)
{
    return files::isDirectory(source.path()) ? source.path() : files::parent(source.path());
}

nlohmann::ordered_json synthesizedConfig(const ModelConfig& c)
{
    // What transformers' LlamaConfig needs to rebuild the architecture the engine runs.
    nlohmann::ordered_json j;
    j["architectures"] = {"LlamaForCausalLM"};
    j["model_type"] = "llama";
    j["hidden_size"] = c.hiddenSize;
    j["intermediate_size"] = c.intermediateSize;
    j["num_hidden_layers"] = c.numLayers;
    j["num_attention_heads"] = c.numHeads;
    j["num_key_value_heads"] = c.numKvHeads;
    j["head_dim"] = c.headDim;
    j["vocab_size"] = c.vocabSize;
    j["max_position_embeddings"] = c.maxPositions;
    j["rms_norm_eps"] = c.rmsNormEps;
    j["rope_theta"] = c.ropeTheta;
    j["hidden_act"] = "silu";
    j["attention_bias"] = false;
    j["mlp_bias"] = false;
    j["tie_word_embeddings"] = c.tieWordEmbeddings;
    j["bos_token_id"] = c.bosTokenId;
    j["eos_token_id"] = c.eosTokenId;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    return j;
}

} // namespace

std::string exportConfigJson(const ModelSource& source, const std::string& torchDtype,
                             const std::string& quantizationConfigJson)
{
    nlohmann::ordered_json j;
    if (source.format() == ModelFormat::HuggingFace) {
        const std::string file = files::join(modelFolder(source), "config.json");
        try {
            j = nlohmann::ordered_json::parse(files::readAll(file));
        } catch (const nlohmann::json::exception& e) {
            throw Error(file + ": not JSON (" + e.what() + ")");
        }
        j.erase("quantization_config");
        if (j.contains("dtype")) // transformers ≥ 5 spells it "dtype"
            j["dtype"] = torchDtype;
    } else {
        j = synthesizedConfig(source.config());
    }
    j["torch_dtype"] = torchDtype;
    if (!quantizationConfigJson.empty())
        j["quantization_config"] = nlohmann::ordered_json::parse(quantizationConfigJson);
    return j.dump(2) + "\n";
}

std::vector<std::string> copyTokenizerFiles(const ModelSource& source, const std::string& dir,
                                            std::vector<std::string>& warnings)
{
    std::vector<std::string> written;
    auto copy = [&](const std::string& from, const std::string& name) {
        std::error_code ec;
        std::filesystem::copy_file(from, files::join(dir, name), std::filesystem::copy_options::overwrite_existing, ec);
        if (ec)
            throw Error(from + ": cannot copy into the export (" + ec.message() + ")");
        written.push_back(name);
    };
    if (source.format() == ModelFormat::HuggingFace) {
        const std::string folder = modelFolder(source);
        for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                 "special_tokens_map.json", "generation_config.json"})
            if (files::exists(files::join(folder, name)))
                copy(files::join(folder, name), name);
        // A tokenizer given with --tokenizer when the run was made lives elsewhere; it keeps
        // its kind's name (a tokenizer.json or a SentencePiece model).
        const std::string& given = source.tokenizerPath();
        const std::string givenName = given.size() >= 5 && given.compare(given.size() - 5, 5, ".json") == 0
                                          ? "tokenizer.json"
                                          : "tokenizer.model";
        if (!given.empty() && files::parent(given) != folder && !files::exists(files::join(folder, givenName)))
            copy(given, givenName);
    } else if (!source.tokenizerPath().empty()) {
        copy(source.tokenizerPath(), "tokenizer.model");
        nlohmann::ordered_json t;
        t["tokenizer_class"] = "LlamaTokenizer";
        t["bos_token"] = "<s>";
        t["eos_token"] = "</s>";
        t["unk_token"] = "<unk>";
        t["add_bos_token"] = true;
        t["add_eos_token"] = false;
        t["legacy"] = false;
        t["model_max_length"] = source.config().maxPositions;
        writeTextFile(dir, "tokenizer_config.json", t.dump(2) + "\n");
        written.push_back("tokenizer_config.json");
    }
    if (written.empty() || std::find(written.begin(), written.end(), "tokenizer.model") == written.end())
        if (std::find(written.begin(), written.end(), "tokenizer.json") == written.end())
            warnings.push_back(source.path() + ": no tokenizer found beside the model; the export has none");
    return written;
}

} // namespace mpq::detail
