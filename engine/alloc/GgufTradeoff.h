#pragma once

#include "alloc/GgufMix.h"

#include <map>
#include <string>
#include <vector>

namespace mpq {

/// One mix of llama.cpp types on the GGUF trade-off: its size and its summed quantization error,
/// both over the decoder layers' linear matrices (what the budget counts; docs/gguf.md).
struct GgufTradeoffPoint {
    std::string name;              ///< the preset ("Q4_K_M") or "MIP 4.50"
    bool preset = false;           ///< llama.cpp's fixed rules (true) or MXQ's program (false)
    double budget = 0;             ///< MIP: the budget asked, bits per weight; presets: 0
    double bitsPerWeight = 0;      ///< achieved; an F16 matrix counts 16 bits per weight
    double cost = 0;               ///< Σ over the matrices of the table's cost of the chosen type
    std::string status;            ///< MIP: "optimal" or "feasible"; presets: empty
    std::map<std::string, int> typeCounts; ///< ggml type name → number of matrices in it
};

/// The MIP mixes over a range of budgets and llama.cpp's presets, all scored by one cost table.
/// Plain data for the GUI and the CLI.
struct GgufTradeoff {
    std::string model;
    std::string costKind;                  ///< "fnorm" or "hessian" (the table's)
    std::vector<GgufTradeoffPoint> mixes;  ///< by increasing budget; budgets that give the same
                                           ///< mix as the previous one are kept (the curve's steps)
    std::vector<GgufTradeoffPoint> presets;///< in ggufPresetNames() order
    std::vector<std::string> skipped;      ///< one line per preset or budget left out, and why
};

/// Budgets for the curve: `points` evenly spaced from the smallest feasible bits per weight (every
/// matrix in its smallest fitting type) to the largest without F16 (every matrix in its largest
/// fitting type other than F16; F16 where nothing else fits). Throws mpq::Error on an empty table.
std::vector<double> ggufTradeoffBudgets(const GgufCostTable& table, int points = 41);

/// Solves ggufMixPlan at every budget and scores every llama.cpp preset (ggufPresetPlan) with the
/// table's costs. A preset that uses a type the table did not measure (a table made with --types)
/// and a budget the solver cannot meet are listed in `skipped`, not thrown. Checks `ctx` (may be
/// null) for cancellation between solves. Throws mpq::Error on an empty or unmeasured table (the
/// presets' tables of `mpq quantize --method gguf` carry no costs).
GgufTradeoff ggufTradeoff(const GgufCostTable& table, const std::vector<double>& budgets,
                          const MxqSolveOptions& options = {}, JobContext* ctx = nullptr);

/// Bits per weight and Σ cost of a plan of ggufMixPlan / ggufPresetPlan over the table (matrices
/// the plan leaves out are F16). `cost` is negative when a chosen type has no cost in the table.
GgufTradeoffPoint ggufScorePlan(const GgufCostTable& table, const AllocationPlan& plan);

} // namespace mpq
