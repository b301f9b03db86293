#include "export/detail/BitPack.h"

namespace mpq::detail {

void packBits(const uint8_t* values, int64_t n, int64_t valueStride, int bits, uint32_t* words,
              int64_t wordStride)
{
    const uint64_t mask = (uint64_t(1) << bits) - 1;
    uint64_t acc = 0; // pending bits, least significant first
    int held = 0;
    int64_t w = 0;
    for (int64_t i = 0; i < n; ++i) {
        acc |= (uint64_t(values[i * valueStride]) & mask) << held;
        held += bits;
        if (held >= 32) {
            words[w++ * wordStride] = uint32_t(acc);
            acc >>= 32;
            held -= 32;
        }
    }
    if (held > 0)
        words[w * wordStride] = uint32_t(acc);
}

void unpackBits(const uint32_t* words, int64_t wordStride, int64_t n, int bits, uint8_t* values,
                int64_t valueStride)
{
    const uint64_t mask = (uint64_t(1) << bits) - 1;
    uint64_t acc = 0;
    int held = 0;
    int64_t w = 0;
    const int64_t nWords = packedWords(n, bits);
    for (int64_t i = 0; i < n; ++i) {
        if (held < bits) {
            if (w < nWords)
                acc |= uint64_t(words[w++ * wordStride]) << held;
            held += 32;
        }
        values[i * valueStride] = uint8_t(acc & mask);
        acc >>= bits;
        held -= bits;
    }
}

} // namespace mpq::detail
