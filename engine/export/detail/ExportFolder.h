#pragma once

#include "model/ModelSource.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mpq::detail {

/// "fp16" | "bf16" | "fp32" → the tensor dtype. Throws mpq::Error naming the accepted values.
at::ScalarType parseExportDtype(const std::string& name);
/// transformers' name of a dtype ("float16", "bfloat16", "float32").
const char* torchDtypeName(at::ScalarType t);

/// A CPU tensor's bytes (made contiguous), as SafetensorsWriter takes them.
std::string tensorBytes(const at::Tensor& t);
/// safetensors dtype of a tensor ("F16", "BF16", "F32", "I32", "U8").
std::string safetensorsDtype(at::ScalarType t);

/// Writes tensors into safetensors shards of at most `maxShardBytes` each (a tensor larger than
/// that gets a shard of its own), in the order added. finish() names them as transformers does:
/// one file "model.safetensors", or "model-0000i-of-0000n.safetensors" with
/// "model.safetensors.index.json" (metadata.total_size, weight_map). Every file carries the
/// metadata format = "pt" that transformers checks. Holds at most one shard in memory.
class ShardedWeights {
public:
    ShardedWeights(std::string dir, int64_t maxShardBytes);
    /// Adds a CPU tensor (F16/BF16/F32/I32/U8). Throws mpq::Error when a shard cannot be written.
    void add(const std::string& name, const at::Tensor& tensor);
    /// Writes the last shard and the index; returns the file names written.
    std::vector<std::string> finish();
    int64_t tensors() const { return m_count; }

private:
    struct Pending {
        std::string name, dtype;
        std::vector<int64_t> shape;
        std::string data;
    };
    void flush();

    std::string m_dir;
    int64_t m_maxBytes;
    std::vector<Pending> m_pending;
    int64_t m_pendingBytes = 0;
    std::vector<std::vector<std::string>> m_shardNames; ///< tensor names of each written shard
    int64_t m_totalBytes = 0;
    int64_t m_count = 0;
};

/// The model's config.json for an export: a Hugging Face model's own (every field kept, with
/// `torch_dtype` set to `torchDtype` and any `quantization_config` dropped), or one synthesized
/// from a llama2.c header (LlamaForCausalLM, silu, no biases, default RoPE). Returned as JSON
/// text; `quantizationConfigJson` (a JSON object, or empty) is added as `quantization_config`.
std::string exportConfigJson(const ModelSource& source, const std::string& torchDtype,
                             const std::string& quantizationConfigJson = {});

/// Copies the tokenizer and generation files found beside the model into `dir`
/// (tokenizer.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
/// generation_config.json); a llama2.c model's tokenizer (e.g. tok512.model) is copied as
/// tokenizer.model with a tokenizer_config.json for LlamaTokenizer. Returns the names written;
/// a missing tokenizer adds a warning instead. Throws mpq::Error when a copy fails.
std::vector<std::string> copyTokenizerFiles(const ModelSource& source, const std::string& dir,
                                            std::vector<std::string>& warnings);

/// Writes `text` to dir/name. Throws mpq::Error naming the file on failure.
void writeTextFile(const std::string& dir, const std::string& name, const std::string& text);

} // namespace mpq::detail
