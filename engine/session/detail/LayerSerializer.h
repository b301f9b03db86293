#pragma once

// Serializer of one decoder layer's results (…/layers/NNN, or a journal layer file's /layer):
// per matrix the quantized weights (codes, scales, zeros, slots), the plan as applied, the
// measured figures, and the group's Hessian diagonal, full Hessian (size permitting) and
// sparsified adjacency for viewing.

#include "alloc/mgptq/MgptqOptions.h"
#include "runs/detail/LayerRecord.h"
#include "session/Session.h"
#include "session/detail/H5.h"

#include <ATen/ATen.h>

#include <map>
#include <string>

namespace mpq::session::detail {

/// What is kept of a true-sequential group's Hessian (tensors on the CPU).
struct HessianExtras {
    at::Tensor diagonal;       ///< fp32 [cols]
    at::Tensor full;           ///< fp32 [cols, cols], undefined when over the size limit
    SparseAdjacency adjacency; ///< nodes 0 when it could not be built
};

/// Writes `record` as group `name` of `parent`. The first matrix of each group holds the group's
/// Hessian data; the others link to it (HDF5 hard links: stored once, visible under each matrix).
void writeLayer(const h5::Id& parent, const std::string& name, const mpq::detail::LayerRecord& record,
                const std::map<int, HessianExtras>& extras);

/// Reads a layer group back: quantized weights (on the CPU, dequant not filled), plans, figures
/// and timings. Throws mpq::Error naming the file on inconsistent data.
/// Errors name the decoder layer and matrix ("<file>: decoder layer 3, matrix <tensor>: ...");
/// damaged bytes throw h5::ChecksumError; NaN or Inf in stored scales or zeros throw mpq::Error.
mpq::detail::LayerRecord readLayer(const h5::Id& group);
/// Reads every dataset of a layer group (Hessians and viewing arrays too) to verify their
/// checksums. Throws as readLayer().
void verifyLayer(const h5::Id& group);

/// The adjacency MG-PTQ builds from H (docs/mgptq.md: coupling from GPTQ's H⁻¹ Cholesky factor,
/// normalised Â, dense or top-k as the allocator would) with each row's `k` strongest neighbours
/// kept for viewing, self loops left out. H is fp32 on any device.
SparseAdjacency viewAdjacency(const at::Tensor& H, const MgptqOptions& options, int64_t k);

} // namespace mpq::session::detail
