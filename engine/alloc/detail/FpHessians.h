#pragma once

#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/LayerHessians.h"
#include "model/detail/LlamaModel.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace mpq::detail {

/// Calibration Hessians H = (2/N)·Σ x xᵀ of every linear's input in the UNQUANTIZED model, one
/// decoder layer at a time: MXQ's data-aware cost (an extension; docs/mxq.md) chooses all
/// configurations before any weight changes, so its Hessians come from the full-precision
/// activations, not from GPTQ's sequential protocol. Layers must be asked for in ascending
/// order (the pass keeps one layer's activations, [windows, tokens, hidden] on the device).
/// Not thread-safe. Throws mpq::Error on a bad model or device.
class FpHessianPass {
public:
    FpHessianPass(const ModelSource& source, const std::vector<std::vector<int32_t>>& windows,
                  const at::Device& device, at::ScalarType activations, int64_t batch);
    /// H [in, in] fp32 on the device of the input of `linear` in decoder layer `layer`.
    at::Tensor operator()(int64_t layer, const llama::LinearSpec& linear);

private:
    void advanceTo(int64_t layer);

    const ModelSource& m_source;
    at::Device m_device;
    at::ScalarType m_act;
    int64_t m_batch;
    int64_t m_tokens = 0;
    Rope m_rope;
    at::Tensor m_hidden;   ///< inputs of layer m_layer
    int64_t m_layer = -1;  ///< the layer whose Hessians are in m_hessians
    std::map<int, HessianSite> m_hessians; ///< by llama::hessianGroup
};

} // namespace mpq::detail
