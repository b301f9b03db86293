#pragma once

#include "RunData.h"

#include "runs/SolverRecord.h"

#include <QString>

#include <vector>

namespace mpq::gui {

/// Reads what the engine writes to disk into the views' plain structs, through engine/runs/ (the
/// result-folder format) and engine/alloc/mgptq/TrainingCurves.h: it reads no file itself and only
/// interprets the GGUF mix in a result's `extra`. Every function throws mpq::Error with a message
/// naming the file when the input is missing or malformed; none opens a dialog. Thread-safe (no
/// shared state): adapters call them on their worker thread.
struct ResultReader {
    /// A finished result folder (docs/result-folder.md): result.json with the applied plan
    /// (per-column bits), per-matrix errors and MG-PTQ training curves from the diagnostics.
    static RunData readResultFolder(const QString& dir);
    /// The matrices of one layer file (layers/layer-NNN.safetensors) as the job writes it, with
    /// per-column bits from slot_of_column and slot_bits; errors are not known yet.
    static std::vector<MatrixResult> readLayerFile(const QString& file);
    /// The training curves of an allocator's diagnostics JSON (MG-PTQ: `curves`, parsed by the
    /// engine's parseTrainingCurves) with α from its top-level `alpha`; empty curves when absent.
    static TrainingCurves parseCurves(const std::string& diagnosticsJson);
    /// A run's knob (sweepAxis, sweepValue) from the settings it was made with: α or target bits
    /// (MG-PTQ, Hessian-greedy), the budget in bits per parameter (MXQ, from `solver` when given),
    /// else the uniform bits. Leaves the run as it is when the settings name none.
    static void knobFromSettings(RunData& r, const std::string& settingsJson, const SolverRecord* solver);
};

} // namespace mpq::gui
