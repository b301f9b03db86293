#pragma once

#include "core/JobContext.h"
#include "eval/Windows.h"
#include "model/detail/LlamaModel.h"

#include <functional>
#include <utility>
#include <vector>

namespace mpq::eval::detail {

struct NllSums {
    double nll = 0;     ///< summed over scored tokens, in fp64
    int64_t tokens = 0;
    /// Per window, in the order of the windows: its mean NLL over its scored tokens (fp64).
    std::vector<double> windowMeanNll;
};

/// The automatic batch (windows per forward pass) for windows of T tokens: 1 on the CPU; on a GPU
/// as many as keep the fp32 log-probabilities near 2 GiB.
int64_t automaticBatch(const ModelConfig& c, int64_t T, const at::Device& device);

/// Windows [begin, end) cut into forward passes: runs of equal-length windows with the same first
/// scored position, at most `maxBatch` each. Both runners batch this way, so they agree.
std::vector<std::pair<size_t, size_t>> batchRanges(const std::vector<Window>& windows, size_t begin, size_t end,
                                                   int64_t maxBatch);

/// Runs the windows through the model in batches of equal-length windows and sums the NLL of
/// the scored tokens. batchSize 0 picks automaticBatch(). Reports progress in tokens and checks
/// cancellation between batches.
NllSums runWindows(const mpq::detail::LlamaModel& model, const std::vector<Window>& windows,
                   int64_t batchSize, JobContext& ctx);

/// Where layer-streamed evaluation reads its weights, one part at a time (on the compute device,
/// in the compute dtype); each part is dropped before the next is read.
struct StreamedWeights {
    std::function<at::Tensor()> embedding;                           ///< [vocab, hidden]
    std::function<mpq::detail::LayerWeights(int64_t)> layer;         ///< one decoder layer
    std::function<std::pair<at::Tensor, at::Tensor>()> head;         ///< final norm, lm_head
};

/// How layer-streamed evaluation holds its windows.
struct StreamedLayout {
    int64_t batch = 1;           ///< windows per forward pass (> 0)
    int64_t windowsPerPass = 0;  ///< windows whose hidden states are held at once; 0: all
    bool hiddenOnHost = false;   ///< keep hidden states in host memory between layers (CUDA)
};

/// GPTQ's evaluation order (llama_eval): the embeddings of all windows of a pass, then each decoder
/// layer over all of them with only that layer's weights loaded, then the head. Same functions and
/// batches as runWindows(), so the same sums (bit for bit on one device). Progress in layers;
/// cancellation checked between layers.
NllSums runWindowsStreamed(const ModelConfig& c, const StreamedWeights& weights, const at::Device& device,
                           const std::vector<Window>& windows, const StreamedLayout& layout, JobContext& ctx);

} // namespace mpq::eval::detail
