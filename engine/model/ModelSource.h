#pragma once

#include "model/ModelConfig.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpq {

/// Tensor element types on disk. Model weights must be F32/F16/BF16; quantization results also
/// hold U8 codes and I32 indices.
enum class StorageType { F32, F16, BF16, U8, I32 };
const char* storageTypeName(StorageType t);
int storageTypeSize(StorageType t);

/// Where one tensor's bytes are, after validation.
struct TensorEntry {
    std::string name;     ///< canonical (Hugging Face) name
    std::string file;     ///< absolute path of the file holding it
    StorageType type = StorageType::F32;
    std::vector<int64_t> shape;
    uint64_t offset = 0;  ///< absolute byte offset in `file`
    uint64_t bytes = 0;
    /// llama2.c stores q/k rows with rotary pairs interleaved; the loader permutes them to the
    /// Hugging Face half-split order so one forward pass serves both formats.
    int64_t interleavedRopeHeads = 0;
};

enum class ModelFormat { HuggingFace, Llama2c };

/// A validated model on disk: config, tensor table, tokenizer location. Opening reads only
/// headers and checks everything (offsets in bounds and disjoint, dtypes and shapes matching the
/// config, no missing or duplicate tensors); tensor data is read later, on demand, so a caller
/// can stream one decoder layer at a time. Pickled checkpoints are never read.
class ModelSource {
public:
    /// Opens a Hugging Face folder (config.json + model.safetensors or a sharded index) or a
    /// llama2.c `.bin` checkpoint. `tokenizerPath` overrides the tokenizer search. Throws
    /// mpq::Error with one message naming the file and the problem.
    static ModelSource open(const std::string& path, const std::string& tokenizerPath = {});

    const std::string& path() const { return m_path; }
    ModelFormat format() const { return m_format; }
    const ModelConfig& config() const { return m_config; }
    /// Tokenizer file found beside the checkpoint (tokenizer.json before tokenizer.model, as
    /// transformers chooses; llama2.c: tokenizer.model or tok<vocab>.model); empty when none.
    const std::string& tokenizerPath() const { return m_tokenizerPath; }
    const std::vector<TensorEntry>& tensors() const { return m_tensors; }
    bool hasTensor(const std::string& name) const { return m_index.count(name) != 0; }
    /// Throws mpq::Error if the tensor does not exist.
    const TensorEntry& tensor(const std::string& name) const;
    /// The files whose bytes make up the weights (for hashing and export).
    std::vector<std::string> weightFiles() const;
    /// Non-fatal findings while opening (e.g. unused extra tensors).
    const std::vector<std::string>& notes() const { return m_notes; }

    /// Copies a tensor's raw bytes (storage type, file order) into `dst` (entry.bytes long).
    /// Throws mpq::Error on a read failure (e.g. the file changed since open()).
    void readRaw(const TensorEntry& entry, void* dst) const;

private:
    void finishIndex();
    void checkAgainstConfig();

    std::string m_path;
    ModelFormat m_format = ModelFormat::HuggingFace;
    ModelConfig m_config;
    std::string m_tokenizerPath;
    std::vector<TensorEntry> m_tensors;
    std::map<std::string, size_t> m_index;
    std::vector<std::string> m_notes;
};

} // namespace mpq
