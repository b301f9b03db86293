#pragma once

#include "export/detail/GgufWriter.h"
#include "model/ModelSource.h"

#include <string>
#include <vector>

namespace mpq::detail {

/// How one Hugging Face model family is written for llama.cpp (docs/gguf.md). One row per
/// family; a new family is a new row (and its tensor names below, if they differ).
struct GgufFamily {
    const char* modelType;   ///< Hugging Face config.json "model_type"
    const char* arch;        ///< GGUF general.architecture and the prefix of its keys
    /// llama.cpp's "llama" architecture rotates adjacent pairs (rope type NORM) while Hugging
    /// Face checkpoints rotate the two halves of each head: q/k rows are permuted on export, as
    /// llama.cpp's convert_hf_to_gguf.py does. NEOX-rope families (qwen2, qwen3) need none.
    bool permuteQK;
    const char* bpePre;      ///< tokenizer.ggml.pre for a tokenizer.json (BPE) vocabulary
};

/// The table; throws mpq::Error naming the known model types for an unknown one.
const GgufFamily& ggufFamily(const std::string& modelType);
/// config.json's model_type of a Hugging Face folder; "llama" for a llama2.c checkpoint.
std::string hfModelType(const ModelSource& source);

/// The llama.cpp name of a Hugging Face tensor ("model.layers.3.self_attn.q_proj.weight" →
/// "blk.3.attn_q.weight"); throws mpq::Error for a tensor llama.cpp has no name for.
std::string ggufTensorName(const std::string& hfName);

/// Rows of a q/k matrix [n_head·head_dim, in] from Hugging Face's half-split order to llama.cpp's
/// pair order: row h·d + 2i + p ← row h·d + p·d/2 + i. `rowBytes` bytes per row.
std::vector<uint8_t> permuteRopeRows(const std::vector<uint8_t>& rows, int64_t nRows, int64_t rowBytes,
                                     int64_t heads);

/// The architecture keys ({arch}.context_length, …, rope and norm settings) from the config.
void writeArchMetadata(GgufWriter& w, const GgufFamily& f, const ModelConfig& c);

/// tokenizer.ggml.* from the model folder: a SentencePiece tokenizer.model ("llama" model:
/// pieces, scores, token types, special ids) or a tokenizer.json ("gpt2" model: vocabulary with
/// added tokens, merges, token types), plus add_bos/add_eos and the chat template from
/// tokenizer_config.json when present. Padded with "[PAD<i>]" tokens up to the config's
/// vocab_size, as llama.cpp's converter does. Returns a warning when no tokenizer was found
/// (the file then carries none), else empty. Throws mpq::Error on unreadable files.
std::string writeTokenizerMetadata(GgufWriter& w, const GgufFamily& f, const ModelSource& source);

} // namespace mpq::detail
