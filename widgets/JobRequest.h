#pragma once

#include "alloc/mxq/MxqProblem.h"
#include "eval/Perplexity.h"
#include "pipeline/QuantizeJob.h"

#include <QMetaType>
#include <QString>
#include <QStringList>

#include <vector>

namespace mpq::gui {

/// One job for the JobRunner, built by the run dialog (or the demo): quantize the model at one or
/// more points of a method's knob and evaluate each, or evaluate the unquantized reference; or one
/// of the run menu's jobs on a stored run: evaluate, export, resume, rename, delete.
/// Plain data, copied to the worker thread.
struct JobRequest {
    enum class Kind { Quantize, Reference, Evaluate, Export, Resume, Rename, Delete, Override };
    Kind kind = Kind::Quantize;
    /// rtn | gptq | hqq (uniform; knob = bits), mgptq (knob = α or target bits), mxq (knob = budget).
    QString method = QStringLiteral("gptq");
    /// What `values` are: "bits", "alpha", "target-bits" or "budget".
    QString axis = QStringLiteral("bits");
    std::vector<double> values{4};
    /// Everything else of the quantization (model, calibration, group size, MG-PTQ options, …);
    /// method, bits, allocator, plan and out are set per point by the runner.
    QuantizeParams params;
    /// HDF5 session every point is written into, layer by layer, as run `runNames[i]`, with its
    /// evaluations, the sweep (several points) and MXQ's cost table (docs/session-format.md).
    /// Empty: each point is a result folder under outFolder instead.
    QString session;
    QString sweepName;              ///< session: name of the sweep of a multi-point job (empty: none)
    QString outFolder;              ///< without a session: each point goes to outFolder/<run folder>
    QStringList runNames;           ///< one per value (the runner makes them when empty)
    QStringList evalDatasets;       ///< evaluated after each point (and for Reference)
    EvalParams eval;                ///< seqlen, windows, dtype, …; model and dataset set per run
    QString mxqCosts;               ///< cost table file: loaded when it exists, else computed and saved
    QString mxqCostTable;           ///< session: a stored cost table to use (empty: mxqCosts, else computed)
    std::vector<MxqConfig> mxqConfigs = defaultMxqConfigs();
    /// MXQ's cost kind ("auto": chooseMxqCost; the data-aware kinds calibrate on
    /// kMxqCalibrationWindows x kMxqCalibrationSeqlen windows of params.calib).
    QString mxqCost = QStringLiteral("auto");

    // The run menu's jobs (Evaluate, Export, Resume, Rename, Delete) act on one stored run:
    QString run;                    ///< its name in `session`, or (session empty) a result folder
    QString shownAs;                ///< the run's name in the workbench (a result folder's run name)
    QString newName;                ///< Rename: the new name
    QString exportFormat;           ///< Export: "hf", "gptq", "mpq-packed", … (parseExportFormat)
    QString exportDir;              ///< Export: the folder to create
    /// Override: the override file's JSON (pipeline/Override.h; docs/override.md); the new run is
    /// named `newName` (the engine picks "<run>-override-<n>" when empty).
    QString overrideJson;

    /// "mgptq-alpha0.1", "gptq-4bit", "mxq-3.5bits" — the default name of the point `i` (a valid
    /// session run name).
    QString pointName(size_t i) const;
    /// What the run menu's job reads: "SESSION#RUN", or the result folder.
    QString runSpec() const { return session.isEmpty() ? run : session + QLatin1Char('#') + run; }
    /// One line for the log and the status bar, e.g. "export gptq-4bit as gptq to /tmp/x".
    QString describe() const;
};

/// Progress of the running job, as the status bar shows it.
struct JobProgress {
    QString stage;
    QString detail;
    qint64 done = 0;
    qint64 total = 0;
    QString unit;
    double elapsedSeconds = 0;
    double etaSeconds = -1;
    int point = 0;   ///< which point of the request (0-based)
    int points = 1;
};

} // namespace mpq::gui

Q_DECLARE_METATYPE(mpq::gui::JobRequest)
Q_DECLARE_METATYPE(mpq::gui::JobProgress)
