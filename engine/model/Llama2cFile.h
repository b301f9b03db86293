#pragma once

#include "model/ModelSource.h"

#include <string>
#include <vector>

namespace mpq {

struct Llama2cCheckpoint {
    ModelConfig config;
    std::vector<TensorEntry> tensors;
};

/// Reads a llama2.c legacy `.bin` checkpoint: 7 int32 (dim, hidden_dim, n_layers, n_heads,
/// n_kv_heads, vocab_size — negative when an unshared classifier follows — seq_len), then fp32
/// tensors. The file size must match the header exactly. Throws mpq::Error naming the file.
Llama2cCheckpoint readLlama2cCheckpoint(const std::string& file);

} // namespace mpq
