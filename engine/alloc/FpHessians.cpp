#include "alloc/detail/FpHessians.h"

#include "core/Error.h"
#include "core/detail/TorchDevice.h"
#include "model/detail/WeightLoader.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>

namespace mpq::detail {

namespace {
/// Routed tokens below which an expert's Hessian comes from all tokens (QuantizeParams::expertMinTokens's default).
constexpr int64_t kExpertMinTokens = 64;
} // namespace

FpHessianPass::FpHessianPass(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
                             const at::Device& device, at::ScalarType activations, int64_t batch)
    : m_source(source), m_device(device), m_act(activations), m_batch(std::max<int64_t>(1, batch))
{
    if (windows.empty() || windows.front().empty())
        throw Error("calibration Hessians: no calibration windows");
    c10::InferenceMode guard;
    const int64_t n = int64_t(windows.size());
    m_tokens = int64_t(windows.front().size());
    at::Tensor ids = at::empty({n, m_tokens}, at::TensorOptions().dtype(at::kLong));
    auto acc = ids.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i) {
        if (int64_t(windows[size_t(i)].size()) != m_tokens)
            throw Error("calibration Hessians: windows of different lengths");
        for (int64_t t = 0; t < m_tokens; ++t)
            acc[i][t] = windows[size_t(i)][size_t(t)];
    }
    const at::Tensor embed = loadTensor(source, llama::embedTensor(), m_act, m_device);
    m_hidden = at::embedding(embed, ids.to(m_device));
    m_rope = Rope::build(source.config(), m_tokens, m_device);
}

void FpHessianPass::advanceTo(int64_t layer)
{
    if (layer < m_layer)
        throw Error("calibration Hessians: layer " + std::to_string(layer) + " asked for after layer " +
                    std::to_string(m_layer));
    c10::InferenceMode guard;
    const ModelConfig& cfg = m_source.config();
    while (m_layer < layer) {
        const int64_t next = m_layer + 1;
        const LayerWeights w = loadLayer(m_source, next, m_act, m_device);
        // One pass per batch: every group's input feeds its Hessian (the layer runs to the end),
        // and the outputs become the next layer's inputs. Layers before the one asked for
        // (firstLayer > 0) only need their outputs.
        WantedHessians wanted;
        if (next == layer)
            for (const llama::LinearSpec& s : llama::layerLinears(cfg, next))
                wanted[llama::hessianGroup(s)] = s.cols;
        const Tf32Scope tf32(m_device.is_cuda() && m_act != at::kFloat);
        at::Tensor out = at::empty_like(m_hidden);
        // Experts with few routed tokens get the all-token Hessian, as in the quantization pipeline's default.
        m_hessians = collectHessians(cfg, w, m_hidden, m_rope, wanted, m_batch, kExpertMinTokens,
                                     nullptr, &out);
        m_hidden = std::move(out);
        m_layer = next;
    }
}

at::Tensor FpHessianPass::operator()(int64_t layer, const llama::LinearSpec& linear)
{
    advanceTo(layer);
    const auto it = m_hessians.find(llama::hessianGroup(linear));
    return it == m_hessians.end() ? at::Tensor() : it->second.H;
}

} // namespace mpq::detail
