#pragma once

#include "JobRequest.h"

#include <QString>
#include <vector>

namespace mpq::gui {

/// The demo: which model (the embedded demo model, mpq::findDemoModel; else stories260K, else
/// mpq-llama-42m from the data directory, else the engine's synthetic LLaMA, clearly labelled) and the fast jobs that make the maps fill in within
/// a minute on a laptop CPU: the unquantized reference, GPTQ at 4 and 3 bits, MG-PTQ at target
/// 2.5 and 3 bits (short allocator training), each evaluated on a few windows.
struct DemoPlan {
    QString model;
    QString label;                 ///< "stories260K (real model)", "synthetic LLaMA (random weights)"
    bool synthetic = false;
    QString demoValid;             ///< the embedded model's evaluation text (empty: another model)
    QString demoCalib;             ///< the embedded model's calibration text
    std::vector<JobRequest> jobs;  ///< outFolder left empty: the main window sets its workspace

    /// Chooses the embedded model, else one from `dataDir` (may be empty); writes the synthetic model into
    /// `syntheticDir` when no real one is there. Throws mpq::Error when that write fails.
    static DemoPlan make(const QString& dataDir, const QString& syntheticDir);
};

} // namespace mpq::gui
