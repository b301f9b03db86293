#pragma once

#include "alloc/GgufTradeoff.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace mpq::gui {

/// The GGUF trade-off of one cost table as the view draws it: the MIP mixes over a range of
/// budgets and llama.cpp's presets, each at (bits per weight, Σ cost). Plain data.
struct GgufCurve {
    quint64 generation = 0;
    QString source;             ///< the cost table's file
    mpq::GgufTradeoff tradeoff;
    double seconds = 0;         ///< time of all the solves
};

/// An evaluated GGUF run of the session or a result folder: a point of the perplexity panel.
struct GgufRunPoint {
    QString run;                ///< RunData::name
    QString label;              ///< the preset ("Q4_K_M") or "MIP 4.5"
    bool preset = false;
    double bitsPerWeight = 0;   ///< over the linears, as the cost table counts them
    double perplexity = -1;
    /// The unquantized (16-bit) model's perplexity, the level every GGUF run is measured against:
    /// drawn as a dashed line across the panel, not as a point at 16 bits.
    bool unquantized = false;
};

} // namespace mpq::gui

Q_DECLARE_METATYPE(mpq::gui::GgufCurve)
