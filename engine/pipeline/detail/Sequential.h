#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/detail/ColumnAllocator.h"
#include "model/detail/LlamaModel.h"
#include "pipeline/QuantizeJob.h"
#include "runs/detail/LayerRecord.h"

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

/// Receives results as they are produced; either callback may be empty.
struct LayerSink {
    /// After a true-sequential group was quantized: its Hessian H (fp32 on the job's device;
    /// valid only during the call) and the group's matrices. Data-free runs never call it.
    std::function<void(int64_t layer, int group, const at::Tensor& H, const std::vector<MatrixPlan>& plans)> hessian;
    /// When a decoder layer is done.
    std::function<void(LayerRecord&)> layer;
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
