#pragma once

#include "Args.h"

#include "alloc/mxq/MxqProblem.h"
#include "pipeline/Method.h"
#include "pipeline/QuantizeJob.h"

#include <cstdio>
#include <optional>

namespace mpq::cli {

/// MXQ's cost table, computed once per model and reused by every budget of a sweep.
struct MxqCostCache {
    std::optional<MxqCostTable> table;
};

/// Options of the allocating methods (mgptq, mxq), shared by `quantize` and `sweep`.
void addAllocatorOptions(Args& args);
/// Checks the method and every allocator option's value (ranges, lists, files) without doing
/// any work: one UsageError or mpq::Error naming the option. `sweep` passes skipAxis = the
/// option that holds its list of points (checked point by point by the caller).
void checkAllocatorOptions(const Args& args, const std::string& method, const std::string& skipAxis = {});

/// Turns --method and the allocator options into the job through resolveMethod
/// (pipeline/Method.h): mgptq sets the column allocator and its options; mxq computes (or loads)
/// the cost table, solves for --budget and sets the plan; rtn/gptq/hqq set the method and
/// --bits; gguf and gguf-mxq go through applyGgufMethod. Solver status is printed to `log`
/// when given.
/// Throws mpq::Error (infeasible budget included) or UsageError.
void applyAllocatorOptions(const Args& args, const std::string& method, std::FILE* log, MxqCostCache& costs,
                           QuantizeParams& p, JobContext& ctx);

/// The method named by --method; UsageError naming the known ones otherwise.
Method cliMethod(const std::string& name);

/// The method's settings from the options: --bits (rtn, gptq, hqq), the network's options
/// (mgptq), --budget or --budget-mib (mxq, gguf-mxq). Throws UsageError.
MethodSpec methodSpecFrom(const Args& args, Method method);

/// MXQ's solver status line ("mxq: optimal (GLPK …, 3.0 bits/parameter): …") to `log` when given.
void logMxqSolve(std::FILE* log, const MxqSolution& s, const MxqBudget& budget);

/// MXQ's cost table of --cost, --configs and --costs (loaded from --costs when that file exists,
/// else computed, and saved there when --costs is given), computed once per cache. --cost auto
/// (the default) takes a stored table's kind, else chooseMxqCost's, whose choice and reason go to
/// `log` when given.
const MxqCostTable& mxqCostTable(const Args& args, MxqCostCache& costs, const QuantizeParams& p, JobContext& ctx,
                                 std::FILE* log);

} // namespace mpq::cli
