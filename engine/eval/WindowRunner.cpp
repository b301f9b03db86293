#include "eval/detail/WindowRunner.h"

#include <algorithm>

namespace mpq::eval::detail {

NllSums runWindows(const mpq::detail::LlamaModel& model, const std::vector<Window>& windows,
                   int64_t batchSize, JobContext& ctx)
{
    const auto& c = model.config();
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
        int64_t maxBatch = batchSize;
        if (maxBatch <= 0) {
            // fp32 log-probabilities dominate memory: keep them near 2 GiB on a GPU.
            maxBatch = model.device().is_cpu()
                           ? 1
                           : std::max<int64_t>(1, (int64_t(2) << 30) / (T * c.vocabSize * 4));
        }
        size_t j = i;
        while (j < windows.size() && int64_t(j - i) < maxBatch && int64_t(windows[j].ids.size()) == T &&
               windows[j].firstScored == windows[i].firstScored)
            ++j;
        const int64_t B = int64_t(j - i);
        at::Tensor ids = at::empty({B, T}, at::TensorOptions().dtype(at::kLong));
        auto acc = ids.accessor<int64_t, 2>();
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t)
                acc[b][t] = windows[i + size_t(b)].ids[size_t(t)];
        const at::Tensor nll = model.tokenNll(ids); // [B, T-1]; column t-1 predicts token t
        const int64_t first = windows[i].firstScored;
        sums.nll += nll.slice(1, first - 1).to(at::kDouble).sum().item<double>();
        sums.tokens += B * (T - first);
        doneTokens += B * T;
        ctx.report(doneTokens, totalTokens, "tokens");
        i = j;
    }
    return sums;
}

} // namespace mpq::eval::detail
