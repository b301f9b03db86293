#pragma once

#include <QString>

namespace mpq::gui {

/// Human-readable durations for progress and ETA labels: "45 s", "3 min 07 s", "1 h 02 min";
/// negative or non-finite → "unknown".
struct DurationText {
    static QString format(double seconds);
};

} // namespace mpq::gui
