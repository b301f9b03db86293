#pragma once

#include <cstdint>

namespace mpq::data {

/// Python's `random` module (MT19937 seeded by init_by_array, randint via getrandbits with
/// rejection), so that calibration windows are drawn exactly as GPTQ's reference scripts draw
/// them for the same seed and data: deterministic across runs, machines and devices.
class PyRandom {
public:
    explicit PyRandom(uint64_t seed);
    /// random.getrandbits(k), k in 1..32.
    uint32_t getrandbits(int k);
    /// random.randint(a, b): uniform in [a, b], b ≥ a.
    int64_t randint(int64_t a, int64_t b);
    /// random.random(): uniform in [0, 1) with 53 random bits.
    double random();

private:
    uint32_t next();
    uint32_t m_state[624];
    int m_index = 625;
};

} // namespace mpq::data
