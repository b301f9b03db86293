#pragma once

#include "ColumnGrid.h"
#include "RunData.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace mpq::gui {

/// One run offered for comparison, with where it comes from (the open session, another session
/// file, a result folder). Plain data.
struct CompareEntry {
    QString id;      ///< unique in the pool: "<source>#<run name>"
    QString label;   ///< how tables and legends name it: the run's name, prefixed by the file for other sources
    QString source;  ///< the session file or result folder it was read from
    RunData run;
};

/// One matrix across the compared runs (a row of the per-matrix table).
struct MatrixComparison {
    QString tensor;
    int layer = 0;
    QString linear;
    int64_t cols = 0;
    std::vector<double> avgBits;      ///< per run; NaN where the run lacks the matrix
    std::vector<double> error;        ///< per run: tr(ΔW H ΔWᵀ), else ‖W − Ŵ‖_F; NaN when unknown
    double spread = 0;                ///< max − min of avgBits over the runs that have it
    int64_t changedColumns = 0;       ///< columns whose width is not the same in every run that has the matrix
    bool inAll = true;                ///< every run has it
};

/// The comparison maths, without a window: per-matrix rows, the column-wise difference of two
/// runs, and the short texts of the runs table. Pure functions.
struct RunComparison {
    /// Rows for every matrix of any run, in the order of the first run that has it (layer order).
    static std::vector<MatrixComparison> matrices(const std::vector<const RunData*>& runs);
    /// Per column bits(b) − bits(a) for the matrices both runs have with the same column count, in
    /// a's order; `tensors` and `labels` (e.g. "L3 down_proj  +0.25") get one entry per row.
    static ColumnGrid difference(const RunData& a, const RunData& b, QStringList* tensors, QStringList* labels);
    /// Settings in a few words: knob, quantizer, group size ("target 2.5 · gptq · per-channel").
    static QString settingsText(const RunData& r);
};

} // namespace mpq::gui
