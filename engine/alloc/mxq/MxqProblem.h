#pragma once

#include "alloc/mxq/MxqBudget.h"
#include "core/JobContext.h"
#include "data/Calibration.h"
#include "quant/HqqOptions.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpq {

/// One MXQ configuration: HQQ at `bits` with groups of `groupSize` input columns.
struct MxqConfig {
    int bits = 4;
    int64_t groupSize = 64;

    /// "b4g64".
    std::string label() const;
    /// MXQ's storage per weight: b + 2·8/g (8-bit scale and zero per group) + 32/(128·g) (one
    /// fp16 scale/zero pair of the meta-quantization per 128 groups), e.g. 4.2539 for b4g64.
    double bitsPerWeight() const;
    bool operator==(const MxqConfig& o) const { return bits == o.bits && groupSize == o.groupSize; }
};

/// The paper's twelve: b ∈ {2, 3, 4, 8} × g ∈ {32, 64, 128}.
std::vector<MxqConfig> defaultMxqConfigs();
/// Parses "2,3,4,8x32,64,128" (bits × group sizes, every combination) or a list of labels
/// "b4g64,b3g128". Throws mpq::Error with the offending part.
std::vector<MxqConfig> parseMxqConfigs(const std::string& text);

/// Storage in bits of a [rows, cols] matrix at `c`, counting groups exactly:
/// rows·cols·b + rows·⌈cols/g⌉·16 + ⌈rows·⌈cols/g⌉/128⌉·32. Equals |W|·bitsPerWeight() when g
/// divides cols and 128 divides the number of groups (every LLaMA shape).
double mxqStorageBits(int64_t rows, int64_t cols, const MxqConfig& c);

/// The costs of every configuration for one matrix (index-aligned with MxqCostTable::configs).
struct MxqMatrixCosts {
    std::string tensor;              ///< Hugging Face tensor name
    int64_t layer = 0;
    std::string linear;              ///< "q_proj" … "down_proj"
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<double> cost;        ///< ‖W − Ŵ‖_F (or tr(ΔW H ΔWᵀ) for the hessian kind)
    std::vector<double> storageBits; ///< mxqStorageBits(rows, cols, config)

    int64_t parameters() const { return rows * cols; }
};

/// One whole-model plan that the "probed" cost kind tried at one budget (docs/mxq.md, "Plans chosen
/// by their measured loss").
struct MxqProbedCandidate {
    std::string name;          ///< where it came from: a cost kind ("fnorm", …) or "uniform b4g64"
    std::vector<int> choice;   ///< per matrix of the table, the index of its configuration
    double bitsPerParameter = 0;
    double loss = 0;           ///< mean next-token NLL of the calibration windows, nats per token
    double kl = NAN;           ///< mean KL(unquantized ‖ this plan) per token on the same windows, nats (NaN: not recorded)
};

/// The "probed" cost kind's decision at one budget: every candidate plan with its measured
/// calibration loss, and the one kept (the lowest loss; the first listed among equal losses).
struct MxqProbedSelection {
    double budgetBits = 0;     ///< the budget in bits over the table's matrices
    double budgetBitsPerParameter = 0;
    double baselineLoss = 0;   ///< the unquantized model's loss on the same windows
    std::vector<MxqProbedCandidate> candidates;
    int chosen = -1;           ///< index into candidates

    const MxqProbedCandidate& kept() const { return candidates.at(size_t(chosen)); }
};

/// Everything the MXQ solver needs, computed once per model (the expensive part) and kept, so
/// that a new budget only re-solves. Plain data with a versioned JSON form.
struct MxqCostTable {
    std::string model;               ///< the model path it was computed from (informative)
    std::string costKind = "fnorm";  ///< "fnorm", "relative", "relative-mse", "hessian", "relative-hessian", "sensitivity" or "probed" (see MxqCostParams)
    std::string device;              ///< where the costs were computed
    HqqOptions hqq;                  ///< the HQQ settings used
    double seconds = 0;              ///< time spent computing the costs
    /// How the kind was chosen when the user asked for "auto" (chooseMxqCost's reason), else empty.
    std::string costChoice;
    std::vector<MxqConfig> configs;
    std::vector<MxqMatrixCosts> matrices;
    /// "probed" only: the costs of every candidate kind, [matrix][configuration] like `cost`
    /// (the table's own costs are the "sensitivity" ones), so that a new budget re-solves each.
    std::map<std::string, std::vector<std::vector<double>>> candidateCosts;
    /// "probed" only: the plan chosen by measured calibration loss at each budget probed so far.
    /// solveMxq() at one of these budgets returns the kept plan (see there).
    std::vector<MxqProbedSelection> selections;

    int64_t totalParameters() const;
    /// The selection made for `budgetBits` (within 10⁻⁹ relative), or null.
    const MxqProbedSelection* selectionFor(double budgetBits) const;
    /// Checks sizes (one cost and storage per configuration, finite, non-negative) and
    /// configurations (bits 1..8, positive group sizes). Throws mpq::Error naming `source`.
    void validate(const std::string& source) const;

    std::string toJson() const;
    /// Throws mpq::Error naming `source` on malformed input or an unknown format version.
    static MxqCostTable fromJson(const std::string& text, const std::string& source);
    /// Writes the JSON (to a temporary file, then renamed). Throws mpq::Error naming the file.
    void save(const std::string& path) const;
    static MxqCostTable load(const std::string& path);
};

/// How to compute a model's cost table.
struct MxqCostParams {
    std::string model;                              ///< Hugging Face folder or llama2.c .bin
    std::string device = "cpu";                     ///< "cpu", "cuda", "cuda:N"
    std::vector<MxqConfig> configs = defaultMxqConfigs();
    HqqOptions hqq;
    int64_t firstLayer = 0;                         ///< decoder layers [firstLayer, lastLayer)
    int64_t lastLayer = -1;                         ///< -1: up to the last layer
    /// "fnorm": ‖W − Ŵ‖_F (MXQ's, data-free); "relative": ‖W − Ŵ‖_F / RMS(W) (data-free, each
    /// matrix's error in units of its own weight scale; docs/mxq.md); "relative-mse": ‖W − Ŵ‖²_F /
    /// mean(W²) (data-free, the squared relative error summed over the weights); "hessian": tr(ΔW H ΔWᵀ) with
    /// calibration Hessians of the unquantized model (extension, docs/mxq.md), which needs the fields below;
    /// "relative-hessian": n·tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) with the same Hessians (each layer output's
    /// noise-to-signal ratio summed over the n weights; relative-mse with the input's covariance);
    /// "sensitivity": the calibration loss increase with only that matrix at the probe
    /// configuration (detail::sensitivityProbe: the candidates' smallest), scaled to each
    /// configuration by (‖W − Ŵ_c‖_F / ‖W − Ŵ_probe‖_F)² (docs/mxq.md); "probed": all six of
    /// these from one HQQ pass, and at each of `budgets` the plan of each kind's program and the
    /// best uniform configuration that fits, each measured by its calibration loss, the lowest
    /// kept (MxqCostTable::selections; docs/mxq.md, "Plans chosen by their measured loss").
    std::string costKind = "fnorm";
    std::vector<MxqBudget> budgets;                 ///< probed: the budgets to choose plans for
    CalibrationParams calibration;                  ///< hessian: the calibration windows
    std::string tokenizer;                          ///< hessian: tokenizer.model (default: beside the model)
    int64_t batchSize = 0;                          ///< hessian: windows per forward pass (0: automatic)
};

/// The MXQ cost table of every linear of every decoder layer: data-free (cost = ‖W − Ŵ_HQQ‖_F),
/// or with costKind "hessian" tr(ΔW H ΔWᵀ) after a calibration pass through the unquantized model
/// (activations fp16 on CUDA, fp32 on the CPU); with costKind "probed" also the plans chosen by
/// measured calibration loss at params.budgets (then, after the costs, stage "mxq probe", unit
/// "plans"; the whole model stays resident in fp32 with every layer's calibration input).
/// Streams one decoder layer at a time to the device; reports progress per matrix on `ctx`
/// (stage "mxq costs", unit "matrices", detail = tensor name, with ETA) and checks cancellation
/// before each matrix and configuration (throws mpq::Cancelled). Throws mpq::Error on a bad
/// model, device or configuration. Runs on the calling thread.
MxqCostTable computeMxqCosts(const MxqCostParams& params, JobContext& ctx);

/// Adds to a "probed" table (from computeMxqCosts or a file) the selections for those of
/// params.budgets it lacks: each candidate kind's program is re-solved from the stored costs, the
/// plans are HQQ-quantized and their calibration loss measured (params' model, device and
/// calibration, which should be the table's). Progress on `ctx` (stage "mxq probe", unit "plans",
/// detail = the candidate), cancellation checked before each plan and each decoder layer of its
/// forward pass (throws mpq::Cancelled). Throws mpq::Error for another kind of table, an
/// infeasible budget or a bad model.
void probeMxqBudgets(MxqCostTable& table, const MxqCostParams& params, JobContext& ctx);

} // namespace mpq
