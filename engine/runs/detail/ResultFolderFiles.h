#pragma once

#include "data/Calibration.h"
#include "runs/ResultFolder.h"
#include "runs/detail/LayerRecord.h"
#include "runs/detail/QuantizedRun.h"

#include <memory>
#include <string>

namespace mpq::detail {

/// Writes one decoder layer's quantized matrices (by Hugging Face tensor name) as a layer file.
void writeLayerFile(const std::string& file, int64_t layer, const QuantizedLayer& matrices);
/// Reads a layer file back (codes, scales, zeros, slots; dequant recomputed), on the CPU.
/// Throws mpq::Error naming the file when an entry is missing or inconsistent.
QuantizedLayer readLayerFile(const std::string& file);

/// Writes a result folder (docs/result-folder.md) as a job produces it: everything goes into
/// partialResultFolder(out) and commit() renames it to `out`, so that a cancelled or failed job
/// leaves no half-written result under the requested name (the destructor removes an uncommitted
/// partial folder). Not thread-safe. Every function throws mpq::Error on a file error.
class ResultFolderWriter {
public:
    /// Clears and creates the partial folder of `out` (an absolute path).
    explicit ResultFolderWriter(std::string out);
    ~ResultFolderWriter();
    ResultFolderWriter(const ResultFolderWriter&) = delete;
    ResultFolderWriter& operator=(const ResultFolderWriter&) = delete;

    /// calibration.bin: the windows the run was calibrated on.
    void writeCalibration(const CalibrationSet& calibration);
    /// layers/layer-NNN.safetensors of a finished decoder layer.
    void addLayer(const LayerRecord& record);
    /// result.json.
    void writeDescription(const ResultDescription& description);
    /// Replaces `out` by the partial folder; returns `out`.
    std::string commit();

private:
    std::string m_out;
    std::string m_partial;
    bool m_committed = false;
};

/// A result folder read as a QuantizedRun. Throws mpq::Error when its result.json is missing,
/// malformed or of a newer version, or when it stores no layer.
std::unique_ptr<QuantizedRun> openResultFolderRun(const std::string& dir);

} // namespace mpq::detail
