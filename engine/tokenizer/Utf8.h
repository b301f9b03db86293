#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

/// UTF-8 helpers with exactly sentencepiece's rules (util.h / util.cc), which the tokenizer must
/// reproduce byte for byte.
namespace mpq::utf8 {

/// U+FFFD REPLACEMENT CHARACTER.
constexpr std::string_view kReplacementChar = "\xef\xbf\xbd";

/// Length of the character that starts with `lead`, judged from that byte alone
/// (OneCharLen): a stray continuation byte counts as one.
inline size_t oneCharLength(char lead)
{
    static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLengths[static_cast<uint8_t>(lead) >> 4];
}

inline bool isTrailByte(uint8_t c) { return (c & 0xC0) == 0x80; }

inline bool isValidCodepoint(uint32_t c) { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); }

/// Byte length of the well-formed character at the start of `s`, or 0 when it is malformed
/// (IsValidDecodeUTF8: no overlong forms, no surrogates, nothing past U+10FFFF).
inline size_t validCharLength(std::string_view s)
{
    const auto* b = reinterpret_cast<const uint8_t*>(s.data());
    const size_t n = s.size();
    if (n == 0)
        return 0;
    if (b[0] < 0x80)
        return 1;
    if (n >= 2 && (b[0] & 0xE0) == 0xC0) {
        const uint32_t cp = ((b[0] & 0x1Fu) << 6) | (b[1] & 0x3Fu);
        return isTrailByte(b[1]) && cp >= 0x80 && isValidCodepoint(cp) ? 2 : 0;
    }
    if (n >= 3 && (b[0] & 0xF0) == 0xE0) {
        const uint32_t cp = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
        return isTrailByte(b[1]) && isTrailByte(b[2]) && cp >= 0x800 && isValidCodepoint(cp)
                   ? 3
                   : 0;
    }
    if (n >= 4 && (b[0] & 0xF8) == 0xF0) {
        const uint32_t cp = ((b[0] & 0x07u) << 18) | ((b[1] & 0x3Fu) << 12) |
                            ((b[2] & 0x3Fu) << 6) | (b[3] & 0x3Fu);
        return isTrailByte(b[1]) && isTrailByte(b[2]) && isTrailByte(b[3]) && cp >= 0x10000 &&
                       isValidCodepoint(cp)
                   ? 4
                   : 0;
    }
    return 0;
}

} // namespace mpq::utf8
