#include "quant/detail/QuantizedWeight.h"

namespace mpq::detail {

at::Tensor QuantizedWeight::dequantize() const
{
    const at::Tensor slots = slotOfColumn.to(at::kLong).to(codes.device());
    const at::Tensor s = scales.index_select(1, slots);
    const at::Tensor z = zeros.index_select(1, slots);
    return s * (codes.to(at::kFloat) - z);
}

double QuantizedWeight::codeBits() const
{
    const at::Tensor slots = slotOfColumn.to(at::kLong).cpu();
    const auto* p = slots.data_ptr<int64_t>();
    double sum = 0;
    for (int64_t j = 0; j < slots.numel(); ++j)
        sum += slotBits[static_cast<size_t>(p[j])];
    return slots.numel() ? sum / double(slots.numel()) : 0.0;
}

double QuantizedWeight::bitsWithOverhead(bool symmetric) const
{
    const int64_t cols = slotOfColumn.numel();
    double overhead = 0; // bits per row
    for (int b : slotBits)
        overhead += 16.0 + (symmetric ? 0.0 : double(b));
    return codeBits() + (cols ? overhead / double(cols) : 0.0);
}

} // namespace mpq::detail
