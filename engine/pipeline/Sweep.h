#pragma once

// A trade-off sweep: one method quantized at several values of its knob (bits, α, target bits,
// MXQ budget), each point evaluated on a few data sets, optionally stored as runs, evaluations
// and a sweep table of an HDF5 session. The loop of `mpq sweep` and of the GUI's JobRunner
// (docs/architecture.md). Plain C++: no torch, so Qt code can include it.

#include "eval/Perplexity.h"
#include "pipeline/Method.h"
#include "pipeline/QuantizeJob.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mpq {

struct SweepParams {
    QuantizeParams base;              ///< settings shared by every point (model, calibration, device, …)
    MethodSpec method;                ///< the method; its `axis` setting is replaced per point
    SweepAxis axis = SweepAxis::Bits;
    std::vector<double> values;       ///< the knob's values, one point each
    /// mgptq: each point is quantized and evaluated once per allocator seed (MgptqOptions::seed);
    /// empty: once, with the method's own seed.
    std::vector<uint64_t> seeds;
    /// What every evaluation shares (protocol, seqlen, dtype, windows, budget); model and dataset
    /// are set per evaluation, tokenizer, device and data folder come from `base`.
    EvalParams eval;
    std::vector<std::string> evalDatasets;
    /// Session the hooks put the runs in (QuantizeParams::session): each evaluation is stored there
    /// (session::evaluationRecord), and with `sweepName` the sweep table after every point.
    std::string session;
    std::string sweepName;            ///< the sweep table's name; empty: no table
    std::string sweepModel;           ///< the model the sweep table names; empty: base.model
};

/// One quantization of a sweep point (one seed of it) and what was measured.
struct SweepRun {
    size_t index = 0;                 ///< the point
    double value = 0;                 ///< the knob's value
    std::optional<uint64_t> seed;     ///< with SweepParams::seeds
    QuantizeParams params;            ///< as run (resolveMethod applied)
    ResolvedMethod resolved;
    QuantizeReport report;
    std::vector<std::pair<std::string, EvalResult>> evaluations; ///< (data set asked for, result)
};

/// What the caller does around the loop; every hook may be empty except `prepare` and, for mxq,
/// `mxqCosts`. Hooks run on the calling thread; an exception from one ends the sweep.
struct SweepHooks {
    /// Names a run's outputs before the method is resolved: QuantizeParams::out and/or
    /// session and runName (the run's own progress handling may be attached to the context here).
    std::function<void(size_t index, const std::optional<uint64_t>& seed, QuantizeParams& p)> prepare;
    /// MXQ's cost table, asked for once at the first point; the reference must stay valid.
    std::function<const MxqCostTable&(const QuantizeParams& p)> mxqCosts;
    /// Resolves a method that resolveMethod refuses (the GGUF methods, which need the CLI's
    /// measured type table) into `p`.
    std::function<void(const MethodSpec& spec, QuantizeParams& p)> resolveOther;
    /// MXQ's solve of a point, before an infeasible one is thrown.
    std::function<void(const MxqSolution& s, const MxqBudget& budget)> mxqSolved;
    /// The method is resolved; quantization starts.
    std::function<void(const SweepRun& run)> quantizing;
    /// The run is quantized (report filled); evaluations follow.
    std::function<void(const SweepRun& run)> quantized;
    /// One evaluation of the run (already stored in the session, if any).
    std::function<void(const SweepRun& run, const EvalResult& r)> evaluated;
    /// The run and all its evaluations are done.
    std::function<void(const SweepRun& run)> runDone;
    /// Every seed of a point is done (the sweep table, if any, is stored).
    std::function<void(size_t index, const std::vector<SweepRun>& runs)> pointDone;
};

/// Runs the sweep: for each value (and seed), resolveMethod, quantizeModel, evaluatePerplexity
/// on each data set. Cancellation is checked before each run and inside the engine's jobs
/// (throws mpq::Cancelled); finished points stay stored. Throws mpq::Error (bad settings, an
/// infeasible MXQ budget, files) or MemoryBudgetError.
void runSweep(const SweepParams& params, const SweepHooks& hooks, JobContext& ctx);

} // namespace mpq
