#include "alloc/mgptq/detail/MgptqModel.h"

#include <torch/torch.h>

#include <cmath>

namespace mpq::detail {

GcnLayerImpl::GcnLayerImpl(const GcnLayerOptions& options_) : options(options_)
{
    reset();
}

void GcnLayerImpl::reset()
{
    linear = register_module("linear",
                             torch::nn::Linear(torch::nn::LinearOptions(options.in(), options.out()).bias(options.bias())));
}

at::Tensor GcnLayerImpl::forward(const at::Tensor& X, const HessianGraph* graph)
{
    const at::Tensor XW = at::matmul(X, linear->weight.t());
    at::Tensor out = graph ? graph->propagate(XW) : XW; // Â X W
    if (options.bias())
        out = out + linear->bias;
    return out;
}

MgptqNetImpl::MgptqNetImpl(const MgptqNetOptions& options_) : options(options_)
{
    gc1 = register_module("gc1", GcnLayer(GcnLayerOptions(options.in(), options.hidden())));
    gc2 = register_module("gc2", GcnLayer(GcnLayerOptions(options.hidden(), options.hidden())));
    // With `skip` the allocator head also sees each node's own input features (docs/mgptq.md:
    // without it two rounds of dense propagation can average the columns into near-identical
    // logits, so that the argmax collapses to one width).
    const int64_t headIn = options.hidden() + (options.skip() ? options.in() : 0);
    fc1 = register_module("fc1", torch::nn::Linear(headIn, options.hidden()));
    fc2 = register_module("fc2", torch::nn::Linear(options.hidden(), options.candidates()));
}

at::Tensor MgptqNetImpl::forward(const at::Tensor& X, const HessianGraph& graph)
{
    const HessianGraph* g = options.useGraph() ? &graph : nullptr;
    at::Tensor h = torch::relu(gc1->forward(X, g)); // σ(Â X W1)
    h = torch::relu(gc2->forward(h, g));            // σ(Â H1 W2)
    if (options.skip())
        h = at::cat({h, X}, 1); // [H2 ‖ X]
    return fc2->forward(torch::relu(fc1->forward(h)));
}

void MgptqNetImpl::initialize(at::Generator generator)
{
    torch::NoGradGuard noGrad;
    auto init = [&](at::Tensor w, at::Tensor b, int64_t fanIn) {
        const double bound = 1.0 / std::sqrt(double(fanIn));
        w.copy_(at::empty(w.sizes(), at::kFloat).uniform_(-bound, bound, generator));
        if (b.defined())
            b.copy_(at::empty(b.sizes(), at::kFloat).uniform_(-bound, bound, generator));
    };
    for (torch::nn::Linear* l : {&gc1->linear, &gc2->linear, &fc1, &fc2})
        init((*l)->weight, (*l)->bias, (*l)->weight.size(1));
}

} // namespace mpq::detail
