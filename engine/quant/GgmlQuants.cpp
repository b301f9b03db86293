// llama.cpp's tensor types, quantized bit-identically to ggml's scalar reference code
// (ggml-quants.c). Written from the algorithms' description in docs/gguf.md; every float
// expression keeps ggml's operand order, because the searches compare float sums and a
// different rounding picks different codes. This file is compiled with -ffp-contract=off
// (engine/CMakeLists.txt) so that no multiply-add is fused.
#include "quant/GgmlQuants.h"

#include "core/Error.h"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace mpq::ggml {

namespace {

constexpr int kQK = 256;          // super-block of the k-quants
constexpr int kQ = 32;            // block of the legacy types
constexpr float kGroupMaxEps = 1e-15f;

const std::vector<TypeInfo> kTypes = {
    {Type::F32, "F32", 1, 4, 32, 1},
    {Type::F16, "F16", 1, 2, 16, 1},
    {Type::Q4_0, "Q4_0", 32, 18, 4, 32},
    {Type::Q4_1, "Q4_1", 32, 20, 4, 32},
    {Type::Q5_0, "Q5_0", 32, 22, 5, 32},
    {Type::Q5_1, "Q5_1", 32, 24, 5, 32},
    {Type::Q8_0, "Q8_0", 32, 34, 8, 32},
    {Type::Q2_K, "Q2_K", 256, 84, 2, 16},
    {Type::Q3_K, "Q3_K", 256, 110, 3, 16},
    {Type::Q4_K, "Q4_K", 256, 144, 4, 32},
    {Type::Q5_K, "Q5_K", 256, 176, 5, 32},
    {Type::Q6_K, "Q6_K", 256, 210, 6, 16},
};

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5·2^23 leaves the integer in the
// low mantissa bits.
inline int nearestInt(float x)
{
    float v = x + 12582912.f;
    int32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

inline void putHalf(uint8_t* p, float f)
{
    const uint16_t h = fp32ToFp16(f);
    p[0] = uint8_t(h & 0xff);
    p[1] = uint8_t(h >> 8);
}
inline float getHalf(const uint8_t* p) { return fp16ToFp32(uint16_t(p[0] | (p[1] << 8))); }
inline float roundHalf(float f) { return fp16ToFp32(fp32ToFp16(f)); }

// ---- scale searches ------------------------------------------------------------------------

/// Symmetric codes in [-nmax, nmax-1] with a weighted least-squares scale, trying 18 starting
/// scales around nmax/max (rmseType 1: weights x² unless qw is given). Returns the scale; L holds
/// code + nmax.
float symmetricSearch(int n, int nmax, const float* x, int8_t* L, const float* qw)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = int8_t(l + nmax);
        const float w = qw ? qw[i] : x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = qw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearestInt(iscale * x[i]);
                L[i] = int8_t(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/// Q3_K's reference search: symmetric codes, then up to five passes of single-code moves that
/// raise (Σ w x l)²/Σ w l² with w = x². L holds code + nmax.
float symmetricCoordinateSearch(int n, int nmax, const float* x, int8_t* L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    const float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = int8_t(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int pass = 0; pass < 5; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int l = nearestInt(x[i] * sl2 / slx);
                l = std::max(-nmax, std::min(nmax - 1, l));
                if (l != L[i]) {
                    slx += w * x[i] * l;
                    sl2 += w * l * l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = int8_t(l);
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < n; ++i)
        L[i] = int8_t(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/// Asymmetric codes in [0, nmax] with scale and min (min ≤ 0): the min-max start, then
/// nstep+1 trial scales (rmin + rdelta·is + nmax)/(max − min), each refit by weighted least
/// squares for scale and min, keeping the one of least weighted error (|·| with mad, else ²).
/// weights == nullptr means x². Returns the scale, *theMin = −min. `strictEqual`: the ref
/// search's "max == min" test (Q2_K/Q4_K/Q5_K reference) instead of "max <= min".
float affineSearch(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin,
                   uint8_t* Laux, float rmin, float rdelta, int nstep, bool mad, bool strictEqual)
{
    float min = x[0], max = x[0];
    float sumW = weights ? weights[0] : x[0] * x[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float w = weights ? weights[i] : x[i] * x[i];
        sumW += w;
        sumX += w * x[i];
    }
    if (min > 0)
        min = 0;
    if (strictEqual ? max == min : max <= min) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        *theMin = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * (x[i] - min));
        L[i] = uint8_t(std::max(0, std::min(nmax, l)));
        float diff = scale * L[i] + min - x[i];
        diff = mad ? std::fabs(diff) : diff * diff;
        const float w = weights ? weights[i] : x[i] * x[i];
        bestError += w * diff;
    }
    if (nstep < 1) {
        *theMin = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = uint8_t(l);
            const float w = weights ? weights[i] : x[i] * x[i];
            sumL += w * l;
            sumL2 += w * l * l;
            sumXL += w * l * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float err = 0;
            for (int i = 0; i < n; ++i) {
                float diff = thisScale * Laux[i] + thisMin - x[i];
                diff = mad ? std::fabs(diff) : diff * diff;
                const float w = weights ? weights[i] : x[i] * x[i];
                err += w * diff;
            }
            if (err < bestError) {
                for (int i = 0; i < n; ++i)
                    L[i] = Laux[i];
                bestError = err;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

/// Non-negative values (sub-block scales or mins) on a grid of nmax+1 levels: nine trial scales
/// around nmax/max by weighted squared error, then five passes of single-level moves. Returns the
/// grid step; L holds the levels.
float positiveSearch(int n, int nmax, const float* x, uint8_t* L, const float* qw)
{
    float max = 0;
    for (int i = 0; i < n; ++i)
        max = std::max(max, x[i]);
    if (max < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i)
        L[i] = uint8_t(nearestInt(iscale * x[i]));
    const float scale = 1 / iscale;
    float bestMse = 0;
    for (int i = 0; i < n; ++i) {
        const float diff = x[i] - scale * L[i];
        bestMse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0)
            continue;
        const float iscaleIs = (0.1f * is + nmax) / max;
        const float scaleIs = 1 / iscaleIs;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::min(nmax, nearestInt(iscaleIs * x[i]));
            const float diff = x[i] - scaleIs * l;
            mse += qw[i] * diff * diff;
        }
        if (mse < bestMse) {
            bestMse = mse;
            iscale = iscaleIs;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::min(nmax, nearestInt(iscale * x[i]));
        L[i] = uint8_t(l);
        const float w = qw[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int pass = 0; pass < 5; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = qw[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                const int l = std::min(nmax, nearestInt(x[i] * sl2 / slx));
                if (l != L[i]) {
                    slx += w * x[i] * l;
                    sl2 += w * l * l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = uint8_t(l);
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed)
            break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// ---- bit packing ---------------------------------------------------------------------------

/// 6-bit scale ls and min lm of sub-block j of Q4_K/Q5_K's 12-byte scale field.
void packScaleMinK4(uint8_t* s, int j, uint8_t ls, uint8_t lm)
{
    if (j < 4) {
        s[j] = ls;
        s[j + 4] = lm;
    } else {
        s[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
        s[j - 4] |= uint8_t((ls >> 4) << 6);
        s[j - 0] |= uint8_t((lm >> 4) << 6);
    }
}
void scaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = uint8_t((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}
/// Q3_K's 6-bit scale j (stored with +32) from its 12-byte field.
int8_t scaleQ3(const uint8_t* s, int j)
{
    int8_t sc = int8_t(j < 8 ? s[j] & 0xF : s[j - 8] >> 4);
    sc = int8_t((sc | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    return sc;
}
void packScaleQ3(uint8_t* s, int j, int l)
{
    if (j < 8)
        s[j] = uint8_t(l & 0xF);
    else
        s[j - 8] |= uint8_t((l & 0xF) << 4);
    l >>= 4;
    s[j % 4 + 8] |= uint8_t(l << (2 * (j / 4)));
}
/// 2-bit codes of 256 weights in Q2_K/Q3_K order: byte j/4+l of each 128 holds weights
/// j+l, j+l+32, j+l+64, j+l+96.
void pack2bit(uint8_t* qs, const uint8_t* L)
{
    for (int j = 0; j < kQK; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}
void packLegacy4(uint8_t* qs, const uint8_t* L)
{
    for (int j = 0; j < 16; ++j)
        qs[j] = uint8_t(L[j] | (L[j + 16] << 4));
}
void packLegacy5(uint8_t* qh4, uint8_t* qs, const uint8_t* L)
{
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t a = L[j], b = L[j + 16];
        qs[j] = uint8_t((a & 0x0F) | ((b & 0x0F) << 4));
        qh |= uint32_t((a & 0x10u) >> 4) << (j + 0);
        qh |= uint32_t((b & 0x10u) >> 4) << (j + 16);
    }
    for (int k = 0; k < 4; ++k) // little-endian, as ggml's memcpy on x86/ARM
        qh4[k] = uint8_t(qh >> (8 * k));
}

// ---- legacy types (blocks of 32) -----------------------------------------------------------

// Block layouts (bytes): Q4_0 d | qs[16]; Q4_1 d m | qs[16]; Q5_0 d | qh[4] qs[16];
// Q5_1 d m | qh[4] qs[16]; Q8_0 d | qs[32].

void q4_0Ref(const float* x, uint8_t* y, int64_t n)
{
    for (int64_t b = 0; b < n / kQ; ++b, x += kQ, y += 18) {
        float amax = 0, max = 0;
        for (int j = 0; j < kQ; ++j)
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        putHalf(y, d);
        uint8_t L[kQ];
        for (int j = 0; j < kQ; ++j)
            L[j] = uint8_t(std::min(15, int(int8_t(x[j] * id + 8.5f))));
        packLegacy4(y + 2, L);
    }
}

void q4_1Ref(const float* x, uint8_t* y, int64_t n)
{
    for (int64_t b = 0; b < n / kQ; ++b, x += kQ, y += 20) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQ; ++j) {
            if (x[j] < min)
                min = x[j];
            if (x[j] > max)
                max = x[j];
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        putHalf(y, d);
        putHalf(y + 2, min);
        uint8_t L[kQ];
        for (int j = 0; j < kQ; ++j)
            L[j] = uint8_t(std::min(15, int(int8_t((x[j] - min) * id + 0.5f))));
        packLegacy4(y + 4, L);
    }
}

void q5_0Ref(const float* x, uint8_t* y, int64_t n)
{
    for (int64_t b = 0; b < n / kQ; ++b, x += kQ, y += 22) {
        float amax = 0, max = 0;
        for (int j = 0; j < kQ; ++j)
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        putHalf(y, d);
        uint8_t L[kQ];
        for (int j = 0; j < kQ; ++j)
            L[j] = uint8_t(std::min(31, int(int8_t(x[j] * id + 16.5f))));
        packLegacy5(y + 2, y + 6, L);
    }
}

void q5_1Ref(const float* x, uint8_t* y, int64_t n)
{
    for (int64_t b = 0; b < n / kQ; ++b, x += kQ, y += 24) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQ; ++j) {
            if (x[j] < min)
                min = x[j];
            if (x[j] > max)
                max = x[j];
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        putHalf(y, d);
        putHalf(y + 2, min);
        uint8_t L[kQ];
        for (int j = 0; j < kQ; ++j)
            L[j] = uint8_t((x[j] - min) * id + 0.5f);
        packLegacy5(y + 4, y + 8, L);
    }
}

void q8_0Ref(const float* x, uint8_t* y, int64_t n)
{
    for (int64_t b = 0; b < n / kQ; ++b, x += kQ, y += 34) {
        float amax = 0;
        for (int j = 0; j < kQ; ++j)
            amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        putHalf(y, d);
        for (int j = 0; j < kQ; ++j)
            y[2 + j] = uint8_t(int8_t(std::round(x[j] * id)));
    }
}

/// Importance weights of one legacy block: qw·sqrt(σ² + x²), σ² the row's mean square.
void legacyWeights(const float* xb, const float* qw, float sigma2, float* weight)
{
    for (int j = 0; j < kQ; ++j)
        weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}
float rowMeanSquare(const float* x, int64_t n)
{
    float s = 0;
    for (int64_t j = 0; j < n; ++j)
        s += x[j] * x[j];
    return s / n;
}

void q4_0Impl(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    const float sigma2 = rowMeanSquare(x, n);
    for (int64_t b = 0; b < n / kQ; ++b, y += 18) {
        const float* xb = x + kQ * b;
        float weight[kQ];
        legacyWeights(xb, qw + kQ * b, sigma2, weight);
        int8_t L[kQ];
        const float d = symmetricSearch(kQ, 8, xb, L, weight);
        putHalf(y, d);
        packLegacy4(y + 2, reinterpret_cast<const uint8_t*>(L));
    }
}

void q4_1Impl(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    const float sigma2 = rowMeanSquare(x, n);
    for (int64_t b = 0; b < n / kQ; ++b, y += 20) {
        const float* xb = x + kQ * b;
        float weight[kQ];
        legacyWeights(xb, qw + kQ * b, sigma2, weight);
        uint8_t L[kQ], Laux[kQ];
        float min;
        const float d = affineSearch(kQ, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false, false);
        putHalf(y, d);
        putHalf(y + 2, -min);
        packLegacy4(y + 4, L);
    }
}

void q5_0Impl(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    const float sigma2 = rowMeanSquare(x, n);
    for (int64_t b = 0; b < n / kQ; ++b, y += 22) {
        const float* xb = x + kQ * b;
        float weight[kQ];
        legacyWeights(xb, qw + kQ * b, sigma2, weight);
        int8_t L[kQ];
        const float d = symmetricSearch(kQ, 16, xb, L, weight);
        putHalf(y, d);
        packLegacy5(y + 2, y + 6, reinterpret_cast<const uint8_t*>(L));
    }
}

void q5_1Impl(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    const float sigma2 = rowMeanSquare(x, n);
    for (int64_t b = 0; b < n / kQ; ++b, y += 24) {
        const float* xb = x + kQ * b;
        float weight[kQ];
        legacyWeights(xb, qw + kQ * b, sigma2, weight);
        uint8_t L[kQ], Laux[kQ];
        float min;
        const float d = affineSearch(kQ, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false, false);
        putHalf(y, d);
        putHalf(y + 2, -min);
        packLegacy5(y + 4, y + 8, L);
    }
}

// ---- k-quants (super-blocks of 256) --------------------------------------------------------

// Q2_K: scales[16] (4-bit scale | 4-bit min) qs[64] d dmin.
void q2_K(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    for (int64_t b = 0; b < n / kQK; ++b, x += kQK, y += 84) {
        uint8_t* scalesOut = y;
        uint8_t* qs = y + 16;
        uint8_t L[kQK], Laux[16];
        float weight[16], mins[16], scales[16];
        std::memset(y, 0, 84);
        if (!qw) {
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l)
                    weight[l] = std::fabs(x[16 * j + l]);
                scales[j] = affineSearch(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15,
                                         true, true);
                maxScale = std::max(maxScale, scales[j]);
                maxMin = std::max(maxMin, mins[j]);
            }
            const float q4scale = 15.f;
            if (maxScale > 0) {
                const float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; ++j)
                    scalesOut[j] = uint8_t(nearestInt(iscale * scales[j]));
                putHalf(y + 80, maxScale / q4scale);
            } else {
                putHalf(y + 80, 0.f);
            }
            if (maxMin > 0) {
                const float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; ++j)
                    scalesOut[j] |= uint8_t(nearestInt(iscale * mins[j]) << 4);
                putHalf(y + 82, maxMin / q4scale);
            } else {
                putHalf(y + 82, 0.f);
            }
        } else {
            const float* w = qw + kQK * b;
            float sumx2 = 0;
            for (int j = 0; j < kQK; ++j)
                sumx2 += x[j] * x[j];
            const float sigma2 = sumx2 / kQK;
            float sw[16] = {};
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l)
                    weight[l] = w[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
                for (int l = 0; l < 16; ++l)
                    sw[j] += weight[l];
                scales[j] = affineSearch(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36,
                                         false, false);
            }
            uint8_t Ls[16], Lm[16];
            const float dm = positiveSearch(16, 15, scales, Ls, sw);
            const float mm = positiveSearch(16, 15, mins, Lm, sw);
            putHalf(y + 80, dm);
            putHalf(y + 82, mm);
            for (int j = 0; j < 16; ++j)
                scalesOut[j] = uint8_t(Ls[j] | (Lm[j] << 4));
        }
        const float dAll = getHalf(y + 80), mAll = getHalf(y + 82);
        for (int j = 0; j < 16; ++j) {
            const float d = dAll * (scalesOut[j] & 0xF);
            if (!d)
                continue;
            const float dm = mAll * (scalesOut[j] >> 4);
            for (int i = 0; i < 16; ++i) {
                const int l = nearestInt((x[16 * j + i] + dm) / d);
                L[16 * j + i] = uint8_t(std::max(0, std::min(3, l)));
            }
        }
        pack2bit(qs, L);
    }
}

// Q3_K: hmask[32] qs[64] scales[12] d.
void q3_K(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    for (int64_t b = 0; b < n / kQK; ++b, x += kQK, y += 110) {
        uint8_t* hmask = y;
        uint8_t* qs = y + 32;
        uint8_t* sc = y + 96;
        int8_t L[kQK];
        float scales[16];
        std::memset(y, 0, 110);
        if (!qw) {
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; ++j) {
                scales[j] = symmetricCoordinateSearch(16, 4, x + 16 * j, L + 16 * j);
                const float a = std::fabs(scales[j]);
                if (a > amax) {
                    amax = a;
                    maxScale = scales[j];
                }
            }
            if (maxScale) {
                const float iscale = -32.f / maxScale;
                for (int j = 0; j < 16; ++j) {
                    int8_t l = int8_t(nearestInt(iscale * scales[j]));
                    l = int8_t(std::max(-32, std::min(31, int(l))) + 32);
                    packScaleQ3(sc, j, l);
                }
                putHalf(y + 108, 1 / iscale);
            } else {
                putHalf(y + 108, 0.f);
            }
        } else {
            const float* w = qw + kQK * b;
            float sumx2 = 0;
            for (int j = 0; j < kQK; ++j)
                sumx2 += x[j] * x[j];
            const float sigma2 = 2 * sumx2 / kQK;
            float weight[16], sw[16];
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l)
                    weight[l] = w[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
                float sumw = 0;
                for (int l = 0; l < 16; ++l)
                    sumw += weight[l];
                sw[j] = sumw;
                scales[j] = symmetricSearch(16, 4, x + 16 * j, L + 16 * j, weight);
            }
            int8_t Ls[16];
            const float dBlock = symmetricSearch(16, 32, scales, Ls, sw);
            for (int j = 0; j < 16; ++j)
                packScaleQ3(sc, j, Ls[j]);
            putHalf(y + 108, dBlock);
        }
        const float dAll = getHalf(y + 108);
        for (int j = 0; j < 16; ++j) {
            const float d = dAll * scaleQ3(sc, j);
            if (!d)
                continue;
            for (int i = 0; i < 16; ++i) {
                const int l = nearestInt(x[16 * j + i] / d);
                L[16 * j + i] = int8_t(std::max(-4, std::min(3, l)) + 4);
            }
        }
        // The high bit of weight j goes to bit j/32 of hmask[j % 32].
        uint8_t U[kQK];
        for (int j = 0; j < kQK; ++j) {
            U[j] = uint8_t(L[j]);
            if (U[j] > 3) {
                hmask[j % 32] |= uint8_t(1 << (j / 32));
                U[j] = uint8_t(U[j] - 4);
            }
        }
        pack2bit(qs, U);
    }
}

/// Q4_K and Q5_K share the scale search (8 sub-blocks of 32, 6-bit scales and mins).
/// Returns the codes in L.
void kScalesMins(const float* x, const float* qw, int nmax, uint8_t* y, uint8_t* L)
{
    uint8_t* sc = y + 4;
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    std::memset(sc, 0, 12);
    if (!qw) {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l)
                sumX2 += x[32 * j + l] * x[32 * j + l];
            const float avX = std::sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l)
                weights[l] = avX + std::fabs(x[32 * j + l]);
            scales[j] = nmax == 15 ? affineSearch(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f,
                                                  20, false, true)
                                   : affineSearch(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.5f,
                                                  0.1f, 15, false, true);
            if (scales[j] > maxScale)
                maxScale = scales[j];
            if (mins[j] > maxMin)
                maxMin = mins[j];
        }
        const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < 8; ++j) {
            uint8_t ls = uint8_t(nearestInt(invScale * scales[j]));
            uint8_t lm = uint8_t(nearestInt(invMin * mins[j]));
            ls = std::min<uint8_t>(63, ls);
            lm = std::min<uint8_t>(63, lm);
            packScaleMinK4(sc, j, ls, lm);
        }
        putHalf(y, maxScale / 63.f);
        putHalf(y + 2, maxMin / 63.f);
    } else {
        float sumX2 = 0;
        for (int l = 0; l < kQK; ++l)
            sumX2 += x[l] * x[l];
        const float sigma2 = 2 * sumX2 / kQK;
        float sw[8];
        for (int j = 0; j < 8; ++j) {
            for (int l = 0; l < 32; ++l)
                weights[l] = qw[32 * j + l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
            float sumw = 0;
            for (int l = 0; l < 32; ++l)
                sumw += weights[l];
            sw[j] = sumw;
            scales[j] =
                affineSearch(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false, false);
        }
        uint8_t Ls[8], Lm[8];
        const float dBlock = positiveSearch(8, 63, scales, Ls, sw);
        const float mBlock = positiveSearch(8, 63, mins, Lm, sw);
        for (int j = 0; j < 8; ++j)
            packScaleMinK4(sc, j, std::min<uint8_t>(63, Ls[j]), std::min<uint8_t>(63, Lm[j]));
        putHalf(y, dBlock);
        putHalf(y + 2, mBlock);
    }
    const float dAll = getHalf(y), mAll = getHalf(y + 2);
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        scaleMinK4(j, sc, &s, &m);
        const float d = dAll * s;
        if (!d)
            continue;
        const float dm = mAll * m;
        for (int i = 0; i < 32; ++i) {
            const int l = nearestInt((x[32 * j + i] + dm) / d);
            L[32 * j + i] = uint8_t(std::max(0, std::min(nmax, l)));
        }
    }
}

// Q4_K: d dmin scales[12] qs[128].
void q4_K(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    for (int64_t b = 0; b < n / kQK; ++b, x += kQK, y += 144) {
        uint8_t L[kQK];
        kScalesMins(x, qw ? qw + kQK * b : nullptr, 15, y, L);
        uint8_t* q = y + 16;
        for (int j = 0; j < kQK; j += 64, q += 32)
            for (int l = 0; l < 32; ++l)
                q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    }
}

// Q5_K: d dmin scales[12] qh[32] qs[128].
void q5_K(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    for (int64_t b = 0; b < n / kQK; ++b, x += kQK, y += 176) {
        uint8_t L[kQK];
        kScalesMins(x, qw ? qw + kQK * b : nullptr, 31, y, L);
        uint8_t* qh = y + 16;
        uint8_t* ql = y + 48;
        std::memset(qh, 0, 32);
        uint8_t m1 = 1, m2 = 2;
        for (int n0 = 0; n0 < kQK; n0 += 64, ql += 32) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n0 + j], l2 = L[n0 + j + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[j] = uint8_t(l1 | (l2 << 4));
            }
            m1 = uint8_t(m1 << 2);
            m2 = uint8_t(m2 << 2);
        }
    }
}

// Q6_K: ql[128] qh[64] scales[16] (int8) d.
void q6_K(const float* x, uint8_t* y, int64_t n, const float* qw)
{
    for (int64_t b = 0; b < n / kQK; ++b, x += kQK, y += 210) {
        int8_t L[kQK];
        float scales[16];
        float maxScale = 0, maxAbs = 0;
        for (int ib = 0; ib < 16; ++ib) {
            const float s = symmetricSearch(16, 32, x + 16 * ib, L + 16 * ib, qw ? qw + kQK * b + 16 * ib : nullptr);
            scales[ib] = s;
            if (std::fabs(s) > maxAbs) {
                maxAbs = std::fabs(s);
                maxScale = s;
            }
        }
        std::memset(y, 0, 210);
        if (maxAbs < kGroupMaxEps) {
            putHalf(y + 208, 0.f);
            continue;
        }
        const float iscale = -128.f / maxScale;
        putHalf(y + 208, 1 / iscale);
        int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
        for (int ib = 0; ib < 16; ++ib)
            sc[ib] = int8_t(std::min(127, nearestInt(iscale * scales[ib])));
        const float dAll = getHalf(y + 208);
        for (int j = 0; j < 16; ++j) {
            const float d = dAll * sc[j];
            if (!d)
                continue;
            for (int i = 0; i < 16; ++i) {
                const int l = nearestInt(x[16 * j + i] / d);
                L[16 * j + i] = int8_t(std::max(-32, std::min(31, l)) + 32);
            }
        }
        uint8_t* ql = y;
        uint8_t* qh = y + 128;
        for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32)
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF,
                              q4 = L[j + l + 96] & 0xF;
                ql[l] = uint8_t(q1 | (q3 << 4));
                ql[l + 32] = uint8_t(q2 | (q4 << 4));
                qh[l] = uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                ((L[j + l + 96] >> 4) << 6));
            }
    }
}

std::string upper(std::string s)
{
    for (auto& c : s)
        c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

const std::vector<TypeInfo>& allTypes() { return kTypes; }

const TypeInfo& info(Type t)
{
    for (const auto& i : kTypes)
        if (i.type == t)
            return i;
    throw Error("unknown ggml tensor type " + std::to_string(uint32_t(t)));
}

const char* typeName(Type t) { return info(t).name; }

std::optional<Type> typeFromName(const std::string& name)
{
    const std::string u = upper(name);
    for (const auto& i : kTypes)
        if (u == i.name)
            return i.type;
    return std::nullopt;
}

double bitsPerWeight(Type t)
{
    const TypeInfo& i = info(t);
    return 8.0 * i.blockBytes / i.blockSize;
}

bool fitsRow(Type t, int64_t cols) { return cols > 0 && cols % info(t).blockSize == 0; }

int64_t rowBytes(Type t, int64_t cols)
{
    const TypeInfo& i = info(t);
    return cols / i.blockSize * i.blockBytes;
}

uint16_t fp32ToFp16(float f)
{
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint16_t sign = uint16_t((x >> 16) & 0x8000);
    const uint32_t absx = x & 0x7fffffff;
    if (absx > 0x7f800000) // NaN: ggml's quiet NaN
        return uint16_t(sign | 0x7e00);
    if (absx >= 0x477ff000) // rounds to ≥ 65520: infinity
        return uint16_t(sign | 0x7c00);
    if (absx < 0x38800000) { // below the smallest normal half: a subnormal (or zero)
        if (absx < 0x33000000) // below half of the smallest subnormal: ±0
            return sign;
        const uint32_t exponent = absx >> 23;
        const uint32_t mantissa = (absx & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - exponent; // value = mantissa · 2^(exponent−150); unit 2^−24
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1)))
            ++half;
        return uint16_t(sign | half);
    }
    // Normal: rebias the exponent, round the 13 dropped bits to nearest even (a carry into the
    // exponent is the right result, up to infinity, which the test above excluded).
    uint32_t h = ((absx >> 13) - ((127 - 15) << 10));
    const uint32_t rest = absx & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
        ++h;
    return uint16_t(sign | h);
}

float fp16ToFp32(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else { // subnormal: normalise
        int e = -1;
        do {
            ++e;
            mantissa <<= 1;
        } while (!(mantissa & 0x400));
        bits = sign | (uint32_t(127 - 15 - e) << 23) | ((mantissa & 0x3ff) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::vector<uint8_t> quantize(Type t, const float* x, int64_t rows, int64_t cols, const float* importance)
{
    if (!fitsRow(t, cols))
        throw Error(std::string("a row of ") + std::to_string(cols) + " weights cannot be stored as " + typeName(t) +
                    " (its blocks hold " + std::to_string(info(t).blockSize) + ")");
    const int64_t rb = rowBytes(t, cols);
    std::vector<uint8_t> out(size_t(rows * rb));
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        uint8_t* yr = out.data() + r * rb;
        const float* qw = importance;
        switch (t) {
        case Type::F32:
            std::memcpy(yr, xr, size_t(cols) * 4);
            break;
        case Type::F16:
            for (int64_t j = 0; j < cols; ++j)
                putHalf(yr + 2 * j, xr[j]);
            break;
        case Type::Q4_0: qw ? q4_0Impl(xr, yr, cols, qw) : q4_0Ref(xr, yr, cols); break;
        case Type::Q4_1: qw ? q4_1Impl(xr, yr, cols, qw) : q4_1Ref(xr, yr, cols); break;
        case Type::Q5_0: qw ? q5_0Impl(xr, yr, cols, qw) : q5_0Ref(xr, yr, cols); break;
        case Type::Q5_1: qw ? q5_1Impl(xr, yr, cols, qw) : q5_1Ref(xr, yr, cols); break;
        case Type::Q8_0: q8_0Ref(xr, yr, cols); break;
        case Type::Q2_K: q2_K(xr, yr, cols, qw); break;
        case Type::Q3_K: q3_K(xr, yr, cols, qw); break;
        case Type::Q4_K: q4_K(xr, yr, cols, qw); break;
        case Type::Q5_K: q5_K(xr, yr, cols, qw); break;
        case Type::Q6_K: q6_K(xr, yr, cols, qw); break;
        }
    }
    return out;
}

Unpacked unpack(Type t, const uint8_t* data, int64_t rows, int64_t cols)
{
    if (t == Type::F16 || t == Type::F32)
        throw Error(std::string(typeName(t)) + " is not block-quantized");
    if (!fitsRow(t, cols))
        throw Error(std::string("unpack: ") + std::to_string(cols) + " columns do not fit " + typeName(t));
    const TypeInfo& ti = info(t);
    Unpacked u;
    u.rows = rows;
    u.cols = cols;
    u.subBlock = ti.subBlock;
    u.codeBits = ti.codeBits;
    const int64_t slots = cols / ti.subBlock;
    u.codes.resize(size_t(rows * cols));
    u.mul.resize(size_t(rows * slots));
    u.sub.resize(size_t(rows * slots), 0.f);
    const int64_t blocks = cols / ti.blockSize;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t b = 0; b < blocks; ++b) {
            const uint8_t* y = data + (r * blocks + b) * ti.blockBytes;
            uint8_t* c = u.codes.data() + r * cols + b * ti.blockSize;
            const int64_t s0 = r * slots + b * (ti.blockSize / ti.subBlock);
            float* mul = u.mul.data() + s0;
            float* sub = u.sub.data() + s0;
            switch (t) {
            case Type::Q4_0:
            case Type::Q4_1: {
                const uint8_t* qs = y + (t == Type::Q4_0 ? 2 : 4);
                for (int j = 0; j < 16; ++j) {
                    c[j] = qs[j] & 0x0F;
                    c[j + 16] = qs[j] >> 4;
                }
                mul[0] = getHalf(y);
                u.offset = t == Type::Q4_0 ? 8 : 0;
                if (t == Type::Q4_1)
                    sub[0] = -getHalf(y + 2); // ggml: x·d + m
                break;
            }
            case Type::Q5_0:
            case Type::Q5_1: {
                const uint8_t* qh4 = y + (t == Type::Q5_0 ? 2 : 4);
                const uint8_t* qs = qh4 + 4;
                const uint32_t qh = uint32_t(qh4[0]) | uint32_t(qh4[1]) << 8 | uint32_t(qh4[2]) << 16 |
                                    uint32_t(qh4[3]) << 24;
                for (int j = 0; j < 16; ++j) {
                    c[j] = uint8_t((qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10));
                    c[j + 16] = uint8_t((qs[j] >> 4) | ((qh >> (j + 12)) & 0x10));
                }
                mul[0] = getHalf(y);
                u.offset = t == Type::Q5_0 ? 16 : 0;
                if (t == Type::Q5_1)
                    sub[0] = -getHalf(y + 2);
                break;
            }
            case Type::Q8_0:
                for (int j = 0; j < 32; ++j)
                    c[j] = uint8_t(int(int8_t(y[2 + j])) + 128);
                mul[0] = getHalf(y);
                u.offset = 128;
                break;
            case Type::Q2_K: {
                const float d = getHalf(y + 80), dmin = getHalf(y + 82);
                const uint8_t* q = y + 16;
                for (int j = 0; j < kQK; ++j)
                    c[j] = (q[(j / 128) * 32 + j % 32] >> (2 * ((j % 128) / 32))) & 3;
                for (int s = 0; s < 16; ++s) {
                    mul[s] = d * (y[s] & 0xF);
                    sub[s] = dmin * (y[s] >> 4);
                }
                u.offset = 0;
                break;
            }
            case Type::Q3_K: {
                const float d = getHalf(y + 108);
                const uint8_t* q = y + 32;
                for (int j = 0; j < kQK; ++j) {
                    const int low = (q[(j / 128) * 32 + j % 32] >> (2 * ((j % 128) / 32))) & 3;
                    const int high = (y[j % 32] >> (j / 32)) & 1;
                    c[j] = uint8_t(low + 4 * high);
                }
                for (int s = 0; s < 16; ++s)
                    mul[s] = d * (scaleQ3(y + 96, s));
                u.offset = 4;
                break;
            }
            case Type::Q4_K:
            case Type::Q5_K: {
                const float d = getHalf(y), dmin = getHalf(y + 2);
                const uint8_t* qh = y + 16;
                const uint8_t* ql = t == Type::Q4_K ? y + 16 : y + 48;
                for (int j = 0; j < kQK; ++j) {
                    const int chunk = j / 64, within = j % 64;
                    int v = within < 32 ? ql[chunk * 32 + within] & 0xF : ql[chunk * 32 + within - 32] >> 4;
                    if (t == Type::Q5_K && (qh[within % 32] >> (2 * chunk + (within >= 32))) & 1)
                        v += 16;
                    c[j] = uint8_t(v);
                }
                for (int s = 0; s < 8; ++s) {
                    uint8_t sc, m;
                    scaleMinK4(s, y + 4, &sc, &m);
                    mul[s] = d * sc;
                    sub[s] = dmin * m;
                }
                u.offset = 0;
                break;
            }
            case Type::Q6_K: {
                const float d = getHalf(y + 208);
                const uint8_t* ql = y;
                const uint8_t* qh = y + 128;
                for (int j = 0; j < kQK; ++j) {
                    const int half = j / 128, l = j % 32, quarter = (j % 128) / 32;
                    const uint8_t* qlh = ql + 64 * half;
                    const int low = quarter == 0 ? qlh[l] & 0xF
                                  : quarter == 1 ? qlh[l + 32] & 0xF
                                  : quarter == 2 ? qlh[l] >> 4
                                                 : qlh[l + 32] >> 4;
                    const int high = (qh[32 * half + l] >> (2 * quarter)) & 3;
                    c[j] = uint8_t(low | (high << 4));
                }
                const int8_t* sc = reinterpret_cast<const int8_t*>(y + 192);
                for (int s = 0; s < 16; ++s)
                    mul[s] = d * sc[s];
                u.offset = 32;
                break;
            }
            default:
                break;
            }
        }
    }
    return u;
}

void dequantize(Type t, const uint8_t* data, int64_t rows, int64_t cols, float* out)
{
    if (t == Type::F32) {
        std::memcpy(out, data, size_t(rows * cols) * 4);
        return;
    }
    if (t == Type::F16) {
        for (int64_t i = 0; i < rows * cols; ++i)
            out[i] = getHalf(data + 2 * i);
        return;
    }
    const Unpacked u = unpack(t, data, rows, cols);
    const int64_t slots = cols / u.subBlock;
    const bool hasSub = t == Type::Q4_1 || t == Type::Q5_1 || t == Type::Q2_K || t == Type::Q4_K || t == Type::Q5_K;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j) {
            const int64_t s = r * slots + j / u.subBlock;
            const float v = u.mul[size_t(s)] * float(int(u.codes[size_t(r * cols + j)]) - u.offset);
            out[r * cols + j] = hasSub ? v - u.sub[size_t(s)] : v;
        }
}

} // namespace mpq::ggml
