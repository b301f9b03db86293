// GPTQ v1 ("gptq" checkpoint format) packing of one quantized matrix, and its inverse.
#include "export/detail/GptqPacking.h"

#include "export/detail/BitPack.h"

#include "core/Error.h"
#include "core/SettingError.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mpq::detail {

GptqMatrix packGptq(const QuantizedWeight& q, const std::string& name, int64_t planGroupSize)
{
    const at::Tensor slotsT = q.slotOfColumn.to(at::kInt).cpu().contiguous();
    at::Tensor codes = q.codes.to(at::kByte).cpu().contiguous().clone();
    const at::Tensor scales = q.scales.to(at::kFloat).cpu().contiguous();
    at::Tensor zeros = q.zeros.to(at::kFloat).cpu().contiguous().clone();
    const int64_t out = codes.size(0), in = codes.size(1), groups = int64_t(q.slotBits.size());
    const int32_t* slot = slotsT.data_ptr<int32_t>();

    // One bit-width per matrix, one GPTQ supports.
    const int bits = groups ? q.slotBits[0] : 0;
    for (int b : q.slotBits)
        if (b != bits)
            throw SettingError("format", name + ": has per-column bit-widths (more than one width in the matrix); the "
                                         "GPTQ format carries one width per matrix — export it as mpq-packed or hf");
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
        throw Error(name + ": " + std::to_string(bits) + "-bit codes; the GPTQ format supports 2, 3, 4 and 8 bits");

    // Slots must be GPTQ groups: ⌈in/g⌉ of them, none holding more than g columns.
    std::vector<int64_t> count(size_t(groups), 0);
    for (int64_t j = 0; j < in; ++j)
        ++count[size_t(slot[j])];
    int64_t g = -1;
    if (groups > 1) {
        g = planGroupSize > 0 ? planGroupSize : *std::max_element(count.begin(), count.end());
        bool ok = (in + g - 1) / g == groups;
        for (int64_t n : count)
            ok = ok && n <= g;
        if (!ok)
            throw Error(name + ": its " + std::to_string(groups) + " grid slots are not groups of " +
                        std::to_string(g) + " columns, which the GPTQ format needs");
    }
    bool descAct = false;
    for (int64_t j = 0; j < in && g > 0; ++j)
        descAct = descAct || slot[j] != j / g;

    // Zero points: integers in 0..2^bits; v1 stores zero − 1, so zero 0 needs the shift below.
    const int maxq = (1 << bits) - 1;
    float* z = zeros.data_ptr<float>();
    uint8_t* c = codes.data_ptr<uint8_t>();
    bool sym = true;
    for (int64_t r = 0; r < out; ++r) {
        for (int64_t s = 0; s < groups; ++s) {
            float& zero = z[r * groups + s];
            if (zero != std::nearbyint(zero))
                throw SettingError("format", name + ": zero point " + std::to_string(zero) + " (row " +
                                                 std::to_string(r) +
                                                 ") is not an integer (HQQ-style zeros); the GPTQ format stores "
                                                 "integer zero points — export it as mpq-packed or hf");
            if (zero < 0 || zero > maxq + 1)
                throw Error(name + ": zero point " + std::to_string(zero) + " outside 0.." +
                            std::to_string(maxq + 1) + ", which GPTQ's " + std::to_string(bits) + "-bit zeros cannot hold");
            if (zero == 0) {
                for (int64_t j = 0; j < in; ++j)
                    if (slot[j] == s && c[r * in + j] == maxq)
                        throw SettingError("format", name + ": row " + std::to_string(r) +
                                                         " has zero point 0 and uses the top code; GPTQ v1 (which "
                                                         "stores zero − 1) cannot represent it — export it as "
                                                         "mpq-packed or hf");
                for (int64_t j = 0; j < in; ++j)
                    if (slot[j] == s)
                        ++c[r * in + j]; // s·((c + 1) − 1) = s·(c − 0): Ŵ unchanged
                zero = 1;
            }
            sym = sym && zero == float(1 << (bits - 1));
        }
    }

    GptqMatrix m;
    m.bits = bits;
    m.groupSize = g;
    m.descAct = descAct;
    m.sym = sym;
    m.gIdx = g > 0 ? slotsT.clone() : at::zeros({in}, at::TensorOptions().dtype(at::kInt));

    m.scales = scales.t().contiguous().to(at::kHalf); // [groups, out]
    const at::Tensor back = m.scales.to(at::kFloat);
    if (!back.isfinite().all().item<bool>())
        throw Error(name + ": a scale exceeds fp16's range, which the GPTQ format stores scales in");

    const int64_t wordsIn = packedWords(in, bits), wordsOut = packedWords(out, bits);
    m.qweight = at::zeros({wordsIn, out}, at::TensorOptions().dtype(at::kInt));
    auto* qw = reinterpret_cast<uint32_t*>(m.qweight.data_ptr<int32_t>());
    for (int64_t o = 0; o < out; ++o) // column o of qweight: codes of output o along the inputs
        packBits(c + o * in, in, 1, bits, qw + o, out);

    const at::Tensor stored = (zeros.t().contiguous() - 1).to(at::kByte).contiguous(); // [groups, out]
    m.qzeros = at::zeros({groups, wordsOut}, at::TensorOptions().dtype(at::kInt));
    auto* qz = reinterpret_cast<uint32_t*>(m.qzeros.data_ptr<int32_t>());
    for (int64_t s = 0; s < groups; ++s)
        packBits(stored.data_ptr<uint8_t>() + s * out, out, 1, bits, qz + s * wordsOut, 1);
    return m;
}

QuantizedWeight unpackGptq(const GptqMatrix& m, int64_t out, int64_t in)
{
    const int bits = m.bits;
    const int64_t groups = m.scales.size(0);
    if (m.qweight.sizes() != at::IntArrayRef{packedWords(in, bits), out} || m.scales.size(1) != out ||
        m.qzeros.sizes() != at::IntArrayRef{groups, packedWords(out, bits)} || m.gIdx.numel() != in)
        throw Error("GPTQ tensors do not match a [" + std::to_string(out) + ", " + std::to_string(in) + "] " +
                    std::to_string(bits) + "-bit matrix");
    QuantizedWeight q;
    q.codes = at::zeros({out, in}, at::TensorOptions().dtype(at::kByte));
    const at::Tensor qweight = m.qweight.contiguous(), qzeros = m.qzeros.contiguous();
    const auto* qw = reinterpret_cast<const uint32_t*>(qweight.data_ptr<int32_t>());
    for (int64_t o = 0; o < out; ++o)
        unpackBits(qw + o, out, in, bits, q.codes.data_ptr<uint8_t>() + o * in, 1);
    at::Tensor stored = at::zeros({groups, out}, at::TensorOptions().dtype(at::kByte));
    const auto* qz = reinterpret_cast<const uint32_t*>(qzeros.data_ptr<int32_t>());
    const int64_t wordsOut = packedWords(out, bits);
    for (int64_t s = 0; s < groups; ++s)
        unpackBits(qz + s * wordsOut, 1, out, bits, stored.data_ptr<uint8_t>() + s * out, 1);
    q.zeros = (stored.to(at::kFloat) + 1).t().contiguous();
    q.scales = m.scales.to(at::kFloat).t().contiguous();
    q.slotOfColumn = m.gIdx.to(at::kInt).contiguous();
    const int64_t minSlot = q.slotOfColumn.min().item<int>(), maxSlot = q.slotOfColumn.max().item<int>();
    if (minSlot < 0 || maxSlot >= groups)
        throw Error("GPTQ g_idx refers to a group that does not exist");
    q.slotBits.assign(size_t(groups), bits);
    q.groupSize = m.groupSize;
    q.dequant = q.dequantize();
    return q;
}

} // namespace mpq::detail
