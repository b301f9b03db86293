#pragma once

#include "alloc/mxq/MxqProblem.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/JobContext.h"
#include "quant/HqqOptions.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// MXQ's speed benchmark on a synthetic LLaMA-shaped model (LLaMA-7B by default: 32 layers,
/// hidden 4096, intermediate 11008, seven linears per layer = 224 matrices).
struct MxqBenchParams {
    std::string device = "cpu";
    int64_t layers = 32;
    int64_t hidden = 4096;
    int64_t intermediate = 11008;
    int64_t heads = 32;            ///< attention heads (head size = hidden / heads)
    int64_t kvHeads = 32;          ///< key/value heads: k_proj and v_proj have kvHeads × head size rows
    uint64_t seed = 0;
    std::vector<MxqConfig> configs = defaultMxqConfigs();
    HqqOptions hqq;
    double budgetBitsPerParameter = 3.5;
    MxqSolveOptions solve;
};

struct MxqBenchResult {
    std::string deviceName;
    int64_t layers = 0;
    int64_t matrices = 0;
    int64_t configs = 0;
    int64_t parameters = 0;
    double totalSeconds = 0;       ///< generation + HQQ + costs + solve
    double generateSeconds = 0;    ///< making the random weights on the device
    double hqqSeconds = 0;         ///< all HQQ passes with their ‖W − Ŵ‖_F
    double solveSeconds = 0;       ///< the mixed integer program alone
    double meanIterations = 0;     ///< HQQ zero-point updates per call, averaged
    double meanBestIteration = 0;  ///< the update whose zero was kept, averaged
    int64_t peakDeviceBytes = -1;  ///< peak LibTorch CUDA allocation; -1 on the CPU
    MxqSolution solution;
    MxqCostTable table;            ///< the synthetic cost table (for re-solving at other budgets)
};

/// Generates the model's matrices one layer at a time on the device (seeded Gaussian weights,
/// each matrix with its own standard deviation around 0.02), runs every HQQ configuration on
/// each matrix and measures ‖W − Ŵ‖_F, then solves the MIP at the budget. Timings synchronise
/// the device. Reports progress per matrix and checks cancellation on `ctx` (throws
/// mpq::Cancelled); throws mpq::Error on a bad device or shape.
MxqBenchResult benchmarkMxq(const MxqBenchParams& params, JobContext& ctx);

} // namespace mpq
