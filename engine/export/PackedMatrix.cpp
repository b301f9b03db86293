// One matrix of the mpq-packed format: permutation to width-contiguous columns, dense bit packing.
#include "export/detail/BitPack.h"
#include "export/detail/ExportFolder.h"
#include "export/detail/PackedFormat.h"

#include "core/Error.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace mpq::detail {

namespace {

std::string codesKey(int bits) { return "codes_b" + std::to_string(bits); }

at::Tensor int32Tensor(const std::vector<int32_t>& v)
{
    return at::tensor(v, at::TensorOptions().dtype(at::kInt));
}

} // namespace

void addPackedMatrix(SafetensorsWriter& w, const std::string& name, const QuantizedWeight& q)
{
    const at::Tensor codes = q.codes.to(at::kByte).cpu().contiguous();
    const at::Tensor slots = q.slotOfColumn.to(at::kInt).cpu().contiguous();
    const int64_t rows = codes.size(0), cols = codes.size(1);
    const int32_t* slot = slots.data_ptr<int32_t>();

    std::vector<uint8_t> columnBits(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j)
        columnBits[size_t(j)] = uint8_t(q.slotBits.at(size_t(slot[j])));
    std::vector<int32_t> perm(static_cast<size_t>(cols));
    std::iota(perm.begin(), perm.end(), 0);
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int32_t a, int32_t b) { return columnBits[size_t(a)] < columnBits[size_t(b)]; });

    const uint8_t* c = codes.data_ptr<uint8_t>();
    std::vector<uint8_t> rowValues;
    for (int64_t start = 0; start < cols;) {
        const int bits = columnBits[size_t(perm[size_t(start)])];
        int64_t end = start;
        while (end < cols && columnBits[size_t(perm[size_t(end)])] == bits)
            ++end;
        const int64_t n = end - start, words = packedWords(n, bits);
        at::Tensor packed = at::zeros({rows, words}, at::TensorOptions().dtype(at::kInt));
        auto* out = reinterpret_cast<uint32_t*>(packed.data_ptr<int32_t>());
        rowValues.resize(size_t(n));
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t k = 0; k < n; ++k) {
                const uint8_t v = c[r * cols + perm[size_t(start + k)]];
                if (v >> bits)
                    throw Error(name + ": code " + std::to_string(v) + " at row " + std::to_string(r) + ", column " +
                                std::to_string(perm[size_t(start + k)]) + " does not fit its " +
                                std::to_string(bits) + "-bit width");
                rowValues[size_t(k)] = v;
            }
            packBits(rowValues.data(), n, 1, bits, out + r * words, 1);
        }
        w.add(name + "." + codesKey(bits), "I32", {rows, words}, tensorBytes(packed));
        start = end;
    }
    w.add(name + ".perm", "I32", {cols}, tensorBytes(int32Tensor(perm)));
    w.add(name + ".column_bits", "U8", {cols},
          std::string(reinterpret_cast<const char*>(columnBits.data()), columnBits.size()));
    w.add(name + ".slot_of_column", "I32", {cols}, tensorBytes(slots));
    w.add(name + ".slot_bits", "I32", {int64_t(q.slotBits.size())},
          tensorBytes(int32Tensor(std::vector<int32_t>(q.slotBits.begin(), q.slotBits.end()))));
    w.add(name + ".scales", "F32", q.scales.sizes().vec(), tensorBytes(q.scales.to(at::kFloat)));
    w.add(name + ".zeros", "F32", q.zeros.sizes().vec(), tensorBytes(q.zeros.to(at::kFloat)));
}

QuantizedWeight readPackedMatrix(const std::map<std::string, at::Tensor>& parts, const std::string& name,
                                 const std::string& file)
{
    const std::string where = file + ": matrix " + name;
    auto part = [&](const std::string& key, at::ScalarType type) -> at::Tensor {
        const auto it = parts.find(key);
        if (it == parts.end())
            throw Error(where + " lacks its " + key);
        if (it->second.scalar_type() != type)
            throw Error(where + ": " + key + " has the wrong dtype");
        return it->second.contiguous();
    };
    const at::Tensor perm = part("perm", at::kInt);
    const at::Tensor columnBits = part("column_bits", at::kByte);
    QuantizedWeight q;
    q.slotOfColumn = part("slot_of_column", at::kInt);
    const at::Tensor slotBits = part("slot_bits", at::kInt);
    q.scales = part("scales", at::kFloat);
    q.zeros = part("zeros", at::kFloat);
    q.slotBits.assign(slotBits.data_ptr<int32_t>(), slotBits.data_ptr<int32_t>() + slotBits.numel());

    const int64_t cols = perm.numel(), slots = int64_t(q.slotBits.size());
    if (q.scales.dim() != 2 || q.zeros.sizes() != q.scales.sizes() || q.scales.size(1) != slots ||
        columnBits.numel() != cols || q.slotOfColumn.numel() != cols)
        throw Error(where + " has inconsistent shapes");
    const int64_t rows = q.scales.size(0);
    for (int b : q.slotBits)
        if (b < 1 || b > 8)
            throw Error(where + ": slot bit-width " + std::to_string(b) + " outside 1..8");
    const int32_t* p = perm.data_ptr<int32_t>();
    const uint8_t* bitsOf = columnBits.data_ptr<uint8_t>();
    const int32_t* slot = q.slotOfColumn.data_ptr<int32_t>();
    std::vector<char> seen(size_t(cols), 0);
    for (int64_t k = 0; k < cols; ++k) {
        if (p[k] < 0 || p[k] >= cols || seen[size_t(p[k])]++)
            throw Error(where + ": perm is not a permutation of the columns");
        if (slot[k] < 0 || slot[k] >= slots)
            throw Error(where + " refers to a slot that does not exist");
        if (bitsOf[k] != q.slotBits[size_t(slot[k])])
            throw Error(where + ": column_bits disagrees with slot_bits at column " + std::to_string(k));
    }

    q.codes = at::zeros({rows, cols}, at::TensorOptions().dtype(at::kByte));
    uint8_t* codes = q.codes.data_ptr<uint8_t>();
    std::vector<uint8_t> rowValues;
    size_t blocks = 0;
    for (int64_t start = 0; start < cols;) {
        const int bits = bitsOf[p[start]];
        int64_t end = start;
        while (end < cols && bitsOf[p[end]] == bits)
            ++end;
        const int64_t n = end - start, words = packedWords(n, bits);
        const at::Tensor packed = part(codesKey(bits), at::kInt);
        if (packed.dim() != 2 || packed.size(0) != rows || packed.size(1) != words)
            throw Error(where + ": " + codesKey(bits) + " has shape " + c10::str(packed.sizes()) + ", expected [" +
                        std::to_string(rows) + ", " + std::to_string(words) + "]");
        const auto* in = reinterpret_cast<const uint32_t*>(packed.data_ptr<int32_t>());
        rowValues.resize(size_t(n));
        for (int64_t r = 0; r < rows; ++r) {
            unpackBits(in + r * words, 1, n, bits, rowValues.data(), 1);
            for (int64_t k = 0; k < n; ++k)
                codes[r * cols + p[start + k]] = rowValues[size_t(k)];
        }
        ++blocks;
        start = end;
    }
    size_t codeEntries = 0;
    for (const auto& [key, t] : parts)
        codeEntries += key.rfind("codes_b", 0) == 0;
    if (codeEntries != blocks)
        throw Error(where + ": perm does not keep each bit-width's columns contiguous (" +
                    std::to_string(codeEntries) + " code blocks stored, " + std::to_string(blocks) + " found)");
    q.dequant = q.dequantize();
    return q;
}

} // namespace mpq::detail
