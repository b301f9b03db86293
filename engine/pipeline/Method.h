#pragma once

// The quantization methods as data: which ones exist, their settings, and the one function that
// turns a request for a method into what the pipeline runs (QuantizeParams: quantizer, bits,
// column allocator, allocation plan). The CLI (`mpq quantize`, `mpq sweep`), the GUI's JobRunner
// and the column allocator factory all go through here (docs/architecture.md). Plain C++: no
// torch, so Qt code can include it.

#include "alloc/mgptq/MgptqOptions.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/JobContext.h"
#include "pipeline/QuantizeJob.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mpq {

enum class Method {
    Rtn,     ///< round to nearest, uniform bits
    Gptq,    ///< GPTQ, uniform bits
    Hqq,     ///< HQQ, uniform bits (data-free)
    Mgptq,   ///< MG-PTQ: per-column bits learned from each matrix's Hessian graph, then GPTQ
    Mxq,     ///< MXQ: one (bits, group) configuration per matrix from a mixed integer program, HQQ
    Gguf,    ///< llama.cpp's preset types (docs/gguf.md)
    GgufMxq, ///< MXQ's program over llama.cpp's types
};

/// "rtn", "gptq", "hqq", "mgptq", "mxq", "gguf", "gguf-mxq".
const char* methodName(Method m);
/// The method of that name; throws mpq::Error naming the known ones otherwise.
Method parseMethod(const std::string& name);
/// rtn, gptq, hqq: one bit-width for every matrix, no allocator.
bool isUniformMethod(Method m);

/// The column allocators that run inside the pipeline (QuantizeParams::allocator).
enum class ColumnAllocatorKind { MgptqGcn, MgptqMlp, HessianGreedy };
/// "mgptq-gcn", "mgptq-mlp", "hessian-greedy".
const char* columnAllocatorName(ColumnAllocatorKind k);
/// MG-PTQ's allocator for its options' model: gcn → MgptqGcn, mlp → MgptqMlp, hessian-greedy →
/// HessianGreedy; throws mpq::Error for another model.
ColumnAllocatorKind columnAllocatorFor(const MgptqOptions& o);
/// The allocator a QuantizeParams::allocator string names ("mgptq" alone: the one of `o.model`);
/// std::nullopt for an empty name; throws mpq::Error for an unknown one.
std::optional<ColumnAllocatorKind> parseColumnAllocator(const std::string& name, const MgptqOptions& o);

/// What to quantize with: a method and its settings. Only the settings of `method` are read.
struct MethodSpec {
    Method method = Method::Gptq;
    int bits = 4;                        ///< rtn, gptq, hqq
    MgptqOptions mgptq;                  ///< mgptq: exactly one of alpha and targetBits set
    MxqBudget budget;                    ///< mxq
};

/// The sweep axes: the setting a sweep varies.
enum class SweepAxis { Bits, Alpha, TargetBits, Budget };
/// "bits", "alpha", "target-bits", "budget".
const char* sweepAxisName(SweepAxis a);
/// The axis of that name; throws mpq::Error otherwise.
SweepAxis parseSweepAxis(const std::string& name);
/// The axis a sweep of `spec` varies: bits (rtn/gptq/hqq), alpha or target bits (mgptq: the one
/// set), budget (mxq). Throws mpq::Error for a method that has none.
SweepAxis sweepAxisOf(const MethodSpec& spec);
/// `spec` with the axis set to `value` (mgptq: alpha and target bits exclude each other; mxq:
/// the budget in bits per parameter).
MethodSpec withAxisValue(MethodSpec spec, SweepAxis axis, double value);

/// The record of an MXQ-style program's solve at `budget` (status, solver, message, budget,
/// objective, gap, achieved bits per parameter, solve time) for a run's SolverRecord; the caller
/// adds the cost table's kind and time.
SolverRecord mxqSolverRecord(const MxqSolution& s, const MxqBudget& budget);

/// MXQ's cost-table parameters for the job `p` (mpq's and the run dialog's): its model, tokenizer,
/// device, batch and calibration source (--calib, --seed, data folder, tokens file), `configs`, and
/// `windows` x `seqlen` calibration windows for the data-aware cost kinds. The kind and budgets are
/// the caller's.
MxqCostParams mxqCostParams(const QuantizeParams& p, std::vector<MxqConfig> configs, int64_t windows,
                            int64_t seqlen);

/// What resolveMethod decided besides the QuantizeParams: MXQ's solve, for reports.
struct ResolvedMethod {
    std::optional<MxqSolution> mxq;      ///< mxq: the solver's result
};

/// Turns `spec` into the job: sets p.method (the quantizer), p.bits, p.allocator and p.mgptq
/// (mgptq; its adjacency damping is p.dampPercent), or p.plan and p.solver (mxq: solves
/// `mxqCosts` for spec.budget). The other fields of `p` are left as they are. `mxqCosts` is read
/// only for mxq and must then be given; `ctx` (may be null) cancels the solve; `mxqSolved` (may be
/// empty) sees the solver's result before an infeasible one is thrown, for a log. The GGUF methods
/// need the measured type table of the CLI (app/cli/GgufOptions.h) and are refused here.
/// Throws mpq::Error: an infeasible budget, a missing cost table, invalid settings.
ResolvedMethod resolveMethod(const MethodSpec& spec, QuantizeParams& p, const MxqCostTable* mxqCosts = nullptr,
                             JobContext* ctx = nullptr,
                             const std::function<void(const MxqSolution&)>& mxqSolved = {});

} // namespace mpq
