#pragma once

#include "core/JobContext.h"
#include "eval/Windows.h"
#include "model/detail/LlamaModel.h"

#include <vector>

namespace mpq::eval::detail {

struct NllSums {
    double nll = 0;     ///< summed over scored tokens, in fp64
    int64_t tokens = 0;
};

/// Runs the windows through the model in batches of equal-length windows and sums the NLL of
/// the scored tokens. batchSize 0 picks one from the logits' memory (1 on the CPU). Reports
/// progress in tokens and checks cancellation between batches.
NllSums runWindows(const mpq::detail::LlamaModel& model, const std::vector<Window>& windows,
                   int64_t batchSize, JobContext& ctx);

} // namespace mpq::eval::detail
