#pragma once

// One serializer per part of the session schema (docs/session-format.md). Each writes its part
// into an HDF5 group and reads it back, giving defaults for whatever an older file lacks.
// Torch-free; the quantized layers' serializer is in LayerSerializer.h.

#include "session/Session.h"
#include "runs/SolverRecord.h"
#include "session/detail/H5.h"

#include <string>
#include <vector>

namespace mpq::session::detail {

/// Everything stored about a run except its layers: /runs/<name> (and a journal's header.h5).
struct RunHeader {
    std::string name;
    std::string method;
    std::string status = "running";   ///< as stored: running, cancelled, failed, complete
    std::string created;
    std::string updated;
    std::string journalId;            ///< the journal that wrote it (random, per start/resume)
    std::string mergedJournal;        ///< the last journal merged into the file
    int64_t layersTotal = 0;
    ModelReference model;
    std::string settingsJson = "{}";  ///< QuantizeParams as JSON (pipeline/QuantizeParamsJson.h)
    std::string inputPlanJson;        ///< the plan given to the job (MXQ's solve, --plan); empty: none
    SolverRecord solver;              ///< what chose the plan ("extra"); empty: none
    std::string reportJson = "{}";
    std::vector<std::string> warnings;
    std::vector<int32_t> tokens;      ///< calibration windows, row-major [windows, length]
    int64_t windows = 0;
    int64_t length = 0;
    std::string calibrationSource;
    std::string calibrationDescription;
};
void writeRunHeader(const h5::Id& group, const RunHeader& header);
RunHeader readRunHeader(const h5::Id& group);

/// Per-matrix figures and arrays of one matrix group (…/layers/NNN/<linear>).
MatrixSummary readMatrixSummary(const h5::Id& matrixGroup);
MatrixDetail readMatrixDetail(const h5::Id& matrixGroup);
void writeCurves(const h5::Id& matrixGroup, const TrainingCurves& curves);

/// /evaluations/<id>
void writeEvaluation(const h5::Id& group, const Evaluation& e);
Evaluation readEvaluation(const h5::Id& group);

/// /sweeps/<name>
void writeSweep(const h5::Id& group, const Sweep& s);
Sweep readSweep(const h5::Id& group);

/// /mxq_costs/<name>
void writeMxqCosts(const h5::Id& group, const MxqCostTable& t);
MxqCostTable readMxqCosts(const h5::Id& group);

/// /log
void writeLog(const h5::Id& root, const std::vector<LogEntry>& entries);
std::vector<LogEntry> readLog(const h5::Id& root);

} // namespace mpq::session::detail
