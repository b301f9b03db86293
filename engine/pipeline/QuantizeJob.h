#pragma once

#include "alloc/AllocationPlan.h"
#include "alloc/mgptq/MgptqOptions.h"
#include "core/Device.h"
#include "core/JobContext.h"
#include "core/Memory.h"
#include "runs/RunRecords.h"
#include "runs/SolverRecord.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpq {

/// What a quantization job computes (docs/quantization.md): the model, the quantizer, the
/// calibration, the device and the per-column allocator. Defaults are GPTQ's. A session stores
/// these with each run (pipeline/QuantizeParamsJson.h), enough to resume it exactly.
struct QuantizeSettings {
    std::string model;
    std::string tokenizer;
    std::string method = "gptq";   ///< rtn | gptq | hqq (the quantizer when no plan is given)
    int bits = 4;
    int64_t groupSize = -1;        ///< -1: per output channel
    bool actOrder = false;
    bool staticGroups = false;
    bool symmetric = false;
    double dampPercent = 0.01;
    int64_t blockSize = 128;
    std::string calib = "c4";      ///< c4 | wikitext2 | path
    int64_t nsamples = 128;
    int64_t seqlen = 2048;
    uint64_t seed = 0;
    std::string calibTokens;       ///< reuse a run's calibration windows (calibration.bin)
    std::string device = "cpu";
    std::optional<DType> dtype;    ///< activations; default fp16 on CUDA, fp32 on the CPU
    int64_t batchSize = 0;         ///< calibration windows per forward pass; 0 = automatic
    std::string dataDir;
    /// Per-column allocation inside the pipeline (needs each matrix's Hessian): empty for none,
    /// else "mgptq-gcn", "mgptq-mlp" or "hessian-greedy" (docs/mgptq.md).
    std::string allocator;
    MgptqOptions mgptq;
    /// Mixture of experts: an expert routed fewer calibration tokens than this gets the Hessian of
    /// every calibration token instead (as if all were routed to it; docs/model-families.md).
    int64_t expertMinTokens = 64;
    /// Host / device memory limits (docs/streaming.md): the job picks its batch to fit them, or
    /// refuses with MemoryBudgetError before reading any weight. 0 = no limit.
    MemoryBudget budget;
};

/// Where a job's result goes: a result folder, an HDF5 session run (new or resumed), and what the
/// session keeps beyond the quantized weights. At least one of `out` and `session` is needed.
struct QuantizeOutputs {
    std::string out;               ///< result folder (written atomically at the end)
    /// HDF5 session to write the run into, layer by layer (created when absent; docs/session-format.md).
    std::string session;
    std::string runName;           ///< the run's name in the session; empty: "<method>-<n>"
    /// Continue run `runName` of `session` (empty name: its newest unfinished run) from its last
    /// complete layer with its stored settings, plan and calibration windows; the settings given
    /// are ignored. The result is bit-identical to an uninterrupted run's.
    bool resume = false;
    int64_t storeHessianLimit = 1024; ///< sessions: store the full H of matrices with ≤ this many columns (-1 all, 0 none)
    int64_t viewTopK = 16;         ///< sessions: neighbours per column kept in the stored adjacency
};

/// A quantization job: its settings, its outputs, and what a method resolution (pipeline/Method.h,
/// the CLI's GGUF mixes, an override) decided before it starts.
struct QuantizeParams : QuantizeSettings, QuantizeOutputs {
    std::optional<AllocationPlan> plan; ///< overrides method/bits/groupSize per matrix
    SolverRecord solver;           ///< what chose the plan (MXQ's program, a GGUF mix); stored with the run
};

struct QuantizeReport {
    std::vector<MatrixReport> matrices;
    double avgBits = 0;              ///< code bits per weight over quantized matrices
    double avgBitsWithOverhead = 0;  ///< scales and zeros counted
    double seconds = 0;
    double calibrationSeconds = 0;
    double forwardSeconds = 0;       ///< propagating quantized layer outputs
    double hessianSeconds = 0;       ///< partial forwards collecting Hessians
    double quantizeSeconds = 0;      ///< GPTQ / RTN
    double loadSeconds = 0;          ///< reading each layer's weights onto the device
    double outputSeconds = 0;        ///< writing each finished layer (result folder, session)
    std::vector<LayerTiming> layers; ///< per decoder layer
    int64_t peakDeviceBytes = -1;    ///< CUDA only
    int64_t peakHostBytes = -1;      ///< the process's peak RSS when the job ended (-1: unknown)
    int64_t startHostBytes = -1;     ///< its RSS when the job's peak was reset, before any weight was read
    int64_t plannedHostBytes = 0;    ///< the memory plan's estimates of the job's data
    int64_t plannedDeviceBytes = 0;
    int64_t batch = 0;               ///< calibration windows per forward pass as run (0: automatic)
    std::string memoryPlan;          ///< what the planned figures are made of
    std::string deviceName;
    std::string outDir;
    std::string sessionRun;          ///< "SESSION#RUN" when written into a session
    int64_t resumedLayers = 0;       ///< decoder layers taken from the session (resume)
    std::vector<std::string> warnings;
    AllocationPlan appliedPlan;      ///< the plan as applied (allocators fill in per-column bits)
};

/// Quantizes a model layer by layer (GPTQ's sequential protocol with true-sequential groups)
/// and writes the result folder and/or the session run. Progress: layer i of L with the matrix
/// and ETA; cancellation at layer and GPTQ-block boundaries throws mpq::Cancelled and leaves no
/// result folder behind, while a session keeps the finished layers (status "cancelled",
/// resumable). Throws mpq::Error for bad settings, files or sessions.
QuantizeReport quantizeModel(const QuantizeParams& params, JobContext& ctx);

} // namespace mpq
