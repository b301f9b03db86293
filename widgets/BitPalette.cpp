#include "BitPalette.h"

#include <algorithm>
#include <array>

namespace mpq::gui {

QColor BitPalette::color(int bits)
{
    if (bits <= 0)
        return QColor(0xdd, 0xdd, 0xdd);
    // Lightness increases with the bit-width (CIELAB L* = 20, 33, 46, 61, 69, 77, 85, 93): few
    // bits are dark, many bits light, so the order survives greyscale printing and colour-vision
    // deficiency. The hue walks purple → blue → green → yellow, except 3 bits, which is vermilion:
    // 2, 3 and 4 bits are the widths mixed most, and blue / vermilion / teal stay ≥ 44 ΔE*ab apart
    // for normal vision and under protanopia, deuteranopia and tritanopia (Machado et al. 2009),
    // where the old cerulean 3 was 19 from the blue 2 under tritanopia. Checked in tst_mapping.
    static const std::array<QColor, 8> ramp = {
        QColor(0x54, 0x00, 0x6d), // 1  dark purple
        QColor(0x26, 0x44, 0xac), // 2  royal blue
        QColor(0xd0, 0x30, 0x00), // 3  vermilion
        QColor(0x09, 0xa6, 0x8b), // 4  teal green
        QColor(0x30, 0xc0, 0x6b), // 5  green
        QColor(0x8b, 0xd0, 0x5d), // 6  light green
        QColor(0xc4, 0xe0, 0x5f), // 7  lime
        QColor(0xff, 0xeb, 0xa1), // 8  pale yellow
    };
    return ramp[size_t(std::clamp(bits, 1, 8) - 1)];
}

std::vector<int> BitPalette::present(const std::vector<uint8_t>& bits)
{
    bool seen[256] = {};
    for (uint8_t b : bits)
        seen[b] = true;
    std::vector<int> out;
    for (int b = 0; b < 256; ++b)
        if (seen[b])
            out.push_back(b);
    return out;
}

} // namespace mpq::gui
