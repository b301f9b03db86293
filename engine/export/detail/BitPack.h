#pragma once

#include <cstdint>

namespace mpq::detail {

/// Dense little-endian bit streams of 32-bit words: value i of a sequence occupies bits
/// [b·i, b·i + b) of the stream, bit k of the stream being bit (k mod 32) of word k / 32.
/// For b = 2, 4, 8 this is GPTQ's "32/b values per int32" packing; for b = 3 it is exactly
/// AutoGPTQ's cross-word layout (value 10 spans words 0–1, value 21 words 1–2), and the same
/// rule serves every other width. Used by the GPTQ and mpq-packed exports.

/// Words needed for n values of `bits` bits.
inline int64_t packedWords(int64_t n, int bits) { return (n * bits + 31) / 32; }

/// Packs n values (each < 2^bits, read at values[i·valueStride]) into packedWords(n, bits)
/// words written at words[w·wordStride]. Bits beyond the last value are zero.
void packBits(const uint8_t* values, int64_t n, int64_t valueStride, int bits, uint32_t* words,
              int64_t wordStride);

/// Inverse of packBits: reads n values of `bits` bits into values[i·valueStride].
void unpackBits(const uint32_t* words, int64_t wordStride, int64_t n, int bits, uint8_t* values,
                int64_t valueStride);

} // namespace mpq::detail
