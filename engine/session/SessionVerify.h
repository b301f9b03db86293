#pragma once

// Reads everything a session file stores and checks every checksum (docs/session-format.md,
// "Integrity"): `mpq session verify FILE`. Plain C++ types only (the GUI may include it).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mpq::session {

/// One object that could not be read back as written.
struct VerifyProblem {
    std::string object;  ///< "run gptq-1, decoder layer 3", "evaluation 2", "file", …
    std::string message; ///< the reader's one-line error
};

struct VerifyReport {
    std::string path;
    int64_t objectsRead = 0;   ///< runs, matrices, layers, evaluations, sweeps, cost tables, log
    int64_t layersRead = 0;    ///< stored decoder layers read and dequantized
    std::vector<VerifyProblem> problems;
    /// SHA-256 over everything read, in a fixed order (the dequantized weights, the per-matrix
    /// arrays, texts and figures): equal digests mean the same content, whatever the file's
    /// layout. Empty when the file could not be opened at all.
    std::string contentDigest;
    bool intact() const { return problems.empty(); }
};

/// Reads every run (its matrices' arrays and every stored layer, dequantized), evaluation,
/// sweep, MXQ cost table and the warning log of a session; each object that fails is recorded
/// and the rest are still read. `progress(done, total, what)` is called per object and may return
/// false to stop early (the report then ends with a "stopped" problem). Never throws mpq::Error
/// for a damaged file: that is what the report is for.
VerifyReport verifySession(const std::string& path,
                           const std::function<bool(int64_t, int64_t, const std::string&)>& progress = {});

} // namespace mpq::session
