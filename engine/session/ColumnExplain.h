#pragma once

// Why a column of a stored run got its bit-width (issue 19, "Explain"; docs/explain.md). Plain
// C++ types, no torch: the GUI's Explain dock includes this header.

#include "alloc/mxq/MxqProblem.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq::session {

/// One of a column's strongest couplings in the layer's Hessian graph.
struct ColumnNeighbour {
    int64_t column = 0;
    double weight = 0;     ///< |H_ij| / sqrt(H_ii·H_jj) from the stored H, or the stored Â_ij
    int bits = 0;          ///< the neighbour's width in the run
};

/// One candidate width of the column.
struct WidthPrediction {
    int bits = 0;
    /// ‖W[:, j] − Q_b(W)[:, j]‖²: the column's squared RTN error with the matrix's grid (its group
    /// size and symmetry) fitted at b bits on every column; -1 when the weights were not readable.
    double columnError = -1;
    /// H_jj · columnError: the column's own term of tr(ΔW H ΔWᵀ) (what MG-PTQ's G holds on its
    /// diagonal and its target repair ranks by); -1 when unknown.
    double predictedError = -1;
    /// The MG-PTQ allocator's final softmax probability of this width; -1 when not stored.
    double probability = -1;
};

/// One MXQ configuration of the clicked matrix.
struct MxqConfigRow {
    std::string label;     ///< "b4g64"
    int bits = 0;
    int64_t groupSize = 0;
    double cost = 0;       ///< as the cost table holds it (‖W − Ŵ‖_F or tr(ΔW H ΔWᵀ))
    double storageBits = 0;
    bool chosen = false;   ///< the run's configuration of this matrix
    /// cost + λ·storage: the LP relaxation prices each configuration this way; the smallest wins
    double pricedCost = 0;
};

/// Everything the Explain dock shows about one column.
struct ColumnExplanation {
    std::string run;
    std::string method;
    std::string tensor;
    int64_t layer = 0;
    std::string linear;
    int64_t column = 0;
    int64_t rows = 0, cols = 0;
    int bits = 0;                        ///< the width the run applied
    double matrixAverageBits = 0;        ///< code bits of the matrix in the run

    bool hasHessian = false;             ///< false for data-free runs (HQQ, MXQ with ‖·‖_F costs)
    double hessianDiagonal = 0;          ///< H_jj
    int64_t hessianRank = 0;             ///< 1 = the largest H_jj of the matrix (act-order's first)
    double hessianMedian = 0;            ///< median H_jj of the matrix, for scale

    std::vector<ColumnNeighbour> neighbours; ///< strongest first
    std::string neighbourSource;         ///< which matrix they come from, one line

    std::vector<int> candidates;         ///< the widths explained (ascending)
    std::vector<WidthPrediction> widths; ///< one per candidate
    bool hasSoftmax = false;
    std::string softmaxNote;             ///< why there is no softmax, when there is none
    std::string errorNote;               ///< why there are no error predictions, when there are none

    /// The Hessian-greedy baseline on this matrix at the run's average width of the matrix
    /// (scores H_jj·‖W[:, j]‖², alloc/HessianGreedy.h); -1 when it cannot be computed.
    int greedyBits = -1;
    double greedyTarget = 0;
    int64_t greedyRank = 0;              ///< the column's rank by the greedy score (1 = first raised)

    // MXQ runs: the matrix's configurations and the budget's shadow price.
    bool isMxq = false;
    std::vector<MxqConfigRow> configs;
    double budgetBits = 0;               ///< the budget in storage bits
    std::string budgetSource;            ///< how the budget was found (the run's record, or its achieved storage)
    /// λ: the LP relaxation's dual of the budget row, cost per storage bit (0 when the budget is
    /// not binding), and the same per bit per parameter of the whole table (λ · parameters).
    double shadowPrice = -1;
    double shadowPricePerBitPerParameter = -1;
    std::string mxqNote;                 ///< why there is no table, when there is none
};

struct ColumnExplainOptions {
    int neighbours = 8;                  ///< how many neighbours to list
    /// Read the base model's weights (for the error predictions and the greedy baseline); off:
    /// only what the session stores.
    bool readWeights = true;
};

/// Explains column `column` of matrix `tensor` of run `run` of the session at `sessionPath`.
/// Reads the run's stored arrays, and the matrix's weights from the model the run records (its
/// path when the run was made); where those are gone the predictions are left out with a note.
/// Runs on any thread (the HDF5 calls are serialised; the RTN of a 4096 × 11008 matrix at three
/// widths takes about a second on one CPU core). Throws mpq::Error for an unknown run or tensor
/// or a column out of range.
ColumnExplanation explainColumn(const std::string& sessionPath, const std::string& run, const std::string& tensor,
                                int64_t column, const ColumnExplainOptions& options = {});

/// An MXQ run of a session, for the teaching view: its cost table (stored under the run's name),
/// its budget in storage bits (the recorded budget, else its achieved storage; `budgetSource`
/// says which) and the configuration it applied to each matrix of the table (−1 when absent).
struct MxqRunChoice {
    MxqCostTable table;
    double budgetBits = 0;
    std::string budgetSource;
    std::vector<int> choice;
};
/// Throws mpq::Error when the run is not MXQ or the session stores no cost table for it.
MxqRunChoice mxqRunChoice(const std::string& sessionPath, const std::string& run);

/// λ of the LP relaxation of MXQ's program (min Σ cost, one configuration per matrix, Σ storage ≤
/// budgetBits): matrices start at their smallest configuration, then the increments of the
/// lower convex hulls of (storage, cost) are bought steepest first; λ is the slope of the
/// increment the budget ends in (0 when everything fits). `cost[i][k]`, `storage[i][k]`.
double mxqShadowPrice(const std::vector<std::vector<double>>& cost, const std::vector<std::vector<double>>& storage,
                      double budgetBits);

} // namespace mpq::session
