#pragma once

#include "TrainingCurves.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace mpq {
struct MatrixPlan;
}

namespace mpq::gui {

/// What the views show of one quantized weight matrix. Plain data filled by the loaders (result
/// folders, partial layer files of a running job, later session files).
struct MatrixResult {
    QString tensor;                   ///< Hugging Face name, e.g. model.layers.3.mlp.down_proj.weight
    int layer = 0;
    QString linear;                   ///< q_proj … down_proj
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<uint8_t> columnBits;  ///< one bit-width per input column (original order)
    int64_t groupSize = -1;
    QString quantizer;
    double bitsWithOverhead = -1;     ///< negative when not known yet (job still running)
    double outputError = -1;          ///< tr(ΔW H ΔWᵀ); negative when data-free or not known yet
    double frobeniusError = -1;       ///< ‖W − Ŵ‖_F; negative when not recorded
    /// GPTQ's fallback when the Hessian was not positive definite ("damping raised to …" or
    /// "RTN: …", docs/quantization.md); empty when none was needed.
    QString fallback;
    /// Mixture of experts: "routed" (the expert's own tokens), "all-tokens" (too few were routed
    /// to it, so every calibration token stood in) or empty (a dense matrix).
    QString hessianSource;
    int64_t calibrationTokens = -1;   ///< tokens behind its Hessian; negative when not recorded
    TrainingCurves curves;

    /// Mean of columnBits (0 when empty).
    double averageBits() const;
    /// "layer 3 · down_proj".
    QString label() const;
    /// One line per thing a user should know about how it was quantized (GPTQ's fallback, an
    /// expert's all-token Hessian); empty when nothing unusual happened.
    QStringList notes() const;
    /// The plan's identity, shape, per-column bits, group size and quantizer; the measured
    /// fields stay unknown (-1) and the curves empty.
    static MatrixResult fromPlan(const MatrixPlan& plan);
};

} // namespace mpq::gui
