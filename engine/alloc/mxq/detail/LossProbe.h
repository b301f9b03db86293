#pragma once

#include "core/JobContext.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace mpq::detail {

/// The end-to-end effect of one matrix's quantization error: the calibration windows' mean
/// next-token NLL (nats per token) of the full-precision model with only that matrix replaced,
/// minus the full-precision model's. Keeps every decoder layer's full-precision input for the
/// windows (fp32, [windows, tokens, hidden] per layer) and the full-precision layers resident, so
/// a probe of layer l runs layers l … L−1 and the head only. For MXQ's "sensitivity" cost
/// (docs/mxq.md); planLoss() measures a whole quantized model (the "probed" kind). Not thread-safe. Throws mpq::Error on bad windows or model.
class LossProbe {
public:
    /// planLoss's KL works on chunks of positions of at most this many logits (64 MiB in fp32).
    static constexpr int64_t kKlChunkElements = int64_t(1) << 24;

    LossProbe(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
              const at::Device& device, int64_t batch);
    /// Mean NLL of the unquantized model on the windows.
    double baseline() const { return m_baseline; }
    /// Mean NLL with the weight of `linear` in decoder layer `layer` replaced by `What` [out, in].
    double loss(int64_t layer, const llama::LinearSpec& linear, const at::Tensor& What) const;
    /// A replacement weight [out, in] for a linear, or an undefined tensor to keep it.
    using WeightOf = std::function<at::Tensor(int64_t layer, const llama::LinearSpec& linear)>;
    /// Mean NLL of a whole quantized model: every linear of every decoder layer replaced by
    /// weightOf(layer, linear) where that is defined, the windows run from the embedding (MXQ's
    /// "probed" kind measures plans with it). `ctx`, when given, is checked before each decoder
    /// layer of each batch (throws mpq::Cancelled). With `kl`, also the mean per predicted token
    /// of KL(unquantized ‖ quantized) between the two models' next-token distributions on the
    /// same positions (nats): how far the plan moves the model, whatever the text.
    double planLoss(const WeightOf& weightOf, const JobContext* ctx = nullptr, double* kl = nullptr) const;

private:
    double run(int64_t from, const LayerWeights& first) const;

    const ModelSource& m_source;
    at::Device m_device;
    int64_t m_batch;
    at::Tensor m_ids;                   ///< [windows, tokens]
    Rope m_rope;
    std::vector<LayerWeights> m_layers; ///< full precision, fp32 on the device
    std::vector<at::Tensor> m_inputs;   ///< m_inputs[l]: layer l's full-precision input
    at::Tensor m_final;                 ///< the last layer's full-precision output
    at::Tensor m_norm, m_head;
    double m_baseline = 0;
};

} // namespace mpq::detail
