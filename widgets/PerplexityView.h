#pragma once

#include "PerplexityTable.h"
#include "PlotView.h"

namespace mpq::gui {

/// Perplexity per method and bit-width: grouped bars per data set (WikiText-2, C4) with the
/// unquantized model's perplexity as a dashed line per data set. GUI thread only.
class PerplexityView : public PlotView {
    Q_OBJECT
public:
    explicit PerplexityView(QWidget* parent = nullptr);
    void setTable(const PerplexityTable& table);
};

} // namespace mpq::gui
