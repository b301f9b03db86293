#pragma once

#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

namespace mpq::detail {

/// A uniform min-max grid per output row (GPTQ's Quantizer with weight=True):
/// code = clamp(round(x / scale) + zero, 0, maxq), x̂ = scale · (code − zero).
struct Grid {
    at::Tensor scale; ///< fp32 [rows, 1]
    at::Tensor zero;  ///< fp32 [rows, 1]
    int bits = 4;
};

/// Fits a grid to x [rows, n] (columns of one group). Asymmetric: range [min(x,0), max(x,0)],
/// zero = round(−min/scale). Symmetric: range ±max|x|, zero = (2^bits)/2 (GPTQ's convention).
/// A row of zeros gets the range [−1, 1].
Grid fitGrid(const at::Tensor& x, int bits, bool symmetric);
/// Integer codes of x on the grid (as fp32 holding integers).
at::Tensor quantizeToCodes(const at::Tensor& x, const Grid& g);
/// x̂ = scale · (codes − zero).
at::Tensor dequantizeCodes(const at::Tensor& codes, const Grid& g);

/// Grid options shared by RTN and GPTQ.
struct GridOptions {
    int64_t groupSize = -1; ///< -1: one grid per output row over all columns
    bool symmetric = false;
};

/// Round-to-nearest with per-column bit-widths `bits` (int [cols]): each group of `groupSize`
/// columns (or the whole row) gets one grid per bit-width present, fitted on the columns of that
/// bit-width. W is [rows, cols] on any device; the result lives on W's device.
QuantizedWeight rtnQuantize(const at::Tensor& W, const at::Tensor& bits, const GridOptions& opt);

/// Layer-output error tr(ΔW H ΔWᵀ) with ΔW = W − Ŵ, in fp64 for accuracy.
double outputError(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H);

} // namespace mpq::detail
