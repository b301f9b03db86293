#pragma once

#include <QString>
#include <QStringList>

#include <vector>

namespace mpq::gui {

/// Perplexities of every evaluated run, grouped for the perplexity view: one entry per (method,
/// bits) with a value per data set, plus the unquantized reference. Plain data.
struct PerplexityTable {
    struct Entry {
        QString method;            ///< e.g. "GPTQ", "MG-PTQ (GCN)"
        QString knob;              ///< the run's knob, e.g. "target 2.5", "α 3", "4 bit"
        QString run;               ///< the run's name (tells runs with equal knobs apart)
        double avgBits = 0;        ///< average bits per weight, overhead included
        std::vector<double> value; ///< per data set (index-aligned with datasets); ≤ 0 = missing
    };
    QStringList datasets;          ///< e.g. {"wikitext2", "c4"}
    std::vector<double> reference; ///< unquantized model per data set; ≤ 0 = not measured
    QString referenceLabel = QStringLiteral("FP16");
    std::vector<Entry> entries;

    bool empty() const { return entries.empty(); }
    /// The x-axis label of entry `i`: method, knob and bits; the run's name is added where two
    /// entries would otherwise read the same.
    QString label(size_t i) const;
};

} // namespace mpq::gui
