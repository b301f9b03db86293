#include "model/detail/LayerHessians.h"

#include "core/detail/TorchDevice.h"

#include <algorithm>
#include <vector>

namespace mpq::detail {

namespace {

/// H += aᵀ a. On CUDA, half-precision activations go to the tensor cores as they are, with the
/// products summed in fp32 straight into H: the same arithmetic as converting them to fp32 and
/// multiplying in TF32 (a bf16 or fp16 value is exact in TF32, every product is exact, the sums
/// are fp32), at twice the tensor-core rate and without the fp32 copy of each window.
void addGram(at::Tensor& H, const at::Tensor& a)
{
    if (halfProductInFloat(a)) {
        addHalfProduct(H, a.t(), a);
        return;
    }
    const at::Tensor f = a.to(at::kFloat);
    H.addmm_(f.t(), f);
}

void accumulate(HessianSite& site, const at::Tensor& x)
{
    if (x.numel() == 0)
        return;
    if (x.dim() == 3) {
        // One product per calibration window, in window order: H is then the same whatever the
        // batch (windows per forward pass), so a memory limit that shrinks the batch does not
        // change the result (docs/streaming.md). Each product still sums over a whole window.
        for (int64_t b = 0; b < x.size(0); ++b) {
            const at::Tensor window = x[b];
            addGram(site.H, window);
            site.tokens += window.size(0);
        }
        return;
    }
    const at::Tensor flat = x.reshape({-1, x.size(-1)}); // a routed expert's rows
    addGram(site.H, flat);
    site.tokens += flat.size(0);
}

} // namespace

std::map<int, HessianSite> collectHessians(const ModelConfig& c, const LayerWeights& w, const at::Tensor& inputs,
                                           const Rope& rope, const WantedHessians& wanted, int64_t batch,
                                           int64_t expertMinTokens, const llama::Stage* stopAfter, at::Tensor* outputs)
{
    std::map<int, HessianSite> sites;
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(inputs.device());
    for (const auto& [group, cols] : wanted)
        sites[group].H = at::zeros({cols, cols}, f32);
    const int64_t n = inputs.size(0);
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t b1 = std::min(n, b0 + batch);
        const at::Tensor out = decoderLayer(c, w, inputs.slice(0, b0, b1), rope, [&](const LinearInput& in) {
            if (in.expert != llama::kAllTokens) {
                auto it = sites.find(llama::hessianGroup(in.stage, in.expert));
                if (it != sites.end())
                    accumulate(it->second, in.x);
            }
            return !(stopAfter && in.stage == *stopAfter);
        });
        if (outputs && outputs->defined() && out.defined())
            outputs->slice(0, b0, b1).copy_(out);
    }

    // Experts the router starved: their Hessian from every token instead.
    std::vector<int> starved;
    for (auto& [group, site] : sites) {
        if (group < 4)
            continue;
        site.routed = site.tokens;
        site.source = "routed";
        if (site.tokens < std::max<int64_t>(1, expertMinTokens))
            starved.push_back(group);
    }
    if (!starved.empty()) {
        for (int g : starved) {
            sites[g].H.zero_();
            sites[g].tokens = 0;
            sites[g].source = "all-tokens";
        }
        const llama::Stage input = llama::Stage::MlpInput;
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
            const int64_t b1 = std::min(n, b0 + batch);
            decoderLayer(c, w, inputs.slice(0, b0, b1), rope, [&](const LinearInput& in) {
                if (in.stage != input)
                    return true;
                if (in.expert != llama::kAllTokens)
                    return false;
                for (int g : starved) {
                    const int expert = (g - 4) / 2;
                    const bool down = (g - 4) % 2 == 1;
                    if (!down) {
                        accumulate(sites[g], in.x);
                        continue;
                    }
                    const MlpWeights& m = w.experts.at(size_t(expert));
                    const at::Tensor act = detail::silu(applyLinear(in.x, m.gate, m.gateBias)) * applyLinear(in.x, m.up, m.upBias);
                    accumulate(sites[g], act);
                }
                return false;
            });
        }
    }
    for (auto& [group, site] : sites)
        if (site.tokens > 0)
            site.H.mul_(2.0 / double(site.tokens)); // H = (2/N) Σ x xᵀ, as GPTQ's
    return sites;
}

} // namespace mpq::detail
