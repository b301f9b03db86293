#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/JobContext.h"
#include "data/Calibration.h"
#include "quant/GgmlQuants.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// How to measure every linear of a model in every llama.cpp type (docs/gguf.md).
struct GgufCostParams {
    std::string model;
    std::string tokenizer;
    std::string device = "cpu";
    /// Candidate types. A matrix gets only the types whose block size divides its columns.
    std::vector<ggml::Type> types = defaultTypes();
    /// "fnorm": ‖W − Ŵ‖_F with ggml's reference quantizers (data-free). "hessian":
    /// tr(ΔW H ΔWᵀ) with the calibration Hessians of the unquantized model, and every matrix
    /// quantized with the importance-weighted (imatrix) quantizers, importance = diag(H).
    std::string costKind = "fnorm";
    CalibrationParams calibration; ///< hessian: the calibration windows
    int64_t batchSize = 0;         ///< hessian: windows per forward pass (0: automatic)
    /// false: shapes and importance only, no costs (all −1); enough for llama.cpp's presets.
    bool measure = true;

    /// Q2_K, Q3_K, Q4_0, Q4_1, Q4_K, Q5_0, Q5_1, Q5_K, Q6_K, Q8_0, F16.
    static std::vector<ggml::Type> defaultTypes();
};

/// Every linear's cost in every candidate type: computed once per model, re-solved per budget.
struct GgufCostTable {
    struct Matrix {
        std::string tensor;             ///< Hugging Face name
        int64_t layer = 0;
        std::string linear;             ///< "q_proj" … "down_proj"
        int64_t rows = 0, cols = 0;
        std::vector<double> cost;       ///< per type; negative where the type does not fit the row
        std::vector<float> importance;  ///< diag(H) per input column (hessian), else empty
    };
    std::string model;
    std::string costKind = "fnorm";
    int64_t nKvHeads = 0, nHeads = 0;   ///< for llama.cpp's presets (n_gqa rule)
    int64_t nExperts = 0;               ///< routed experts per layer (llama.cpp's n_expert rules)
    std::vector<ggml::Type> types;
    std::vector<Matrix> matrices;
    double seconds = 0;
};

/// Quantizes every linear of every decoder layer in every candidate type (and, for "hessian",
/// runs the calibration pass first). Progress per matrix (stage "gguf costs"), cancellation
/// between matrices (mpq::Cancelled). Throws mpq::Error on a bad model, device or setting.
GgufCostTable computeGgufCosts(const GgufCostParams& params, JobContext& ctx);

/// Storage in bits of a [rows, cols] matrix in `t` (blocks with their scales: Q4_K 4.5 bits/weight).
double ggufStorageBits(int64_t rows, int64_t cols, ggml::Type t);

/// The matrices that llama.cpp stores as one tensor of one type: the routed experts of one
/// layer and role ("experts.3.w1" and "experts.0.gate_proj" → "<layer>:experts:gate_proj") are a
/// stack; every other matrix is alone (its own tensor name).
std::string ggufStackKey(const GgufCostTable::Matrix& m);

/// The budget-constrained choice: one type per matrix minimising Σ cost subject to Σ storage ≤
/// budget (average bits per weight over the linears, or MiB), by MXQ's solver (docs/mxq.md),
/// proven optimal within options.relativeGap. A stack of routed experts (ggufStackKey) is one
/// choice: its cost and storage are its experts' sums, and all of them get the chosen type. `solution` receives the solve's report. The plan's
/// matrices have quantizer "ggml", method "gguf-mxq". Throws mpq::Error when infeasible or the
/// solve fails (the message says the smallest feasible budget).
AllocationPlan ggufMixPlan(const GgufCostTable& table, const MxqBudget& budget, const MxqSolveOptions& options,
                           JobContext* ctx, MxqSolution* solution);

/// llama.cpp's fixed mixes ("Q4_K_M", "Q3_K_S", …, "Q8_0"), as its llama-quant.cpp chooses a type
/// per tensor for the llama architecture, including the fallbacks for rows its blocks do not
/// divide. Method "gguf-<PRESET>". Throws mpq::Error naming the presets on an unknown one.
AllocationPlan ggufPresetPlan(const GgufCostTable& table, const std::string& preset);
/// The preset names ggufPresetPlan accepts.
std::vector<std::string> ggufPresetNames();

/// One matrix of a "ggml" plan: its type and importance (diag H; empty: reference quantizer).
struct GgmlMatrixSpec {
    ggml::Type type = ggml::Type::Q4_K;
    std::vector<float> importance;
};
/// Reads the type and importance that a "ggml" MatrixPlan carries in its diagnostics. Throws
/// mpq::Error naming the tensor when they are missing or malformed.
GgmlMatrixSpec ggmlSpecOf(const MatrixPlan& plan);
/// A plan entry for a matrix stored in `type` (quantizer "ggml"; columnBits = the type's code bits;
/// storageBits the exact block storage; diagnostics {"ggml_type", "importance"}).
MatrixPlan ggmlMatrixPlan(const GgufCostTable::Matrix& m, ggml::Type type, double cost);

} // namespace mpq

namespace mpq {

/// The cost table as JSON ("format": "mpq-gguf-costs", "version": 1); doubles round-trip.
std::string ggufCostTableToJson(const GgufCostTable& t);
/// Throws mpq::Error naming `source` on malformed input.
GgufCostTable ggufCostTableFromJson(const std::string& text, const std::string& source);

} // namespace mpq
