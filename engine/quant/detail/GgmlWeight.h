#pragma once

#include "quant/GgmlQuants.h"
#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace mpq::detail {

/// One matrix in a llama.cpp type: the ggml blocks (row after row, as a GGUF tensor holds them)
/// and Ŵ as ggml dequantizes them.
struct GgmlQuantized {
    ggml::Type type = ggml::Type::Q4_K;
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> bytes;
    at::Tensor dequant; ///< fp32 [rows, cols] on the CPU
};

/// Quantizes W [rows, cols] (any float dtype and device; computed in fp32 on the CPU) with
/// ggml's quantizer for `type`; with `importance` (cols values) the imatrix variant.
/// Throws mpq::Error when the type does not fit the rows.
GgmlQuantized ggmlQuantize(const at::Tensor& W, ggml::Type type, const std::vector<float>& importance);

/// The same matrix as the engine's QuantizedWeight: one slot per ggml sub-block (16 or 32
/// columns) with codes, scale = the sub-block's multiplier and zero = offset + min/multiplier,
/// so that scale·(code − zero) is ggml's value up to float rounding (docs/gguf.md). `dequant` is
/// ggml's exact Ŵ. Sub-blocks whose multiplier is 0 store their constant value exactly.
QuantizedWeight toQuantizedWeight(const GgmlQuantized& q);

} // namespace mpq::detail
