#include "quant/detail/GgmlWeight.h"

#include "core/Error.h"

namespace mpq::detail {

GgmlQuantized ggmlQuantize(const at::Tensor& W, ggml::Type type, const std::vector<float>& importance)
{
    TORCH_CHECK(W.dim() == 2, "ggmlQuantize: W must be a matrix");
    GgmlQuantized q;
    q.type = type;
    q.rows = W.size(0);
    q.cols = W.size(1);
    if (!importance.empty() && int64_t(importance.size()) != q.cols)
        throw Error("ggml quantization: " + std::to_string(importance.size()) + " importance values for " +
                    std::to_string(q.cols) + " columns");
    const at::Tensor Wf = W.to(at::kCPU, at::kFloat).contiguous();
    q.bytes = ggml::quantize(type, Wf.data_ptr<float>(), q.rows, q.cols,
                             importance.empty() ? nullptr : importance.data());
    q.dequant = at::empty({q.rows, q.cols}, at::kFloat);
    ggml::dequantize(type, q.bytes.data(), q.rows, q.cols, q.dequant.data_ptr<float>());
    return q;
}

QuantizedWeight toQuantizedWeight(const GgmlQuantized& q)
{
    const ggml::Unpacked u = ggml::unpack(q.type, q.bytes.data(), q.rows, q.cols);
    const int64_t slots = q.cols / u.subBlock;
    QuantizedWeight w;
    w.codes = at::empty({q.rows, q.cols}, at::kByte);
    w.scales = at::empty({q.rows, slots}, at::kFloat);
    w.zeros = at::empty({q.rows, slots}, at::kFloat);
    w.slotOfColumn = at::arange(q.cols, at::kInt).div(u.subBlock, "floor").to(at::kInt);
    w.slotBits.assign(size_t(slots), u.codeBits);
    w.groupSize = u.subBlock;
    uint8_t* codes = w.codes.data_ptr<uint8_t>();
    float* scales = w.scales.data_ptr<float>();
    float* zeros = w.zeros.data_ptr<float>();
    std::copy(u.codes.begin(), u.codes.end(), codes);
    for (int64_t r = 0; r < q.rows; ++r)
        for (int64_t s = 0; s < slots; ++s) {
            const size_t i = size_t(r * slots + s);
            const float mul = u.mul[i], sub = u.sub[i];
            if (mul != 0.f) {
                // ggml: mul·(code − offset) − sub = mul·(code − (offset + sub/mul))
                scales[i] = mul;
                zeros[i] = float(u.offset) + sub / mul;
            } else {
                // Every weight of the sub-block is −sub: code 0, scale sub, zero 1 (exact).
                for (int64_t j = s * u.subBlock; j < (s + 1) * u.subBlock; ++j)
                    codes[r * q.cols + j] = 0;
                scales[i] = sub != 0.f ? sub : 1.f;
                zeros[i] = sub != 0.f ? 1.f : 0.f;
            }
        }
    w.dequant = q.dequant.clone();
    return w;
}

} // namespace mpq::detail
