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
    // What llama.cpp's architecture has a tensor for (its loader refuses a file with a tensor it
    // did not ask for, and one without a tensor it requires).
    bool oBias;              ///< attn_output.bias (llama only)
    bool mlpBias;            ///< ffn_{gate,up,down}.bias of a dense MLP (llama only)
    bool qkNorm;             ///< attn_q_norm / attn_k_norm, required (qwen3, qwen3moe)
    bool moe;                ///< every layer a mixture of experts: ffn_gate_inp + ffn_*_exps
    bool sharedExpert;       ///< ffn_*_shexp and ffn_gate_inp_shexp, required (qwen2moe)
    /// Does llama.cpp renormalise the top-k router weights (build_moe_ffn's norm_w)? Fixed per
    /// architecture: llama (Mixtral) and qwen3moe yes, qwen2moe no.
    bool normTopk;
};

/// The table; throws mpq::Error naming the known model types for an unknown one.
const GgufFamily& ggufFamily(const std::string& modelType);
/// What llama.cpp cannot represent of `c` in architecture `f.arch`: throws mpq::Error naming the
/// feature (an o_proj bias in qwen3, a dense layer in a qwen2moe, Dynamic rope, …). Returns
/// warnings for what llama.cpp computes differently but loads (a sliding window: llama.cpp's
/// llama / qwen2 / qwen3 architectures attend to the whole context).
std::vector<std::string> checkGgufSupport(const GgufFamily& f, const ModelConfig& c);

/// config.json's model_type of a Hugging Face folder; "llama" for a llama2.c checkpoint.
std::string hfModelType(const ModelSource& source);

/// The llama.cpp name of a Hugging Face tensor ("model.layers.3.self_attn.q_proj.weight" →
/// "blk.3.attn_q.weight"); a routed expert's matrix maps to its stacked tensor
/// ("model.layers.1.block_sparse_moe.experts.3.w2.weight" → "blk.1.ffn_down_exps.weight").
/// Throws mpq::Error for a tensor llama.cpp has no name for.
std::string ggufTensorName(const std::string& hfName);

/// Rows of a q/k matrix [n_head·head_dim, in] from Hugging Face's half-split order to llama.cpp's
/// pair order: row h·d + 2i + p ← row h·d + p·d/2 + i. `rowBytes` bytes per row.
std::vector<uint8_t> permuteRopeRows(const std::vector<uint8_t>& rows, int64_t nRows, int64_t rowBytes,
                                     int64_t heads);

/// llama.cpp's rope_freqs for llama3-type rope scaling: per rotary pair i, the divisor of the
/// unscaled frequency θ^(−2i/d) (1 for high frequencies, `factor` for low ones, smooth between),
/// as llama.cpp's convert_hf_to_gguf.py computes it. Empty for other rope types.
std::vector<float> llama3RopeFactors(const ModelConfig& c);

/// The architecture keys ({arch}.context_length, …, rope and norm settings, rope scaling,
/// expert counts and widths) from the config.
void writeArchMetadata(GgufWriter& w, const GgufFamily& f, const ModelConfig& c);

/// tokenizer.ggml.* from the model folder: a SentencePiece tokenizer.model ("llama" model:
/// pieces, scores, token types, special ids) or a tokenizer.json ("gpt2" model: vocabulary with
/// added tokens, merges, token types), plus add_bos/add_eos and the chat template from
/// tokenizer_config.json when present. Padded with "[PAD<i>]" tokens up to the config's
/// vocab_size, as llama.cpp's converter does. Returns a warning when no tokenizer was found
/// (the file then carries none), else empty. Throws mpq::Error on unreadable files.
std::string writeTokenizerMetadata(GgufWriter& w, const GgufFamily& f, const ModelSource& source);

} // namespace mpq::detail
