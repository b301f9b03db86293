#pragma once

#include "quant/HqqOptions.h"
#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

namespace mpq::detail {

/// HQQ of one weight matrix W [rows, cols] (any float dtype; the maths is fp32 on W's device).
///
/// Asymmetric, one group per `groupSize` consecutive input columns of a row (hqq's axis=1), so
/// that QuantizedWeight's slot s is column group s; a last, shorter group takes the remainder when
/// groupSize does not divide cols; groupSize -1 means one group per row. Steps:
///   1. min-max start per group: s = (max − min)/(2^b − 1), z = −min/s;
///   2. s is meta-quantized (opt.metaBits, groups of opt.metaGroupSize consecutive values of the
///      row-major [rows, groups] scales) first, to the nearest level unless that would shrink
///      the group's range by more than half a code: the zero-point optimisation then works with
///      the scale that is stored;
///   3. the half-quadratic zero-point iterations (hqq's optimize_weights_proximal, in Hqq.cpp),
///      keeping the best zero by mean |W − Ŵ| (early stop when it stops falling);
///   4. z is meta-quantized, and the codes are recomputed from the stored s and z, so that
///      result.dequantize() == result.dequant exactly and the reported error is that of Ŵ.
/// Ŵ = scales · (codes − zeros), as everywhere in the engine (hqq itself keeps 1/s).
/// Vectorised over all groups: no per-group loops; one host sync per iteration (early stop).
///
/// Throws c10::Error (TORCH_CHECK) on bits outside 1..8, a group size of 0 or < -1, or a
/// non-2-D W. Thread-safe; deterministic for a given device.
QuantizedWeight hqqQuantize(const at::Tensor& W, int bits, int64_t groupSize,
                            const HqqOptions& opt = {}, HqqStats* stats = nullptr);

/// Min-max round trip of any tensor to `bits` bits in groups of `groupSize` consecutive values of
/// its row-major flattening (the last group may be shorter): returns the dequantized values, same
/// shape, fp32: each value goes to the nearest of its group's 2^bits levels lo + k·(hi − lo)/maxq,
/// or, where that level is below `atLeast` (optional, same shape, ≤ x), to the lowest level not
/// below it. A group's min comes back exactly, its max up to rounding; a constant group unchanged.
/// This is how HQQ stores its scales and zeros.
at::Tensor metaQuantize(const at::Tensor& x, int bits, int64_t groupSize,
                        const at::Tensor& atLeast = {});

} // namespace mpq::detail
