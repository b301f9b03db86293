#pragma once

#include "core/JobContext.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

class Tokenizer;

/// The calibration source that names text sampled from the model itself (`--calib self`;
/// eval/ModelSampler.h): it needs the model, so sampleCalibration does not take it.
inline constexpr const char* kSelfCalibration = "self";

struct CalibrationParams {
    std::string source = "c4";  ///< "c4" (train excerpt), "wikitext2", kSelfCalibration, or a text / JSON-lines file
    int64_t nsamples = 128;
    int64_t seqlen = 2048;
    uint64_t seed = 0;
    std::string dataDir;        ///< empty: data::dataDirectory()
    std::string tokensFile;     ///< reuse windows saved by a previous run (overrides the above)
};

struct CalibrationSet {
    std::vector<std::vector<int32_t>> windows; ///< nsamples × seqlen token ids
    std::string sourcePath;
    std::string description;
};

/// The parts of a mixed source "A+B" (e.g. "c4+self": windows alternating between C4 and text
/// sampled from the model; eval/ModelSampler.h's modelCalibration draws them); {source} otherwise,
/// and where a file of that very name exists.
/// Throws mpq::Error on an empty part.
std::vector<std::string> calibrationSourceParts(const std::string& source);

/// GPTQ's calibration protocol. JSON lines (C4): draw a random document until one is longer
/// than seqlen tokens (tok.encodeForModel: BOS + encoding where the model has one), then a
/// random window of it. Plain text (WikiText-2): tokenize the whole text once the same way and
/// draw random windows. Random numbers are Python's
/// `random` with the same seed, so the windows are the reference scripts' windows.
/// Throws mpq::Error when the source cannot give a window (no document long enough).
CalibrationSet sampleCalibration(const CalibrationParams& params, const Tokenizer& tok, JobContext& ctx);

/// Saves / loads windows as a small binary file: "MPQCAL01", int64 n, int64 seqlen, int32 ids.
void saveCalibrationTokens(const CalibrationSet& set, const std::string& path);
CalibrationSet loadCalibrationTokens(const std::string& path, int32_t vocabSize);

} // namespace mpq
