#include "data/PyRandom.h"

#include "core/Error.h"

#include <vector>

namespace mpq::data {

PyRandom::PyRandom(uint64_t seed)
{
    // init_genrand(19650218) then init_by_array(key) — CPython's _randommodule.c; the key is the
    // seed's 32-bit words, least significant first, at least one word.
    std::vector<uint32_t> key;
    do {
        key.push_back(uint32_t(seed & 0xffffffffu));
        seed >>= 32;
    } while (seed);
    m_state[0] = 19650218u;
    for (int i = 1; i < 624; ++i)
        m_state[i] = 1812433253u * (m_state[i - 1] ^ (m_state[i - 1] >> 30)) + uint32_t(i);
    int i = 1;
    size_t j = 0;
    const size_t n = key.size();
    for (int k = 624 > int(n) ? 624 : int(n); k; --k) {
        m_state[i] = (m_state[i] ^ ((m_state[i - 1] ^ (m_state[i - 1] >> 30)) * 1664525u)) + key[j] + uint32_t(j);
        ++i;
        ++j;
        if (i >= 624) {
            m_state[0] = m_state[623];
            i = 1;
        }
        if (j >= n)
            j = 0;
    }
    for (int k = 623; k; --k) {
        m_state[i] = (m_state[i] ^ ((m_state[i - 1] ^ (m_state[i - 1] >> 30)) * 1566083941u)) - uint32_t(i);
        ++i;
        if (i >= 624) {
            m_state[0] = m_state[623];
            i = 1;
        }
    }
    m_state[0] = 0x80000000u;
    m_index = 624;
}

uint32_t PyRandom::next()
{
    static const uint32_t mag01[2] = {0u, 0x9908b0dfu};
    if (m_index >= 624) {
        int kk = 0;
        for (; kk < 624 - 397; ++kk) {
            const uint32_t y = (m_state[kk] & 0x80000000u) | (m_state[kk + 1] & 0x7fffffffu);
            m_state[kk] = m_state[kk + 397] ^ (y >> 1) ^ mag01[y & 1u];
        }
        for (; kk < 623; ++kk) {
            const uint32_t y = (m_state[kk] & 0x80000000u) | (m_state[kk + 1] & 0x7fffffffu);
            m_state[kk] = m_state[kk + (397 - 624)] ^ (y >> 1) ^ mag01[y & 1u];
        }
        const uint32_t y = (m_state[623] & 0x80000000u) | (m_state[0] & 0x7fffffffu);
        m_state[623] = m_state[396] ^ (y >> 1) ^ mag01[y & 1u];
        m_index = 0;
    }
    uint32_t y = m_state[m_index++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

uint32_t PyRandom::getrandbits(int k)
{
    if (k < 1 || k > 32)
        throw Error("getrandbits: k must be in 1..32");
    return next() >> (32 - k);
}

double PyRandom::random()
{
    const uint32_t a = next() >> 5, b = next() >> 6;
    return (double(a) * 67108864.0 + double(b)) * (1.0 / 9007199254740992.0);
}

int64_t PyRandom::randint(int64_t a, int64_t b)
{
    if (b < a)
        throw Error("randint: empty range");
    const uint64_t n = uint64_t(b - a) + 1;
    if (n > 0xffffffffull)
        throw Error("randint: range too large");
    int k = 0; // n.bit_length()
    while ((n >> k) != 0)
        ++k;
    uint32_t r = getrandbits(k);
    while (uint64_t(r) >= n)
        r = getrandbits(k);
    return a + int64_t(r);
}

} // namespace mpq::data
