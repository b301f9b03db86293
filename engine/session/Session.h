#pragma once

// The HDF5 session file (docs/session-format.md), read side and small edits, in plain C++: no
// torch, no HDF5 types, so the GUI and its widgets can include it. Writing a quantization run
// layer by layer is the pipeline's job (QuantizeParams::session).

#include "alloc/mxq/MxqProblem.h"
#include "alloc/mgptq/TrainingCurves.h"
#include "runs/SolverRecord.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mpq::session {

/// The schema version this build writes, and the newest it reads. Older versions are read with
/// defaults for what they lack; newer ones are refused with a clear mpq::Error.
/// 1: the first schema. 2: every dataset is checksummed (Fletcher-32 on chunked arrays, SHA-256
/// of texts, HDF5 1.8+ metadata checksums); a damaged layer is reported by name.
constexpr int kSchemaVersion = 2;

/// Where a run stands.
enum class RunStatus {
    Running,     ///< a process is writing it now (its journal is locked)
    Interrupted, ///< its writer died (kill -9, power loss): resumable from the last complete layer
    Cancelled,   ///< stopped by the user (Ctrl-C, the GUI's stop): resumable
    Failed,      ///< stopped by an error: resumable once the cause is fixed
    Complete,    ///< every decoder layer is stored
};
/// "running", "interrupted", "cancelled", "failed", "complete".
const char* statusName(RunStatus status);

/// The base model a run was made from.
struct ModelReference {
    std::string path;        ///< absolute path when the run was made
    std::string configJson;  ///< the architecture as a JSON object (ModelConfig::toJson)
    /// SHA-256 (lower-case hex) of each weight file, by absolute path.
    std::vector<std::pair<std::string, std::string>> sha256;

    /// Is the stored architecture `currentConfigJson` (ModelConfig::toJson of the model now)?
    /// Compares the parsed objects; also accepts the form builds before this one stored for
    /// every family (LLaMA-2's fields only), so that their runs still resume. False when the
    /// stored text is not a JSON object.
    bool sameArchitecture(const std::string& currentConfigJson) const;
};

/// The per-matrix figures of a run (cheap: no arrays).
struct MatrixSummary {
    std::string tensor;            ///< Hugging Face name, e.g. "model.layers.3.mlp.down_proj.weight"
    int64_t layer = 0;
    std::string linear;            ///< "q_proj" … "down_proj"
    int64_t rows = 0;
    int64_t cols = 0;
    std::string quantizer;         ///< rtn | gptq | hqq
    int64_t groupSize = -1;        ///< -1: one grid per output channel
    double codeBits = 0;           ///< mean code bits of the columns
    double bitsWithOverhead = 0;   ///< scales and zeros counted
    double outputError = -1;       ///< tr(ΔW H ΔWᵀ) on the calibration inputs; -1 for data-free runs
    double frobeniusError = -1;    ///< ‖W − Ŵ‖_F; -1 when not measured
    double gptqLoss = 0;           ///< Σ of GPTQ's column losses (0 for RTN/HQQ)
    double damping = 0;            ///< λ used by GPTQ
    /// GPTQ's fallback when H was not positive definite: "damping raised to …" or "RTN: …"
    /// (docs/quantization.md); empty when none was needed.
    std::string fallback;
    double predictedCost = -1;     ///< the allocator's prediction; -1 when none
    double storageBits = -1;       ///< the allocator's predicted storage in bits; -1 when none
    double seconds = 0;            ///< time spent quantizing it
    int64_t calibrationTokens = -1; ///< tokens behind its Hessian (an expert: those routed to it); -1 unknown
    std::string hessianSource;     ///< "", "routed" or "all-tokens" (an expert's fallback)
    bool hasHessian = false;       ///< the full Hessian is stored (MatrixDetail::hessian)
    bool hasCurves = false;        ///< allocator training curves are stored
};

/// One run of a session: a quantization job with its method and settings.
struct RunInfo {
    std::string name;              ///< unique in the session, e.g. "gptq-1", "mgptq-gcn-2"
    std::string method;            ///< "rtn", "gptq", "hqq", "mgptq-gcn", "mgptq-mlp", "hessian-greedy", "mxq"
    RunStatus status = RunStatus::Interrupted;
    std::string settingsJson;      ///< every setting of the job as a JSON object (enough to resume it)
    ModelReference model;
    std::string created;           ///< ISO 8601, UTC
    std::string updated;           ///< ISO 8601, UTC: the last stored layer or status change
    int64_t layersTotal = 0;       ///< decoder layers of the model
    std::vector<int64_t> layersDone; ///< stored decoder layers, ascending
    /// Stored layers whose data fail their checksums or cannot be read, with the reason (one
    /// line naming the file, layer and dataset). They are not in layersDone; `--resume`
    /// recomputes them; eval and export refuse the run.
    std::vector<std::pair<int64_t, std::string>> damagedLayers;
    int64_t calibrationWindows = 0;  ///< 0 for data-free runs
    int64_t calibrationLength = 0;   ///< tokens per window
    std::string calibrationDescription;
    double avgBits = 0;            ///< code bits per weight over the stored matrices (size-weighted)
    double avgBitsWithOverhead = 0;
    /// The job's report once it stopped (timings, peak memory, device) as a JSON object; "{}" before.
    std::string reportJson = "{}";
    std::vector<std::string> warnings; ///< the job's warnings, in order
    SolverRecord solver;           ///< what chose the plan (MXQ's solve, a GGUF mix); empty for the others
};

/// A sparsified adjacency for viewing, as (row, col, value) triplets: each row keeps its
/// strongest neighbours (self loops left out). Symmetric constructions list both directions only
/// where both rows kept the edge.
struct SparseAdjacency {
    int64_t nodes = 0;             ///< the matrix's input columns
    int64_t topK = 0;              ///< neighbours kept per row
    /// How it was built: "mgptq-dense" / "mgptq-top-k" (MG-PTQ's normalised Â, dense or top-k
    /// as the allocator used it) — the same construction is used for runs without MG-PTQ.
    std::string construction;
    std::vector<int32_t> row;
    std::vector<int32_t> col;
    std::vector<float> value;
};

/// Everything stored about one matrix except its quantized weights (those go through
/// detail::QuantizedRun).
struct MatrixDetail {
    MatrixSummary summary;
    std::vector<uint8_t> columnBits;     ///< per input column, as applied
    std::vector<float> hessianDiagonal;  ///< diag H, [cols]; empty for data-free runs
    std::vector<float> hessian;          ///< H row-major [cols × cols] when stored, else empty
    SparseAdjacency adjacency;           ///< empty (nodes 0) for data-free runs
    TrainingCurves curves;
    std::string diagnosticsJson = "{}";  ///< the allocator's full record (MatrixPlan::diagnostics)
};

/// One perplexity evaluation of a run (or of a base model: run empty).
struct Evaluation {
    int64_t id = 0;                ///< assigned by addEvaluation(), increasing
    std::string run;               ///< run name; empty for the base model
    std::string model;             ///< what was evaluated ("s.h5#gptq-1" or a model path)
    std::string dataset;           ///< "wikitext2", "c4" or a file path
    std::string protocol;          ///< "gptq", "sliding", "documents" (docs/eval-protocols.md)
    int64_t seqlen = 0;
    double perplexity = 0;
    double meanNll = 0;
    int64_t tokens = 0;
    std::string created;           ///< ISO 8601, UTC
    std::string resultJson = "{}"; ///< the whole result (timings, device, dtype, …)
};

/// One point of a sweep: a run and what was measured.
struct SweepPoint {
    double value = 0;              ///< α, target bits, budget or bits
    std::string run;               ///< the point's run in the same session
    double avgBits = 0;
    double avgBitsWithOverhead = 0;
    std::vector<std::pair<std::string, double>> perplexity; ///< (dataset, perplexity)
};

/// A trade-off sweep (`mpq sweep --session`).
struct Sweep {
    std::string name;              ///< unique in the session
    std::string method;
    std::string axis;              ///< "alpha", "target-bits", "budget" or "bits"
    std::string model;
    std::string created;
    std::vector<SweepPoint> points;
};

/// One line of the session's warning log.
struct LogEntry {
    std::string time;              ///< ISO 8601, UTC
    std::string run;               ///< the run it concerns; may be empty
    std::string message;
};

/// The file itself.
struct SessionInfo {
    std::string path;              ///< as opened
    int version = 0;               ///< schema version of the file
    std::string created;
    std::string writer;            ///< "mpq-workbench <version>"
};

/// A read-only snapshot of a session file, including the layers that a running or killed job
/// has journaled but not yet merged (docs/session-format.md, "Crash safety").
///
/// Ownership: a Session owns its open HDF5 handles and closes them in its destructor; copies
/// share them. Threading: every HDF5 call in the engine is serialised by one process-wide mutex,
/// so Sessions may be used from any thread; a snapshot never changes, even when a job replaces
/// the file meanwhile (re-open to see new data). Errors: every function throws mpq::Error with
/// the file name and a message a person can act on (never crashes on damaged files).
class Session {
public:
    /// Opens and validates a session file. Throws mpq::Error for a missing file, a file that is
    /// not HDF5, truncated or damaged, an HDF5 file that is not an MPQ session, or a session
    /// written by a newer schema version.
    static Session open(const std::string& path);

    const SessionInfo& info() const;
    /// All runs, in creation order.
    std::vector<RunInfo> runs() const;
    /// Throws mpq::Error when there is no such run.
    RunInfo run(const std::string& name) const;
    /// The matrices of a run's stored layers, in layer and true-sequential order.
    std::vector<MatrixSummary> matrices(const std::string& run) const;
    /// One matrix's arrays (column bits, diag H, adjacency, curves). Throws mpq::Error.
    MatrixDetail matrix(const std::string& run, const std::string& tensor) const;
    /// Evaluations, oldest first.
    std::vector<Evaluation> evaluations() const;
    std::vector<Sweep> sweeps() const;
    /// Names of the stored MXQ cost tables.
    std::vector<std::string> mxqCostTableNames() const;
    /// Throws mpq::Error when there is no such table.
    MxqCostTable mxqCostTable(const std::string& name) const;
    /// The warning log, oldest first.
    std::vector<LogEntry> log() const;

    struct Impl;

private:
    explicit Session(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> m_impl;
};

/// True when `path` is a regular file that starts with the HDF5 signature (cheap; does not
/// validate the schema).
bool isHdf5File(const std::string& path);

/// Splits "FILE#RUN" into (FILE, RUN); RUN is empty when there is no '#'.
std::pair<std::string, std::string> splitRunSpec(const std::string& spec);

/// Checks a run name: 1–64 characters of [A-Za-z0-9._-], not starting with '.'. Throws mpq::Error.
void checkRunName(const std::string& name);

// ---- Small edits. Each one rewrites the file to a temporary, syncs it and renames it over the
// ---- session (docs/session-format.md), under the session's lock; a crash leaves the old or
// ---- the new file, never a damaged one. They create the session when it does not exist.

/// Stores an evaluation; returns its id.
int64_t addEvaluation(const std::string& path, Evaluation evaluation);
/// Stores (or replaces, by name) a sweep.
void saveSweep(const std::string& path, const Sweep& sweep);
/// Stores (or replaces, by name) an MXQ cost table, e.g. for the GUI's budget slider.
void saveMxqCostTable(const std::string& path, const std::string& name, const MxqCostTable& table);
/// Appends entries to the warning log.
void appendLog(const std::string& path, const std::vector<LogEntry>& entries);

} // namespace mpq::session
