#pragma once

#include "model/detail/LlamaModel.h"

#include <map>
#include <string>

namespace mpq::detail {

/// The Hessian of one group of linears sharing an input: H = (2/N) Σ x xᵀ (GPTQ's) in fp32.
struct HessianSite {
    at::Tensor H;
    int64_t tokens = 0;  ///< N: tokens summed into H
    int64_t routed = -1; ///< a routed expert: tokens the router sent to it (-1 for other groups)
    std::string source;  ///< "" (every calibration token), "routed", or "all-tokens" (an expert's fallback)
};

/// What to collect: the Hessian groups (llama::hessianGroup) wanted, each with its input width.
using WantedHessians = std::map<int, int64_t>;

/// Runs decoder layer `w` on `inputs` [n, T, hidden] in batches of `batch` windows and collects the
/// wanted Hessians of the linears' inputs. A routed expert's Hessian comes from the tokens routed
/// to it; when fewer than `expertMinTokens` were, it comes from every token as if all were routed to
/// it (the MoE block's input for gate/up, the expert's own activations on it for down), recorded
/// as "all-tokens". When `stopAfter` is given, the layer is only run up to that stage; otherwise
/// it runs to the end and its outputs are written to `outputs` (same shape as inputs) if defined.
std::map<int, HessianSite> collectHessians(const ModelConfig& c, const LayerWeights& w, const at::Tensor& inputs,
                                           const Rope& rope, const WantedHessians& wanted, int64_t batch,
                                           int64_t expertMinTokens, const llama::Stage* stopAfter,
                                           at::Tensor* outputs = nullptr);

} // namespace mpq::detail
