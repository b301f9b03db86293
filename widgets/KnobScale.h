#pragma once

#include <vector>

namespace mpq::gui {

/// Maps a slider's integer positions 0..steps to a method's knob (α, budget, bits) and back.
/// Logarithmic for α (it spans decades: 0.01 … 100), linear for budgets and bit-widths. Pure
/// arithmetic, tested without a window.
struct KnobScale {
    double lo = 0;
    double hi = 1;
    bool logarithmic = false;
    int steps = 1000;

    /// A scale over the knob values of a series with a little margin; logarithmic when asked and
    /// every value is positive.
    static KnobScale covering(const std::vector<double>& knobs, bool preferLog, int steps = 1000);
    double value(int position) const;
    int position(double value) const;
};

} // namespace mpq::gui
