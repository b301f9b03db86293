#pragma once

// Overriding a stored run's allocation (issue 19, "Override"; docs/override.md): set the width
// of columns, a matrix or a decoder layer, or pin an MXQ configuration, and quantize the result
// as a new run of the session that records what was overridden. Plain C++: the GUI includes it.

#include "alloc/AllocationPlan.h"
#include "core/JobContext.h"
#include "pipeline/QuantizeJob.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// One override: what it applies to (a matrix, optionally a column range, or a whole decoder
/// layer) and what it sets (a width, or an MXQ configuration).
struct OverrideEntry {
    std::string tensor;          ///< a matrix's Hugging Face name; empty when `layer` is given
    int64_t layer = -1;          ///< every matrix of this decoder layer (when tensor is empty)
    int64_t firstColumn = -1;    ///< inclusive column range of `tensor`; -1: every column
    int64_t lastColumn = -1;
    int bits = 0;                ///< the width to set, 1..8; 0 when `mxq` is given
    std::string mxq;             ///< an MXQ configuration to pin ("b4g64"); empty when `bits` is given
    /// "tensor model.layers.3.mlp.down_proj.weight columns 0–127" or "layer 7".
    std::string describe() const;
};

/// The contents of an override file (docs/override.md).
struct OverrideSpec {
    std::string base;            ///< the run of the session to start from
    std::vector<OverrideEntry> entries;

    /// Throws mpq::Error with one line naming `source` and, for a bad entry, its index (from 1)
    /// and what it applies to.
    static OverrideSpec fromJson(const std::string& text, const std::string& source);
    /// Reads and parses a file; errors name the file.
    static OverrideSpec load(const std::string& path);
    std::string toJson() const;
};

/// Applies `spec`'s entries in order to `plan` (a later entry wins where two overlap). Returns
/// the first decoder layer whose plan changed (-1 when none did). Throws mpq::Error naming
/// `source` and the entry: an unknown matrix or layer, columns out of range, a column range on a
/// matrix quantized whole (HQQ), an MXQ pin on a run that is not MXQ, an unknown configuration.
int64_t applyOverrides(AllocationPlan& plan, const OverrideSpec& spec, const std::string& source);

/// An override job.
struct OverrideParams {
    std::string session;         ///< the session holding the base run; the new run goes there too
    OverrideSpec spec;
    std::string source;          ///< where the spec came from, for messages (the file name)
    std::string runName;         ///< the new run's name; empty: "<base>-override-<n>"
    std::string out;             ///< also write a result folder (optional)
};

/// Quantizes the overridden allocation as a new run of the session (docs/override.md): the base
/// run's settings, calibration windows and per-column widths with the overrides applied; its
/// decoder layers before the first overridden one are copied (they do not depend on it), and
/// the job continues from there as a resumed run does (later layers see the changed outputs).
/// An MXQ base with a stored cost table re-solves its program with the pinned matrices fixed.
/// The new run's settings record {"override": {base, from_layer, entries, …}}. Progress,
/// cancellation and errors as quantizeModel; the base run must be complete.
QuantizeReport quantizeOverride(const OverrideParams& params, JobContext& ctx);

} // namespace mpq
