#include "eval/detail/WindowRunner.h"

#include <algorithm>

namespace mpq::eval::detail {

namespace {

/// Token ids of windows [i, j) (all of one length) as a [B, T] tensor.
at::Tensor idsOf(const std::vector<Window>& windows, size_t i, size_t j)
{
    const int64_t B = int64_t(j - i), T = int64_t(windows[i].ids.size());
    at::Tensor ids = at::empty({B, T}, at::TensorOptions().dtype(at::kLong));
    auto acc = ids.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            acc[b][t] = windows[i + size_t(b)].ids[size_t(t)];
    return ids;
}

/// Adds a batch's NLL [B, T-1] (column t-1 predicts token t) over its scored tokens, and each
/// window's mean (windows [i, j) of `windows.size()`).
void addBatch(NllSums& sums, const at::Tensor& nll, const std::vector<Window>& windows, size_t i, size_t j)
{
    const int64_t first = windows[i].firstScored;
    const int64_t T = int64_t(windows[i].ids.size());
    const at::Tensor scored = nll.slice(1, first - 1).to(at::kDouble);
    sums.nll += scored.sum().item<double>(); // the total exactly as before: one sum per batch
    sums.tokens += int64_t(j - i) * (T - first);
    sums.windowMeanNll.resize(windows.size());
    const at::Tensor perWindow = scored.mean(1).cpu();
    for (size_t b = 0; b < j - i; ++b)
        sums.windowMeanNll[i + b] = perWindow[int64_t(b)].item<double>();
}

} // namespace

int64_t automaticBatch(const ModelConfig& c, int64_t T, const at::Device& device)
{
    // fp32 log-probabilities dominate memory: keep them near 2 GiB on a GPU.
    return device.is_cpu() ? 1 : std::max<int64_t>(1, (int64_t(2) << 30) / (T * c.vocabSize * 4));
}

std::vector<std::pair<size_t, size_t>> batchRanges(const std::vector<Window>& windows, size_t begin, size_t end,
                                                   int64_t maxBatch)
{
    std::vector<std::pair<size_t, size_t>> out;
    size_t i = begin;
    while (i < end) {
        size_t j = i;
        while (j < end && int64_t(j - i) < maxBatch && windows[j].ids.size() == windows[i].ids.size() &&
               windows[j].firstScored == windows[i].firstScored)
            ++j;
        out.emplace_back(i, j);
        i = j;
    }
    return out;
}

NllSums runWindows(const mpq::detail::LlamaModel& model, const std::vector<Window>& windows,
                   int64_t batchSize, JobContext& ctx)
{
    int64_t totalTokens = 0;
    for (const auto& w : windows)
        totalTokens += int64_t(w.ids.size());

    NllSums sums;
    int64_t doneTokens = 0;
    size_t i = 0;
    ctx.report(0, totalTokens, "tokens");
    while (i < windows.size()) {
        ctx.checkCancelled();
        const int64_t T = int64_t(windows[i].ids.size());
        const int64_t maxBatch = batchSize > 0 ? batchSize : automaticBatch(model.config(), T, model.device());
        const size_t j = batchRanges(windows, i, windows.size(), maxBatch).front().second;
        const at::Tensor nll = model.tokenNll(idsOf(windows, i, j)); // [B, T-1]
        addBatch(sums, nll, windows, i, j);
        doneTokens += int64_t(j - i) * T;
        ctx.report(doneTokens, totalTokens, "tokens");
        i = j;
    }
    return sums;
}

NllSums runWindowsStreamed(const ModelConfig& c, const StreamedWeights& weights, const at::Device& device,
                           const std::vector<Window>& windows, const StreamedLayout& layout, JobContext& ctx)
{
    size_t longest = 0;
    for (const auto& w : windows)
        longest = std::max(longest, w.ids.size());
    const mpq::detail::Rope rope = mpq::detail::modelRope(c, int64_t(longest), device);
    const at::Device store = layout.hiddenOnHost ? at::Device(at::kCPU) : device;
    const size_t perPass = layout.windowsPerPass > 0 ? size_t(layout.windowsPerPass) : windows.size();
    const int64_t passes = int64_t((windows.size() + perPass - 1) / perPass);
    const int64_t steps = passes * (c.numLayers + 2);

    NllSums sums;
    int64_t step = 0;
    ctx.report(0, steps, "layers", "streaming");
    for (size_t p0 = 0; p0 < windows.size(); p0 += perPass) {
        const size_t p1 = std::min(windows.size(), p0 + perPass);
        const auto ranges = batchRanges(windows, p0, p1, layout.batch);
        std::vector<at::Tensor> hidden;
        {
            ctx.checkCancelled();
            const at::Tensor embed = weights.embedding();
            for (const auto& [i, j] : ranges)
                hidden.push_back(at::embedding(embed, idsOf(windows, i, j).to(device)).to(store));
            ctx.report(++step, steps, "layers", "embedding");
        }
        for (int64_t l = 0; l < c.numLayers; ++l) {
            ctx.checkCancelled();
            const mpq::detail::LayerWeights w = weights.layer(l);
            for (auto& h : hidden)
                h = mpq::detail::decoderLayer(c, w, h.to(device), rope).to(store);
            ctx.report(++step, steps, "layers", "layer " + std::to_string(l + 1) + "/" + std::to_string(c.numLayers));
        }
        ctx.checkCancelled();
        const auto [norm, lmHead] = weights.head();
        for (size_t r = 0; r < ranges.size(); ++r) {
            const auto [i, j] = ranges[r];
            const at::Tensor nll = mpq::detail::nllFromHidden(c, norm, lmHead, hidden[r].to(device), idsOf(windows, i, j));
            addBatch(sums, nll, windows, i, j);
            hidden[r] = at::Tensor();
        }
        ctx.report(++step, steps, "layers", "head");
    }
    return sums;
}

} // namespace mpq::eval::detail
