#pragma once

// A quantization result folder (docs/result-folder.md): result.json, layers/layer-NNN.safetensors
// with integer codes, scales, zeros and slots per matrix, and calibration.bin. The format is read
// and written only in engine/runs/ (ResultFolder.cpp: result.json; ResultLayers.cpp: the layer
// files); everything else goes through these functions or detail::QuantizedRun.

#include "runs/RunRecords.h"
#include "runs/SolverRecord.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// True when `path` is a folder holding result.json. Cheap; does not validate.
bool isResultFolder(const std::string& path);

/// result.json: what a finished job records about its run.
struct ResultDescription {
    std::string model;               ///< absolute path of the base model
    std::string method;              ///< "gptq", "mgptq-gcn", "mxq", …
    std::string settingsJson = "{}"; ///< the settings the run was made with, a JSON object
    bool hasCalibration = false;     ///< calibration.bin holds the windows (data-aware runs)
    std::string calibrationSource;
    std::string calibrationDescription;
    std::string planJson;            ///< the allocation plan as applied (JSON); empty when absent
    SolverRecord solver;             ///< what chose the plan (MXQ's solve, a GGUF mix); "extra" in result.json
    double avgBits = 0;
    double avgBitsWithOverhead = 0;
    double seconds = 0;
    std::string sessionRun;          ///< "SESSION#RUN" when the job also wrote a session run
    std::vector<MatrixReport> matrices;
    std::vector<std::string> warnings;
    std::string file;                ///< the result.json it was read from, for messages (not written)
};

/// Reads `dir`/result.json, checking its format and version; fields it lacks keep their
/// defaults (a matrix's bits with overhead, errors and calibration tokens: -1), so that folders
/// of older builds read. Throws mpq::Error naming the file when it is missing, malformed, of another
/// format or of a newer version.
ResultDescription readResultDescription(const std::string& dir);
/// Writes `dir`/result.json (format "mpq-result", version 1). Throws mpq::Error on a write failure.
void writeResultDescription(const std::string& dir, const ResultDescription& description);
/// The base model a result was made from (absolute path), reading only what that needs.
/// Throws mpq::Error.
std::string resultModelPath(const std::string& resultDir);

/// "<out>.partial": where a job writes the result folder `out` before renaming it into place,
/// and where a viewer finds its finished layers while it runs.
std::string partialResultFolder(const std::string& out);
/// The layer file of decoder layer `layer` in result folder `dir`.
std::string resultLayerFile(const std::string& dir, int64_t layer);

/// One matrix of a layer file as a viewer needs it: where it sits and its per-column bits.
struct StoredColumnBits {
    std::string tensor;          ///< Hugging Face name
    int64_t layer = -1;          ///< decoder layer (-1 when the name has none)
    std::string linear;          ///< "q_proj", "experts.7.up_proj", …
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> columnBits;
};
/// The per-column bits of every matrix of a layer file, from its slot tables (the codes are not
/// read). Thread-safe. Throws mpq::Error naming the file when it is damaged.
std::vector<StoredColumnBits> readLayerColumnBits(const std::string& layerFile);

} // namespace mpq
