#pragma once

#include <QColor>
#include <QString>

namespace mpq::gui {

/// One colour per method family, the same in every plot (trade-off, perplexity).
struct SeriesColors {
    static QColor color(const QString& family);
};

} // namespace mpq::gui
