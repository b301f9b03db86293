#pragma once

#include <cstdint>
#include <string>

namespace mpq {

/// A small LLaMA with random weights, written as a Hugging Face folder, for the workbench's demo
/// on a machine without the shared data: config.json, model.safetensors (F32), calibration.bin
/// (random token windows, so no tokenizer or text is needed to quantize it) and SYNTHETIC.txt
/// saying what it is. Weights are N(0, 0.02²) with a per-input-column log-normal scale, so that
/// columns differ in importance as in trained models and bit allocation has something to find.
/// It has no tokenizer: it cannot be evaluated on text.
struct SyntheticDemoSpec {
    int64_t layers = 4;
    int64_t hidden = 128;
    int64_t intermediate = 344;
    int64_t heads = 4;
    int64_t vocab = 512;
    int64_t maxPositions = 256;
    int64_t calibWindows = 16;     ///< calibration.bin: windows …
    int64_t calibLength = 128;     ///< … of this many tokens
    uint64_t seed = 0;
};

/// Writes the synthetic model into `dir` (created; files replaced atomically). Deterministic for a
/// given spec. Throws mpq::Error naming the file on a write failure. Runs on the calling thread.
void writeSyntheticModel(const SyntheticDemoSpec& spec, const std::string& dir);
/// True when `dir` holds a model written by writeSyntheticModel (its SYNTHETIC.txt marker).
bool isSyntheticModel(const std::string& dir);
/// The calibration windows file of a synthetic model folder.
std::string syntheticCalibrationFile(const std::string& dir);

} // namespace mpq
