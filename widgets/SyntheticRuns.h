#pragma once

#include "Workbench.h"

#include <QString>

namespace mpq::gui {

/// Synthetic runs shaped like quantizations of LLaMA-7B (32 decoder layers × q, k, v, o, gate,
/// up, down = 224 matrices; 4096 input columns, 11008 for down_proj), for the scale tests, the
/// redraw benchmark and screenshots. Only the records the views read are made (per-column bits,
/// per-matrix bits and errors, perplexities, times): no weights, no model. The bits follow a
/// plausible pattern (a per-column importance field with outlier columns; more bits in the first
/// and last layers and in down_proj); errors, perplexities and times are invented placeholders,
/// and every run is named "synthetic-…" so that no one mistakes them for measurements.
/// Deterministic for a given seed.
struct SyntheticRuns {
    /// Five runs: GPTQ 4 and 3 bits (uniform), MG-PTQ target 3 and 2.5 bits ({2,3,4} per
    /// column), MXQ budget 3.5 (one width per matrix), with FP16 reference perplexities.
    static Workbench llama7b(unsigned seed = 7);
    /// One MG-PTQ-like run at `targetBits` (2..4) with per-column widths {2,3,4}.
    static RunData mixedRun(const QString& name, double targetBits, unsigned seed);
    /// Writes `wb` as result folders (result.json with the plan and the run's knob,
    /// docs/result-folder.md) plus the HDF5 session synthetic-7b.h5 holding the perplexities as
    /// evaluations of those folders and of the model, in `dir`; returns the session's path (which
    /// the workbench opens with the folders as runs). A session left there by an earlier call is
    /// replaced. Throws mpq::Error when a file cannot be written.
    static QString writeWorkspace(const Workbench& wb, const QString& dir);
};

} // namespace mpq::gui
