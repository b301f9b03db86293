#pragma once

#include "core/Device.h"
#include "core/Memory.h"
#include "model/ModelConfig.h"

#include <cstdint>
#include <string>

namespace mpq {

/// Sizes of a model's parts held at one element size (docs/streaming.md), from its config.
struct ModelFootprint {
    int64_t totalBytes = 0;         ///< every tensor
    int64_t embedBytes = 0;         ///< the embedding table
    int64_t headBytes = 0;          ///< final norm and lm_head (the norm alone when tied)
    int64_t largestLayerBytes = 0;  ///< the largest decoder layer
    /// The most one streamed step holds: the embedding, one decoder layer, or the head.
    int64_t largestStepBytes() const;
    static ModelFootprint of(const ModelConfig& c, int64_t elementBytes);
};

/// How an evaluation runs and what it holds. Figures are planned peaks of the job's data
/// (weights, hidden states, activations, logits), estimates within tens of percent.
struct EvalMemoryPlan {
    bool streamed = false;       ///< weights one decoder layer at a time, hidden states of all windows kept
    int64_t batch = 1;           ///< windows per forward pass
    int64_t windowsPerPass = 0;  ///< streamed: windows whose hidden states are held at once (all by default)
    bool hiddenOnHost = false;   ///< streamed on CUDA: hidden states kept in host memory between layers
    int64_t hostBytes = 0;       ///< planned peak in host memory
    int64_t deviceBytes = 0;     ///< planned peak on a CUDA device (0 on the CPU)
    std::string reason;          ///< why streamed (empty when resident)
    std::string breakdown;       ///< what the figures are made of, for messages and reports
};

/// What to plan an evaluation for.
struct EvalShape {
    int64_t windows = 0;
    int64_t seqlen = 0;          ///< longest window
    int64_t batchAsked = 0;      ///< 0: automatic
    bool offload = false;        ///< stream layers even when the whole model fits
    bool quantizedRun = false;   ///< a run's dequantized matrices are held too (fp32)
};

/// Chooses resident or layer-streamed evaluation and the batch so that the budget holds: resident
/// when the model fits (and offload is not asked for), else streamed, holding fewer windows per
/// pass over the layers when all windows' hidden states do not fit. Throws MemoryBudgetError
/// (one line with the figures) when even the smallest plan exceeds the budget.
EvalMemoryPlan planEvalMemory(const ModelConfig& c, DType dtype, const std::string& device, const EvalShape& shape,
                              const MemoryBudget& budget);

/// What a quantization job holds, and its batch (calibration windows per forward pass).
struct QuantizeMemoryPlan {
    int64_t batch = 1;
    int64_t hostBytes = 0;
    int64_t deviceBytes = 0;
    std::string breakdown;
};

/// Calibration windows per forward pass when the user does not choose: 1 on the CPU, 16 on CUDA.
/// On the CPU one window at a time costs little (each pass is still seqlen rows) and makes the
/// result independent of memory limits: LibTorch's CPU forward pass is not bit-identical across
/// batch sizes, so a limit that shrank a larger batch changed the codes (docs/streaming.md).
int64_t automaticQuantizeBatch(const std::string& device);

/// Plans the sequential (or data-free) driver within the budget: one decoder layer's weights,
/// the calibration windows' hidden states in and out, the Hessians and GPTQ's temporaries, and
/// the batch's activations; the batch is the largest up to automaticQuantizeBatch that fits.
/// `batchAsked` > 0 is kept or refused. Throws MemoryBudgetError when nothing fits.
QuantizeMemoryPlan planQuantizeMemory(const ModelConfig& c, DType act, const std::string& device, int64_t windows,
                                      int64_t seqlen, int64_t batchAsked, bool dataFree, const MemoryBudget& budget);

/// Bytes of one element of `t`.
int64_t dtypeBytes(DType t);

} // namespace mpq
