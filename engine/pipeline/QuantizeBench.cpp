#include "pipeline/QuantizeBench.h"

#include "core/Error.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "pipeline/detail/Sequential.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <chrono>

namespace mpq {

SyntheticModelSpec SyntheticModelSpec::preset(const std::string& name)
{
    SyntheticModelSpec s;
    if (name == "llama-7b")
        return s;
    if (name == "llama-70b") { // issue 14: LLaMA-2/3-70B's shape (grouped-query attention, 8 KV heads)
        s.layers = 80;
        s.hidden = 8192;
        s.intermediate = 28672;
        s.heads = 64;
        s.kvHeads = 8;
        s.vocab = 128256;
        return s;
    }
    if (name == "tiny") {
        s.layers = 2;
        s.hidden = 256;
        s.intermediate = 688;
        s.heads = 4;
        s.kvHeads = 4;
        s.vocab = 1000;
        return s;
    }
    throw Error("unknown synthetic preset \"" + name + "\" (llama-7b, llama-70b or tiny)");
}

namespace {

/// Weights ~ N(0, 0.02²) (LLaMA's initialiser), norms = 1, generated where they are used.
class SyntheticLayers : public detail::LayerProvider {
public:
    explicit SyntheticLayers(const SyntheticModelSpec& s)
    {
        m_config.hiddenSize = s.hidden;
        m_config.intermediateSize = s.intermediate;
        m_config.numLayers = s.layers;
        m_config.numHeads = s.heads;
        m_config.numKvHeads = s.kvHeads;
        m_config.headDim = s.hidden / s.heads;
        m_config.vocabSize = s.vocab;
        m_config.maxPositions = 4096;
        m_config.validate("synthetic model");
        m_seed = s.seed;
    }
    const ModelConfig& config() const override { return m_config; }
    at::Tensor embedding(at::ScalarType dtype, const at::Device& device) override
    {
        at::manual_seed(m_seed);
        return (at::randn({m_config.vocabSize, m_config.hiddenSize}, at::TensorOptions().device(device)) * 0.02)
            .to(dtype);
    }
    detail::LayerWeights layer(int64_t i, at::ScalarType dtype, const at::Device& device) override
    {
        at::manual_seed(m_seed + 1 + uint64_t(i));
        const auto opt = at::TensorOptions().device(device);
        detail::LayerWeights w;
        w.layer = i;
        w.inputNorm = at::ones({m_config.hiddenSize}, opt).to(dtype);
        w.postNorm = at::ones({m_config.hiddenSize}, opt).to(dtype);
        for (const llama::LinearSpec& s : llama::layerLinears(m_config, i))
            w.weight(s) = (at::randn({s.rows, s.cols}, opt) * 0.02).to(dtype);
        return w;
    }

private:
    ModelConfig m_config;
    uint64_t m_seed = 0;
};

} // namespace

QuantizeReport benchmarkQuantization(const SyntheticModelSpec& spec, const QuantizeParams& p, JobContext& ctx)
{
    const auto t0 = std::chrono::steady_clock::now();
    checkDevice(p.device);
    SyntheticLayers provider(spec);
    const AllocationPlan plan = p.plan ? *p.plan
                                       : AllocationPlan::uniform(provider.config(), p.bits, p.groupSize, p.method);
    at::Generator gen = at::detail::createCPUGenerator(spec.seed);
    const at::Tensor ids = at::randint(spec.vocab, {p.nsamples, p.seqlen}, gen, at::TensorOptions().dtype(at::kLong));
    std::vector<std::vector<int32_t>> windows(size_t(p.nsamples));
    auto acc = ids.accessor<int64_t, 2>();
    for (int64_t i = 0; i < p.nsamples; ++i)
        for (int64_t t = 0; t < p.seqlen; ++t)
            windows[size_t(i)].push_back(int32_t(acc[i][t]));

    c10::InferenceMode guard;
    const at::Device device = detail::torchDevice(p.device);
    detail::releaseCachedMemory(device);
    detail::resetPeakDeviceBytes(device);
    QuantizeReport report;
    report.deviceName = deviceDescription(p.device);
    // MG-PTQ and its baselines; null for plain GPTQ
    const auto allocator =
        detail::makeColumnAllocator(p.allocator, p.mgptq, p.symmetric, p.actOrder, p.staticGroups);
    detail::runSequential(provider, windows, plan, p, ctx, {}, report, allocator.get());
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.warnings = ctx.warnings();
    return report;
}

} // namespace mpq
