#pragma once

// MG-PTQ's networks as LibTorch modules (Options/Impl/TORCH_MODULE). Only MG-PTQ's sources and
// its test include this header: it pulls in torch's nn headers.

#include "alloc/mgptq/detail/MgptqGraph.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace mpq::detail {

struct GcnLayerOptions {
    GcnLayerOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
    TORCH_ARG(int64_t, in);
    TORCH_ARG(int64_t, out);
    TORCH_ARG(bool, bias) = true;
};

/// One graph convolution Â X W (+ b), Kipf & Welling's layer without the activation. With no
/// graph it is a plain linear layer (the MLP ablation).
class GcnLayerImpl : public torch::nn::Module {
public:
    explicit GcnLayerImpl(const GcnLayerOptions& options);
    /// X [n, in] → [n, out]; Â(XW) + b, computed in that order (cheaper when out < in).
    at::Tensor forward(const at::Tensor& X, const HessianGraph* graph);
    void reset();

    GcnLayerOptions options;
    torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(GcnLayer);

struct MgptqNetOptions {
    MgptqNetOptions(int64_t in, int64_t hidden, int64_t candidates)
        : in_(in), hidden_(hidden), candidates_(candidates) {}
    TORCH_ARG(int64_t, in);
    TORCH_ARG(int64_t, hidden);
    TORCH_ARG(int64_t, candidates);
    TORCH_ARG(bool, useGraph) = true; ///< false: the MLP ablation (no Â)
    TORCH_ARG(bool, skip) = false;    ///< the head also sees X (skip connection; docs/mgptq.md)
};

/// MG-PTQ's allocator network: H1 = ReLU(Â X W1), H2 = ReLU(Â H1 W2) (the 2-layer GCN), then a
/// feed-forward allocator logits = W4 ReLU(W3 H2 + b3) + b4 (with options.skip: W3 [H2 ‖ X], a
/// skip connection of the node's own features) giving per node (column) one logit per candidate
/// bit-width; softmax over them is the column's bit-width distribution.
class MgptqNetImpl : public torch::nn::Module {
public:
    explicit MgptqNetImpl(const MgptqNetOptions& options);
    /// X [n, in] → logits [n, candidates]. `graph` is ignored when useGraph is false.
    at::Tensor forward(const at::Tensor& X, const HessianGraph& graph);
    /// Re-initialises every parameter from `generator` (CPU), PyTorch's default Linear init
    /// (U(±1/√fan_in)), so that training does not depend on torch's global seed.
    void initialize(at::Generator generator);

    MgptqNetOptions options;
    GcnLayer gc1{nullptr}, gc2{nullptr};
    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MgptqNet);

} // namespace mpq::detail
