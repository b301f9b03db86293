#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/detail/ColumnAllocator.h"
#include "model/detail/LlamaModel.h"
#include "pipeline/QuantizeJob.h"
#include "quant/detail/QuantizedWeight.h"

#include <functional>
#include <utility>
#include <vector>

namespace mpq::detail {

/// Where the sequential driver gets weights from: a checkpoint on disk (streamed one layer at
/// a time) or a synthetic model generated on the device for benchmarks.
class LayerProvider {
public:
    virtual ~LayerProvider() = default;
    virtual const ModelConfig& config() const = 0;
    virtual at::Tensor embedding(at::ScalarType dtype, const at::Device& device) = 0;
    virtual LayerWeights layer(int64_t index, at::ScalarType dtype, const at::Device& device) = 0;
};

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

/// Receives results as they are produced; either callback may be empty.
struct LayerSink {
    /// After a true-sequential group was quantized: its Hessian H (fp32 on the job's device;
    /// valid only during the call) and the group's matrices. Data-free runs never call it.
    std::function<void(int64_t layer, int group, const at::Tensor& H, const std::vector<MatrixPlan>& plans)> hessian;
    /// When a decoder layer is done.
    std::function<void(LayerRecord&)> layer;
};

/// Layers a previous, interrupted run already stored: the driver skips quantizing them and, for
/// the sequential driver, rebuilds the next layer's inputs by running the calibration windows
/// through them with their stored quantized weights (same functions, batching, dtype, device),
/// so that the continued run is bit-identical to an uninterrupted one.
struct ResumeState {
    std::vector<LayerRecord> layers; ///< layers 0..k-1, in order (tensors on the CPU)
};

/// The sequential driver proper: layer-0 inputs from the calibration windows, then per layer
/// the true-sequential groups (Hessians → quantize → recompute), then the quantized outputs.
/// Fills matrices, timings and averages of the report.
/// `allocator` (may be null) decides per-column bits of each matrix from its Hessian first;
/// report.appliedPlan receives the plan as applied. `resume` (may be null) skips stored layers.
void runSequential(LayerProvider& provider, const std::vector<std::vector<int32_t>>& windows,
                   const AllocationPlan& plan, const QuantizeParams& params, JobContext& ctx,
                   const LayerSink& sink, QuantizeReport& report, ColumnAllocator* allocator = nullptr,
                   const ResumeState* resume = nullptr);

/// The data-free driver (HQQ, MXQ): per layer, quantize every planned matrix from its weights
/// alone; no calibration, no Hessians.
void runDataFree(LayerProvider& provider, const AllocationPlan& plan, const QuantizeParams& params,
                 JobContext& ctx, const LayerSink& sink, QuantizeReport& report,
                 const ResumeState* resume = nullptr);

} // namespace mpq::detail
