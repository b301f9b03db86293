#pragma once

#include "GgufCurve.h"
#include "PerplexityTable.h"
#include "RunData.h"
#include "TradeoffSeries.h"

#include <QMap>
#include <QString>
#include <QStringList>

#include <vector>

namespace mpq::gui {

/// Everything one workbench session holds: the model, its runs (runs of the HDF5 session, or
/// result folders opened beside it), the unquantized reference perplexities and the MXQ cost
/// table's location. The views' structs
/// (trade-off series, perplexity table) are derived from it. Plain data owned by the main window;
/// lives on the GUI thread.
struct Workbench {
    QString model;                    ///< base model path
    bool synthetic = false;           ///< the model is the engine's generated synthetic LLaMA
    QString folder;                   ///< the workspace folder (beside the session file)
    QString sessionFile;              ///< the HDF5 session every job writes into (docs/session-format.md)
    QString mxqCosts;                 ///< MXQ cost table (JSON file) of the model; empty when none
    QString mxqCostTable;             ///< name of an MXQ cost table stored in the session; empty when none
    QMap<QString, double> reference;  ///< data set → perplexity of the unquantized model
    std::vector<RunData> runs;
    /// What a reader could not show, one line each (e.g. a result folder that a session's
    /// evaluation names and that is gone); the window logs them.
    QStringList problems;

    RunData* run(const QString& name);
    const RunData* run(const QString& name) const;
    /// Adds or replaces (by name) a run.
    void upsert(const RunData& r);
    /// A run name not used yet, e.g. "gptq-4bit-2" (stays a valid session run name).
    QString uniqueName(const QString& base) const;

    /// One series per method family and knob: GPTQ/RTN/HQQ uniform points (knob = bits), MG-PTQ
    /// with α and MG-PTQ with target bits (two series), MXQ (knob = budget, live re-solve). Points
    /// sorted by knob; perplexity on `dataset` (negative when not measured).
    std::vector<TradeoffSeries> tradeoff(const QString& dataset) const;
    /// The complete GGUF runs (method "gguf-mxq" or "gguf-<PRESET>") with their perplexity on
    /// `dataset` (negative when not measured), for the GGUF trade-off's perplexity panel. They are
    /// not in tradeoff(): their knob is a preset or a budget over llama.cpp's types.
    std::vector<GgufRunPoint> ggufRuns(const QString& dataset) const;
    /// True for the methods of GGUF runs ("gguf-mxq", "gguf-Q4_K_M", …).
    static bool isGguf(const QString& method);
    /// Perplexities of all evaluated runs on `datasets`, grouped by method and bits.
    PerplexityTable perplexityTable(const QStringList& datasets) const;
    /// The data sets with a perplexity (of a complete run or the reference): wikitext2 and c4
    /// first, then the others (e.g. the demo's demo-valid.txt) in name order.
    QStringList evaluatedDatasets() const;
    /// Legend name of a method family: "GPTQ", "MG-PTQ (GCN)", "MXQ", …
    static QString familyName(const QString& method);
    /// The knob axis a run belongs to in the trade-off: "budget" (MXQ), "alpha", "target-bits"
    /// or "bits" (uniform).
    static QString knobAxis(const RunData& r);
    /// How a person names that axis: "α", "target bits", "budget (bits/weight)", "bits".
    static QString knobName(const QString& axis);
    /// The run's knob as short text, e.g. "α 3", "target 2.5", "4 bit", "budget 3.5" (empty
    /// when the run has none).
    static QString knobText(const RunData& r);
};

} // namespace mpq::gui
