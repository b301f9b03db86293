#include "model/ModelSource.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/LlamaArch.h"
#include "model/Llama2cFile.h"
#include "model/SafetensorsFile.h"
#include "tokenizer/ModelTokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace mpq {

const char* storageTypeName(StorageType t)
{
    switch (t) {
    case StorageType::F32: return "F32";
    case StorageType::F16: return "F16";
    case StorageType::BF16: return "BF16";
    case StorageType::U8: return "U8";
    case StorageType::I32: return "I32";
    }
    return "?";
}

int storageTypeSize(StorageType t)
{
    switch (t) {
    case StorageType::F32:
    case StorageType::I32: return 4;
    case StorageType::F16:
    case StorageType::BF16: return 2;
    case StorageType::U8: return 1;
    }
    return 0;
}

namespace {

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shapeText(const std::vector<int64_t>& shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::vector<TensorEntry> readShardedIndex(const std::string& dir, const std::string& indexFile,
                                          std::vector<std::string>& notes)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(files::readAll(indexFile));
    } catch (const nlohmann::json::exception& e) {
        throw Error(indexFile + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(indexFile + ": missing \"weight_map\" object");

    std::map<std::string, std::string> wanted; // tensor -> shard
    std::set<std::string> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string())
            throw Error(indexFile + ": weight_map entry \"" + it.key() + "\" is not a file name");
        const std::string shard = it.value().get<std::string>();
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
            throw Error(indexFile + ": shard name \"" + shard + "\" must be a plain file name");
        wanted[it.key()] = shard;
        shards.insert(shard);
    }

    std::vector<TensorEntry> all;
    std::map<std::string, std::string> foundIn;
    for (const std::string& shard : shards) {
        const std::string path = files::join(dir, shard);
        if (!files::exists(path))
            throw Error(indexFile + ": shard " + shard + " is listed but " + path + " does not exist");
        for (TensorEntry& e : readSafetensorsHeader(path)) {
            auto prior = foundIn.find(e.name);
            if (prior != foundIn.end())
                throw Error(path + ": tensor \"" + e.name + "\" is also stored in " + prior->second);
            foundIn[e.name] = shard;
            auto w = wanted.find(e.name);
            if (w == wanted.end()) {
                notes.push_back(path + ": tensor \"" + e.name + "\" is not listed in the index; ignored");
                continue;
            }
            if (w->second != shard)
                throw Error(indexFile + ": tensor \"" + e.name + "\" is mapped to " + w->second +
                            " but stored in " + shard);
            all.push_back(std::move(e));
        }
    }
    for (const auto& [name, shard] : wanted)
        if (!foundIn.count(name))
            throw Error(files::join(dir, shard) + ": tensor \"" + name +
                        "\" is listed in the index but missing from the shard");
    return all;
}

} // namespace

ModelSource ModelSource::open(const std::string& pathIn, const std::string& tokenizerPath)
{
    ModelSource m;
    m.m_path = files::absolute(pathIn);
    const std::string& path = m.m_path;
    if (!files::exists(path))
        throw Error(path + ": no such file or folder");

    std::string folder;
    if (files::isDirectory(path)) {
        folder = path;
    } else if (endsWith(path, ".safetensors")) {
        folder = files::parent(path);
    } else if (endsWith(path, ".bin")) {
        if (files::exists(files::join(files::parent(path), "config.json")))
            throw Error(path + ": looks like a pickled PyTorch checkpoint (a config.json is beside it); "
                               "pickled checkpoints are never read — convert the model to safetensors");
        m.m_format = ModelFormat::Llama2c;
        auto ckpt = readLlama2cCheckpoint(path);
        m.m_config = ckpt.config;
        m.m_tensors = std::move(ckpt.tensors);
        const std::string dir = files::parent(path);
        for (const std::string& candidate :
             {files::join(dir, "tokenizer.model"),
              files::join(dir, "tok" + std::to_string(m.m_config.vocabSize) + ".model")})
            if (m.m_tokenizerPath.empty() && files::exists(candidate))
                m.m_tokenizerPath = candidate;
    } else {
        throw Error(path + ": not a model (expected a Hugging Face folder, a .safetensors file or a "
                           "llama2.c .bin checkpoint)");
    }

    if (m.m_format == ModelFormat::HuggingFace) {
        const std::string configFile = files::join(folder, "config.json");
        if (!files::exists(configFile)) {
            // A folder holding a llama2.c checkpoint: name it, so the user knows what to pass.
            std::string hint;
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(folder, ec))
                if (e.path().extension() == ".bin" && e.path().filename().string().rfind("tok", 0) != 0) {
                    hint = "; for a llama2.c checkpoint pass the .bin file itself, e.g. " + e.path().string();
                    break;
                }
            throw Error(folder + ": no config.json (not a Hugging Face model folder)" + hint);
        }
        m.m_config = ModelConfig::fromHuggingFaceJson(files::readAll(configFile), configFile);
        const std::string index = files::join(folder, "model.safetensors.index.json");
        const std::string single = files::join(folder, "model.safetensors");
        if (!files::isDirectory(path)) {
            m.m_tensors = readSafetensorsHeader(path);
        } else if (files::exists(index)) {
            m.m_tensors = readShardedIndex(folder, index, m.m_notes);
        } else if (files::exists(single)) {
            m.m_tensors = readSafetensorsHeader(single);
        } else if (files::exists(files::join(folder, "pytorch_model.bin")) ||
                   files::exists(files::join(folder, "pytorch_model.bin.index.json"))) {
            throw Error(folder + ": holds only pickled PyTorch weights (pytorch_model.bin); pickled "
                                 "checkpoints are never read — convert the model to safetensors");
        } else {
            throw Error(folder + ": no model.safetensors or model.safetensors.index.json");
        }
        // As transformers: tokenizer.json (the fast tokenizer) before tokenizer.model.
        m.m_tokenizerPath = findTokenizerFile(folder);
    }
    if (!tokenizerPath.empty()) {
        if (!files::exists(tokenizerPath))
            throw Error(tokenizerPath + ": tokenizer file does not exist");
        m.m_tokenizerPath = files::absolute(tokenizerPath);
    }
    m.finishIndex();
    m.checkAgainstConfig();
    return m;
}

void ModelSource::finishIndex()
{
    m_index.clear();
    for (size_t i = 0; i < m_tensors.size(); ++i)
        if (!m_index.emplace(m_tensors[i].name, i).second)
            throw Error(m_tensors[i].file + ": tensor \"" + m_tensors[i].name + "\" appears twice");
}

void ModelSource::checkAgainstConfig()
{
    std::set<std::string> expected;
    for (const auto& want : llama::expectedTensors(m_config)) {
        expected.insert(want.name);
        auto it = m_index.find(want.name);
        if (it == m_index.end()) {
            bool fused = false;
            for (const auto& t : m_tensors)
                fused = fused || endsWith(t.name, "experts.gate_up_proj") || endsWith(t.name, "experts.down_proj");
            throw Error(m_path + ": tensor \"" + want.name + "\" is missing" +
                        (fused ? " (the checkpoint stores experts fused, as transformers 5 holds them in memory; "
                                 "the hub's layout has one tensor per expert and linear)"
                               : ""));
        }
        const TensorEntry& have = m_tensors[it->second];
        if (have.type != StorageType::F32 && have.type != StorageType::F16 && have.type != StorageType::BF16)
            throw Error(have.file + ": tensor \"" + want.name + "\" has dtype " + storageTypeName(have.type) +
                        "; model weights must be F32, F16 or BF16");
        if (have.shape != want.shape)
            throw Error(have.file + ": tensor \"" + want.name + "\" has shape " + shapeText(have.shape) +
                        " but the config needs " + shapeText(want.shape));
    }
    for (const auto& t : m_tensors) {
        if (expected.count(t.name))
            continue;
        if (endsWith(t.name, "rotary_emb.inv_freq"))
            continue; // recomputed from rope_theta
        if (t.name == llama::lmHeadTensor() && m_config.tieWordEmbeddings)
            m_notes.push_back(t.file + ": lm_head.weight is present but the config ties it to the "
                                       "embedding; the embedding is used");
        else
            m_notes.push_back(t.file + ": unexpected tensor \"" + t.name + "\" ignored");
    }
}

const TensorEntry& ModelSource::tensor(const std::string& name) const
{
    auto it = m_index.find(name);
    if (it == m_index.end())
        throw Error(m_path + ": tensor \"" + name + "\" does not exist");
    return m_tensors[it->second];
}

std::vector<std::string> ModelSource::weightFiles() const
{
    std::set<std::string> files;
    for (const auto& t : m_tensors)
        files.insert(t.file);
    return {files.begin(), files.end()};
}

void ModelSource::readRaw(const TensorEntry& entry, void* dst) const
{
    files::readAt(entry.file, entry.offset, entry.bytes, dst);
}

} // namespace mpq
