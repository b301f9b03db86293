#pragma once

#include <QColor>
#include <QString>

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// The one colour per bit-width used by every view (bit map, graph nodes, legends): a discrete ramp
/// whose lightness increases with the bit-width (dark = few bits, coarse; light = many bits,
/// fine), distinct in greyscale and under deuteranopia. Pure mapping, tested without a window.
struct BitPalette {
    /// Colour of a bit-width; widths outside 1..8 are clamped, 0 (not yet quantized) is light grey.
    static QColor color(int bits);
    /// The distinct widths present in `bits`, ascending (for a legend).
    static std::vector<int> present(const std::vector<uint8_t>& bits);
};

} // namespace mpq::gui
