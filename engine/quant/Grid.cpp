#include "quant/detail/Grid.h"

#include "core/Error.h"

#include <map>

namespace mpq::detail {

Grid fitGrid(const at::Tensor& x, int bits, bool symmetric)
{
    TORCH_CHECK(bits >= 1 && bits <= 8, "bit-width ", bits, " outside 1..8");
    const double maxq = double((1 << bits) - 1);
    const at::Tensor xf = x.to(at::kFloat);
    at::Tensor xmin = at::clamp_max(std::get<0>(xf.min(1, true)), 0.0);
    at::Tensor xmax = at::clamp_min(std::get<0>(xf.max(1, true)), 0.0);
    if (symmetric) {
        xmax = at::maximum(xmin.abs(), xmax);
        xmin = at::where(xmin < 0, -xmax, xmin);
    }
    const at::Tensor empty = (xmin == 0) & (xmax == 0);
    xmin = at::where(empty, at::full_like(xmin, -1.0), xmin);
    xmax = at::where(empty, at::full_like(xmax, 1.0), xmax);
    Grid g;
    g.bits = bits;
    g.scale = (xmax - xmin) / maxq;
    g.zero = symmetric ? at::full_like(g.scale, (maxq + 1) / 2) : at::round(-xmin / g.scale);
    return g;
}

at::Tensor quantizeToCodes(const at::Tensor& x, const Grid& g)
{
    return at::clamp(at::round(x / g.scale) + g.zero, 0.0, double((1 << g.bits) - 1));
}

at::Tensor dequantizeCodes(const at::Tensor& codes, const Grid& g)
{
    return g.scale * (codes - g.zero);
}

QuantizedWeight rtnQuantize(const at::Tensor& W, const at::Tensor& bits, const GridOptions& opt)
{
    const int64_t rows = W.size(0), cols = W.size(1);
    TORCH_CHECK(bits.numel() == cols, "one bit-width per column expected");
    const at::Tensor Wf = W.to(at::kFloat);
    const at::Tensor bitsCpu = bits.to(at::kInt).cpu().contiguous();
    const int* b = bitsCpu.data_ptr<int>();
    const int64_t g = opt.groupSize > 0 ? opt.groupSize : cols;

    QuantizedWeight q;
    q.groupSize = opt.groupSize;
    q.codes = at::empty({rows, cols}, Wf.options());
    at::Tensor slotOfColumn = at::empty({cols}, at::TensorOptions().dtype(at::kInt));
    int* slot = slotOfColumn.data_ptr<int>();
    std::vector<at::Tensor> scales, zeros;
    for (int64_t c0 = 0; c0 < cols; c0 += g) {
        const int64_t c1 = std::min(cols, c0 + g);
        std::map<int, std::vector<int64_t>> byBits;
        for (int64_t j = c0; j < c1; ++j)
            byBits[b[j]].push_back(j);
        for (const auto& [bw, idx] : byBits) {
            const at::Tensor index = at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(W.device());
            const at::Tensor x = Wf.index_select(1, index);
            const Grid grid = fitGrid(x, bw, opt.symmetric);
            q.codes.index_copy_(1, index, quantizeToCodes(x, grid));
            for (int64_t j : idx)
                slot[j] = int(q.slotBits.size());
            q.slotBits.push_back(bw);
            scales.push_back(grid.scale);
            zeros.push_back(grid.zero);
        }
    }
    q.scales = at::cat(scales, 1);
    q.zeros = at::cat(zeros, 1);
    q.slotOfColumn = slotOfColumn.to(W.device());
    q.codes = q.codes.to(at::kByte);
    q.dequant = q.dequantize();
    return q;
}

double outputError(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H)
{
    const at::Tensor d = (W.to(at::kDouble) - What.to(at::kDouble));
    return at::sum(at::matmul(d, H.to(at::kDouble)) * d).item<double>();
}

} // namespace mpq::detail
