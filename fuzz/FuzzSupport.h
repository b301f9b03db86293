#pragma once

// Shared by the fuzz targets (fuzz/fuzz_*.cpp) and the seed writer: scratch files, and a small
// fixture (a tiny synthetic LLaMA, an RTN result folder, an mpq-packed export and a session made
// from it) that targets needing a consistent surrounding reuse. docs/hardening.md.

#include <cstddef>
#include <cstdint>
#include <string>

namespace mpq::fuzz {

/// A folder private to this process (under $TMPDIR, else /tmp), removed at exit.
const std::string& scratchDir();
/// Writes `size` bytes to scratchDir()/name (replacing it) and returns the path.
std::string writeScratch(const std::string& name, const uint8_t* data, size_t size);
/// Same, into an arbitrary path.
void writeBytes(const std::string& path, const uint8_t* data, size_t size);

/// The fixture, built once per machine under a fixed path (/tmp/mpq-fuzz-fixture-v1, so that the
/// absolute paths inside committed seeds resolve) under a lock; deterministic.
struct Fixture {
    std::string root;
    std::string model;    ///< Hugging Face folder: config.json + model.safetensors (1 layer)
    std::string result;   ///< RTN 4-bit result folder of `model`
    std::string packed;   ///< mpq-packed export of `result`
    std::string session;  ///< a session with one complete RTN run ("rtn-1") of `model`
};
const Fixture& fixture();

} // namespace mpq::fuzz
