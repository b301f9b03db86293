#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/mgptq/MgptqOptions.h"
#include "core/JobContext.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>

namespace mpq::detail {

/// Decides the per-column bit-widths of one matrix inside the sequential pipeline, at the point
/// where the matrix's calibration Hessian is known (MG-PTQ, its MLP ablation, the
/// Hessian-greedy baseline). W [rows, cols] and H [cols, cols] are fp32 on the job's device.
class ColumnAllocator {
public:
    virtual ~ColumnAllocator() = default;
    /// Returns `base` with columnBits, predictedCost and diagnostics (e.g. training curves as
    /// JSON) filled in. Checks ctx for cancellation between epochs. Throws mpq::Error.
    virtual MatrixPlan allocate(const MatrixPlan& base, const at::Tensor& W, const at::Tensor& H,
                                JobContext& ctx) = 0;
    /// True when allocate() on a GPU is bound by host time (many small kernel launches), so
    /// that the matrices of a true-sequential group gain from allocating on parallel host
    /// threads. allocate() must then be safe to call from several threads at once.
    virtual bool hostBoundOnDevice() const { return false; }
};

/// The allocator named `kind` ("mgptq-gcn", "mgptq-mlp", "hessian-greedy"), or nullptr when it
/// is empty, with MG-PTQ's `options`, the quantizer's grid (`symmetric`) and GPTQ's column order
/// (`actOrder`, `staticGroups`), so that the plan is made in the order the quantizer applies it.
/// Throws mpq::Error for an unknown name or invalid options.
std::unique_ptr<ColumnAllocator> makeColumnAllocator(const std::string& kind, const MgptqOptions& options,
                                                     bool symmetric, bool actOrder, bool staticGroups);

} // namespace mpq::detail
