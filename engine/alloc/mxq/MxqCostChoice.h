#pragma once

#include "alloc/mxq/MxqProblem.h"
#include "core/Memory.h"
#include "model/ModelConfig.h"

#include <cstdint>
#include <string>

namespace mpq {

/// MXQ's default cost, "auto" (mpq's --cost, the run dialog): "probed" where it can run, else
/// "fnorm", the paper's data-free cost (docs/mxq.md, "The default cost"). probed is the only
/// cost measured on or below the uniform HQQ line in C4 perplexity at every budget from 3.13 to
/// 4.6 bits on both shared models (docs/figures.md); it needs calibration data and holds the whole model in fp32 (twice: the
/// costs' windows and the selection's) with the HQQ codes of every configuration.
struct MxqCostChoice {
    std::string kind;    ///< "probed" or "fnorm"
    std::string reason;  ///< one line: why, with the figures
};

/// Calibration windows and tokens per window of MXQ's data-aware costs when the user gives
/// neither --nsamples nor --seqlen (the protocol every MXQ cost figure in docs/figures.md was
/// measured with): 8 windows of 512 tokens, and 8 more for probed's held-out selection.
constexpr int64_t kMxqCalibrationWindows = 8;
constexpr int64_t kMxqCalibrationSeqlen = 512;

/// Planned peak bytes of the probed kind for `params` on its device (on the CPU, host bytes):
/// two fp32 copies of the model (the cost windows' loss probe and the selection's), every decoder
/// layer's input for both window sets, the HQQ codes, scales and zeros of every matrix at every
/// configuration, one layer's Hessians and a batch's logits. An estimate within tens of percent.
int64_t probedMxqBytes(const ModelConfig& c, const MxqCostParams& params);

/// What "auto" is for this job. probed when calibration data is at hand (params.calibration's
/// tokens file with at least two windows, whose windows then count, or its source found in its
/// data folder) and probedMxqBytes fits: 90 % of the GPU's memory (CUDA) or half this machine's
/// memory (CPU), or the budget's limit where it sets a lower one; fnorm otherwise. Reads no
/// weights (the tokens file, when given, to count its windows). Never throws for missing or
/// unreadable data: that is a reason for fnorm.
MxqCostChoice chooseMxqCost(const ModelConfig& c, const MxqCostParams& params, const MemoryBudget& budget);

/// Where params.costKind is "auto": replaces it with chooseMxqCost's kind (the model's header read
/// from params.model) and returns "auto: <reason>" for the log and the cost table's costChoice;
/// any other kind is left as it is and "" returned.
std::string resolveAutoMxqCost(MxqCostParams& params, const MemoryBudget& budget);

} // namespace mpq
