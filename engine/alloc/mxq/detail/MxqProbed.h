#pragma once

// MXQ's "probed" cost kind (docs/mxq.md, "Plans chosen by their measured loss"): at each budget,
// the plans of several cost kinds' programs and the best uniform configuration, each measured by
// the calibration loss of the whole quantized model; the lowest is kept.

#include "alloc/mxq/MxqProblem.h"
#include "alloc/mxq/detail/LossProbe.h"
#include "core/JobContext.h"
#include "model/ModelSource.h"
#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mpq::detail {

/// The cost kinds whose programs give the probed kind's candidate plans, in the order they are
/// listed (the first of equal losses is kept, so the paper's fnorm wins a tie).
const std::vector<std::string>& probedCandidateKinds();

/// The candidate-cost key of the sensitivity cost anchored at `anchor` ("sensitivity@b3g128"):
/// the floored plans' sensitivity (docs/mxq.md, "A per-matrix floor").
std::string anchoredSensitivityKind(const MxqConfig& anchor);

/// The anchor of the sensitivity cost at floor `width`: the smallest configuration of at least
/// that many bits (sensitivityProbe over them). Throws mpq::Error when there is none.
MxqConfig floorAnchor(const std::vector<MxqConfig>& configs, int width);

/// The widths that can be a floor: every width of `configs` but the smallest, ascending.
std::vector<int> floorWidths(const std::vector<MxqConfig>& configs);

/// The floor at a budget: the widest width of which some configuration fits the budget on every
/// matrix of `table` at once (0 when none fits).
int budgetFloor(const MxqCostTable& table, double budgetBits);

/// The index of the candidate with the lowest loss, the first among equal ones. Throws mpq::Error
/// when there is none or a loss is not finite.
int lowestLossCandidate(const std::vector<MxqProbedCandidate>& candidates);

/// Appends the two-configuration plans at `budget` (`budgetBits` over the table's matrices;
/// docs/mxq.md, "Two-configuration plans among the candidates", session 18): for every LO that fits the
/// budget on every matrix, at most one bit per parameter below it, and every HI that does not, at
/// most one bit above it (else the cheapest above), the program over LO and HI alone with the
/// sensitivity cost anchored at LO's width (floorAnchor; the plain sensitivity where LO has the
/// narrowest width), named "sensitivity between LO and HI". Pairs whose cost the table lacks are
/// skipped. Throws mpq::Error when a solve fails; mpq::Cancelled from `ctx`.
void appendPairCandidates(const MxqCostTable& table, const MxqBudget& budget, double budgetBits, JobContext* ctx,
                          std::vector<MxqProbedCandidate>& out);

/// The candidate plans of a "probed" table at `budget`, losses not yet measured: each kind of
/// table.candidateCosts (in probedCandidateKinds() order) solved by solveMxq(); then, where the
/// budget's floor (budgetFloor) is above the narrowest width, the same kinds without the narrower
/// configurations ("fnorm, floor 3 bits", …; sensitivity from its cost anchored at the smallest
/// configuration left, where the table has it); then the two-configuration plans
/// (appendPairCandidates); then "uniform
/// bXgY", the configuration that fits the budget on every matrix with the smallest summed fnorm
/// cost (none when no configuration fits on its own). Throws mpq::Error when the budget is
/// infeasible or a solve fails; mpq::Cancelled from `ctx`.
std::vector<MxqProbedCandidate> probedCandidates(const MxqCostTable& table, const MxqBudget& budget,
                                                 JobContext* ctx);

/// Measures whole plans of a cost table: every matrix HQQ-quantized at its configuration, the
/// calibration windows run through the model, the mean next-token NLL returned. HQQ results are
/// kept per (matrix, configuration) as codes, scales and zeros (about one byte per weight and
/// configuration), so that a configuration is quantized once however many plans use it.
/// Not thread-safe.
class MxqPlanProber {
public:
    MxqPlanProber(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
                  const at::Device& device, int64_t batch);
    const LossProbe& probe() const { return m_probe; }
    /// Keeps `q` (its dequant is dropped) as matrix `matrix`'s HQQ result at configuration `config`.
    void remember(size_t matrix, size_t config, QuantizedWeight q);
    /// The calibration loss of `choice` (per matrix of `table`, a configuration index). Matrices
    /// not seen before are loaded and HQQ-quantized with table.hqq. Checks `ctx` before each
    /// matrix and each decoder layer (throws mpq::Cancelled).
    /// With `kl`, also the plan's KL divergence from the unquantized model (LossProbe::planLoss).
    double loss(const MxqCostTable& table, const std::vector<int>& choice, const JobContext& ctx,
                double* kl = nullptr);

private:
    const ModelSource& m_source;
    at::Device m_device;
    LossProbe m_probe;
    std::map<std::pair<size_t, size_t>, QuantizedWeight> m_hqq;
};

/// Adds the selections for the budgets `table` lacks (see probeMxqBudgets): candidates for every
/// budget first, then each distinct plan measured once (stage "mxq probe", unit "plans").
void addProbedSelections(MxqCostTable& table, const std::vector<MxqBudget>& budgets, MxqPlanProber& prober,
                         JobContext& ctx);

/// computeMxqCosts() for costKind "probed": one HQQ pass gives every candidate kind's costs
/// (fnorm, relative, relative-mse, hessian and relative-hessian with the unquantized model's
/// calibration Hessians, sensitivity with one loss probe per matrix), then the selections for
/// params.budgets. The table's own costs are the sensitivity ones.
MxqCostTable computeProbedMxqCosts(const MxqCostParams& params, JobContext& ctx);

} // namespace mpq::detail
