#pragma once

#include "core/JobContext.h"
#include "model/ModelSource.h"
#include "runs/detail/QuantizedRun.h"

#include <functional>
#include <string>
#include <vector>

namespace mpq::detail {

/// Receives one tensor of the model: `q` is the run's quantized matrix, or null for a tensor the
/// run does not quantize (norms, embeddings, matrices of layers the run has not stored), which
/// the caller reads from the base model.
using RunTensorVisitor = std::function<void(const std::string& name, const QuantizedWeight* q)>;

/// Visits every tensor of the base model in checkpoint order (embedding, then each decoder
/// layer's norms and linears, final norm, lm_head when untied), reading each stored layer of the
/// run once. Reports progress per decoder layer on `ctx` and checks cancellation between layers.
/// Layers the run does not store are visited with null `q` and named in `warnings`. Throws
/// mpq::Error when the run's matrices do not match the base model (unknown name, other shape).
/// Returns the number of quantized matrices visited.
int64_t visitRunTensors(const QuantizedRun& run, const ModelSource& source, JobContext& ctx,
                        const RunTensorVisitor& visit, std::vector<std::string>& warnings);

} // namespace mpq::detail
