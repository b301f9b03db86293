#pragma once

#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

#include <string>

namespace mpq::detail {

/// One linear in GPTQ's "gptq" (v1) checkpoint layout (AutoGPTQ / GPTQModel), for a layer
/// with in features and out features (our codes are [out, in]):
///     qweight int32 [⌈in·bits/32⌉, out]      codes packed along the input dimension
///     qzeros  int32 [groups, ⌈out·bits/32⌉]  (zero − 1) packed along the output dimension
///     scales  fp16  [groups, out]
///     g_idx   int32 [in]                      group of each input column
/// W[o, i] = scales[g_idx[i], o] · (q[i, o] − (z[g_idx[i], o] + 1)), z the stored value.
/// Packing is BitPack.h's little-endian stream (AutoGPTQ's, the 3-bit cross-word case included).
struct GptqMatrix {
    at::Tensor qweight;
    at::Tensor qzeros;
    at::Tensor scales;
    at::Tensor gIdx;
    int bits = 4;
    int64_t groupSize = -1;  ///< -1: one group (per output channel)
    bool descAct = false;    ///< g_idx is not i / groupSize (act-order or static groups)
    bool sym = false;        ///< every zero point is 2^(bits−1)
};

/// Packs a quantized matrix. Refuses (mpq::Error naming `name` and the reason) what GPTQ v1 cannot
/// carry: more than one bit-width in the matrix, a width other than 2, 3, 4 or 8, non-integer
/// zero points (HQQ), zero points outside 0..2^bits, slots that are not groups of
/// `planGroupSize` (−1 or 0: inferred), scales beyond fp16's range. A zero point of 0 (which v1's
/// "zero − 1" cannot store) is stored as 1 with that row's codes of the group raised by one when
/// none is at the top code, which leaves Ŵ unchanged; otherwise the matrix is refused.
/// Scales are rounded to fp16 (the format's precision).
GptqMatrix packGptq(const QuantizedWeight& q, const std::string& name, int64_t planGroupSize);

/// Unpacks a GPTQ v1 matrix of [outFeatures, inFeatures] into a QuantizedWeight (one slot per
/// group, g_idx as slot of each column, fp16 scales widened to fp32, dequant filled in).
/// Throws mpq::Error on inconsistent shapes.
QuantizedWeight unpackGptq(const GptqMatrix& m, int64_t outFeatures, int64_t inFeatures);

} // namespace mpq::detail
