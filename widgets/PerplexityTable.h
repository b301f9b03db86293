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
        double avgBits = 0;        ///< average bits per weight, overhead included
        std::vector<double> value; ///< per data set (index-aligned with datasets); ≤ 0 = missing
    };
    QStringList datasets;          ///< e.g. {"wikitext2", "c4"}
    std::vector<double> reference; ///< unquantized model per data set; ≤ 0 = not measured
    QString referenceLabel = QStringLiteral("FP16");
    std::vector<Entry> entries;

    bool empty() const { return entries.empty(); }
};

} // namespace mpq::gui
