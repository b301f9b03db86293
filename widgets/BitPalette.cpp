#include "BitPalette.h"

#include <algorithm>
#include <array>

namespace mpq::gui {

QColor BitPalette::color(int bits)
{
    if (bits <= 0)
        return QColor(0xdd, 0xdd, 0xdd);
    // Okabe–Ito-derived ramp: 1 and 2 bits warm, 3 yellow-green, 4 blue, 8 dark.
    static const std::array<QColor, 8> ramp = {
        QColor(0x8b, 0x00, 0x00), // 1
        QColor(0xd5, 0x5e, 0x00), // 2  vermillion
        QColor(0xe6, 0x9f, 0x00), // 3  orange
        QColor(0x00, 0x9e, 0x73), // 4  bluish green
        QColor(0x56, 0xb4, 0xe9), // 5  sky blue
        QColor(0x00, 0x72, 0xb2), // 6  blue
        QColor(0x55, 0x3d, 0x9a), // 7  violet
        QColor(0x2b, 0x1d, 0x4f), // 8  dark violet
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
