#pragma once

// Run records with tensors: a finished decoder layer as the drivers produce it, the stores
// (result folders, sessions) write it and resumed or overriding runs read it back.

#include "alloc/AllocationPlan.h"
#include "quant/detail/QuantizedWeight.h"
#include "runs/RunRecords.h"

#include <cstdint>
#include <vector>

namespace mpq::detail {

/// One quantized matrix of a finished layer, with everything stores keep about it.
struct MatrixRecord {
    QuantizedWeight q;       ///< codes, scales, zeros, slots (dequant left empty)
    MatrixPlan plan;         ///< the plan as applied (per-column bits, allocator diagnostics)
    MatrixReport report;     ///< measured figures
    int group = -1;          ///< true-sequential group within the layer (-1: data-free)
};

/// A finished decoder layer.
struct LayerRecord {
    int64_t layer = 0;
    LayerTiming timing;
    std::vector<MatrixRecord> matrices; ///< in the order the driver quantized them
};

/// Layers a previous, interrupted run already stored: the driver skips quantizing them and, for
/// the sequential driver, rebuilds the next layer's inputs by running the calibration windows
/// through them with their stored quantized weights (same functions, batching, dtype, device),
/// so that the continued run is bit-identical to an uninterrupted one.
struct ResumeState {
    std::vector<LayerRecord> layers; ///< layers 0..k-1, in order (tensors on the CPU)
};

} // namespace mpq::detail
