#pragma once

#include "model/detail/LlamaModel.h"
#include "quant/detail/QuantizedWeight.h"

#include <string>
#include <utility>
#include <vector>

namespace mpq::detail {

/// Writes one decoder layer's quantized matrices to dir/layers/layer-NNN.safetensors.
void writeLayerResult(const std::string& dir, int64_t layer,
                      const std::vector<std::pair<std::string, QuantizedWeight>>& matrices);
/// Reads a layer file back (codes, scales, zeros, slots; dequant recomputed), on the CPU.
std::vector<std::pair<std::string, QuantizedWeight>> readLayerResult(const std::string& file);

} // namespace mpq::detail
