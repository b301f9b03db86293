#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpq::ggml {

/// llama.cpp's tensor types that the GGUF export writes (numbers are ggml's `ggml_type`, as stored
/// in GGUF files). docs/gguf.md describes each block layout.
enum class Type : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
};

struct TypeInfo {
    Type type;
    const char* name;      ///< ggml's name, "Q4_K"
    int blockSize;         ///< weights per block (32 or 256; 1 for F16/F32)
    int blockBytes;        ///< bytes per block
    int codeBits;          ///< nominal bits of one code (16/32 for the float types)
    int subBlock;          ///< weights sharing one scale (16 or 32; the block for legacy types)
};

/// Every type above, in ggml's numbering order.
const std::vector<TypeInfo>& allTypes();
const TypeInfo& info(Type t);
const char* typeName(Type t);
/// Case-insensitive ("q4_k", "Q4_K"); nullopt when unknown.
std::optional<Type> typeFromName(const std::string& name);
/// Storage bits per weight: blockBytes·8 / blockSize (Q4_K: 4.5, Q6_K: 6.5625).
double bitsPerWeight(Type t);
/// Whether a row of `cols` weights can be stored in `t` (cols divisible by the block size).
bool fitsRow(Type t, int64_t cols);
/// Bytes of one row of `cols` weights (cols must fit).
int64_t rowBytes(Type t, int64_t cols);

/// IEEE half precision, round to nearest even (ggml's GGML_FP32_TO_FP16 / _TO_FP32).
uint16_t fp32ToFp16(float f);
float fp16ToFp32(uint16_t h);

/// Quantizes a row-major [rows, cols] fp32 matrix to ggml blocks, row after row, exactly as
/// ggml's `ggml_quantize_chunk` does: with `importance` (cols values, llama.cpp's imatrix) the
/// importance-weighted `quantize_row_*_impl` searches, without it the reference
/// `quantize_row_*_ref` (Q8_0, F16 and F32 ignore the importance, as ggml does). The result is
/// bit-identical to ggml's scalar code compiled without floating-point contraction.
/// Throws mpq::Error when cols does not fit the type. Thread-safe (no shared state).
std::vector<uint8_t> quantize(Type t, const float* x, int64_t rows, int64_t cols, const float* importance);

/// ggml's dequantize_row_* (fp32 arithmetic in ggml's order) into out[rows·cols].
void dequantize(Type t, const uint8_t* data, int64_t rows, int64_t cols, float* out);

/// A quantized matrix unpacked into per-weight codes and per-sub-block affine parameters:
///     Ŵ[r, j] = mul[r, s]·(code[r, j] − offset) − sub[r, s],   s = j / subBlock,
/// which reproduces `dequantize` bit for bit (the same float operations in the same order).
struct Unpacked {
    int64_t rows = 0, cols = 0;
    int subBlock = 32;
    int offset = 0;              ///< the type's integer zero (Q4_0: 8, Q6_K: 32, Q8_0: 128, …)
    int codeBits = 4;
    std::vector<uint8_t> codes;  ///< [rows, cols], 0 ≤ code < 2^codeBits
    std::vector<float> mul, sub; ///< [rows, cols/subBlock]
};
/// Throws mpq::Error for F16/F32 (not block-quantized) or a size mismatch.
Unpacked unpack(Type t, const uint8_t* data, int64_t rows, int64_t cols);

} // namespace mpq::ggml
