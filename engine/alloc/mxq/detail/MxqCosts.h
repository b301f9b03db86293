#pragma once

#include "alloc/mxq/MxqProblem.h"
#include "core/JobContext.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mpq::detail {

/// The calibration windows of a data-aware cost: params.calibration.tokensFile when given, else
/// sampled with the model's tokenizer (seqlen capped at the model's positions). Throws mpq::Error.
CalibrationSet mxqCalibration(const ModelSource& source, const MxqCostParams& params, JobContext& ctx);
/// Windows per forward pass of a data-aware cost: params.batchSize, or 16 on CUDA and 4 on the CPU.
int64_t mxqBatch(const MxqCostParams& params);
/// The decoder layers [first, last) a cost table covers (params.lastLayer < 0: to the end).
/// Throws mpq::Error when the range is not inside the model's layers.
std::pair<int64_t, int64_t> mxqLayerRange(const MxqCostParams& params, const ModelConfig& config);
/// Refuses an empty configuration list or a configuration outside bits 1..8, group > 0
/// (mpq::Error naming it).
void checkMxqConfigs(const std::vector<MxqConfig>& configs);

/// ‖W − Ŵ‖_F in fp64 accumulation.
double frobeniusCost(const at::Tensor& W, const at::Tensor& What);
/// A matrix's cost in units of its own weight scale, from its Frobenius cost f = ‖W − Ŵ‖_F and
/// meanSquare = mean(W²): kind "relative" gives f / √meanSquare, "relative-mse" f² / meanSquare
/// (Σ over the weights of the squared error relative to the mean square weight, additive over
/// weights like an MSE). An all-zero W (meanSquare 0) keeps f or f². Throws mpq::Error for
/// another kind.
double relativeCost(const std::string& kind, double fnorm, double meanSquare);
/// tr(ΔW H ΔWᵀ) with ΔW = W − Ŵ [rows, cols] and H [cols, cols] (the layer-output error of GPTQ's
/// objective); fp32 products, fp64 sum.
double hessianCost(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H);
/// The "relative-hessian" cost from a matrix's Hessian cost tr(ΔW H ΔWᵀ), its output power
/// `signal` = tr(W H Wᵀ) and its weight count n: n · tr(ΔW H ΔWᵀ) / tr(W H Wᵀ), the layer
/// output's noise-to-signal ratio summed over the weights (relative-mse with the input's
/// covariance; equal to it for H = I). A zero signal keeps the Hessian cost.
double relativeHessianCost(double hessian, double signal, int64_t weights);

/// The "sensitivity" cost of a configuration from the matrix's measured loss increase at the
/// probe configuration (deltaLoss, nats per token, already floored), its Frobenius error there
/// (probeFnorm) and the configuration's (fnorm): deltaLoss · (fnorm / probeFnorm)², the loss
/// increase predicted by the error's power. 0 when probeFnorm is 0.
double sensitivityCost(double deltaLoss, double fnorm, double probeFnorm);
/// The configuration at which the "sensitivity" cost measures each matrix's loss increase: the
/// one with the fewest bits per weight (the largest error the program can choose, where the
/// low-budget decisions are made; b2g128 for the default candidates). Throws mpq::Error when
/// `configs` is empty.
MxqConfig sensitivityProbe(const std::vector<MxqConfig>& configs);
/// The measured loss increases with a floor of a tenth of their mean (negatives counted as 0), so
/// that no matrix looks free because its probe fell within the measurement's noise.
std::vector<double> flooredLossIncreases(std::vector<double> deltaLoss);

/// HQQ-quantizes W once per configuration and returns each configuration's cost: ‖W − Ŵ‖_F, or
/// tr(ΔW H ΔWᵀ) when H is defined (the data-aware extension). On W's device; `ctx`, when given,
/// is checked for cancellation between configurations; `stats`, when given, receives HQQ's
/// statistics per configuration. Throws c10::Error on bad shapes.
std::vector<double> mxqMatrixCosts(const at::Tensor& W, const std::vector<MxqConfig>& configs,
                                   const HqqOptions& hqq, const at::Tensor& H = {},
                                   JobContext* ctx = nullptr, std::vector<HqqStats>* stats = nullptr);

/// Calibration Hessian H [in, in] of one linear's input (fp32, any device), for the data-aware
/// extension. Computed by the caller (e.g. the GPTQ pipeline's calibration pass).
using MxqHessianSource = std::function<at::Tensor(int64_t layer, const llama::LinearSpec& linear)>;

/// computeMxqCosts() on an opened model. With `hessians`, the costs are tr(ΔW H ΔWᵀ) and the
/// table's costKind is "hessian" (extension), or relativeHessianCost() of them when
/// params.costKind is "relative-hessian"; without, ‖W − Ŵ‖_F ("fnorm"). Streams one decoder
/// layer at a time (detail::loadLayer) to params.device.
MxqCostTable computeMxqCosts(const ModelSource& source, const MxqCostParams& params,
                             JobContext& ctx, const MxqHessianSource& hessians = {});

} // namespace mpq::detail
