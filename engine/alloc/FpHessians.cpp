#include "alloc/detail/FpHessians.h"

#include "core/Error.h"
#include "core/detail/TorchDevice.h"
#include "model/detail/WeightLoader.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>

namespace mpq::detail {

namespace {

/// Index of the true-sequential group of `l` (LlamaArch's table: q/k/v, o, gate/up, down); the
/// linears of a group share one input, hence one Hessian.
size_t groupOf(llama::Linear l)
{
    const auto& groups = llama::trueSequentialGroups();
    for (size_t g = 0; g < groups.size(); ++g)
        if (std::find(groups[g].begin(), groups[g].end(), l) != groups[g].end())
            return g;
    throw Error(std::string("calibration Hessians: ") + llama::linearName(l) + " is in no group");
}

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
    const int64_t n = m_hidden.size(0);
    while (m_layer < layer) {
        const int64_t next = m_layer + 1;
        const LayerWeights w = loadLayer(m_source, next, m_act, m_device);
        // One pass per batch: every group's input feeds its Hessian (observer returns true so
        // the layer runs to the end), and the outputs become the next layer's inputs.
        // Layers before the one asked for (firstLayer > 0) only need their outputs.
        const bool wanted = next == layer;
        std::vector<at::Tensor> H(llama::trueSequentialGroups().size());
        const Tf32Scope tf32(m_device.is_cuda() && m_act != at::kFloat);
        at::Tensor out = at::empty_like(m_hidden);
        for (int64_t b0 = 0; b0 < n; b0 += m_batch) {
            const int64_t b1 = std::min(n, b0 + m_batch);
            out.slice(0, b0, b1).copy_(decoderLayer(cfg, w, m_hidden.slice(0, b0, b1), m_rope,
                                                    [&](llama::Linear first, const at::Tensor& input) {
                if (!wanted)
                    return true;
                const at::Tensor flat = input.reshape({-1, input.size(-1)}).to(at::kFloat);
                at::Tensor& h = H[groupOf(first)];
                if (!h.defined())
                    h = at::zeros({flat.size(1), flat.size(1)}, flat.options());
                h.addmm_(flat.t(), flat);
                return true;
            }));
        }
        for (auto& h : H)
            if (h.defined())
                h.mul_(2.0 / double(n * m_tokens)); // H = (2/N) Σ x xᵀ, as GPTQ's
        m_hessians = std::move(H);
        m_hidden = std::move(out);
        m_layer = next;
    }
}

at::Tensor FpHessianPass::operator()(int64_t layer, llama::Linear linear)
{
    advanceTo(layer);
    return m_hessians[groupOf(linear)];
}

} // namespace mpq::detail
