#include "eval/Bench.h"

#include "core/detail/TorchDevice.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>

namespace mpq {

ForwardBenchResult benchmarkForward(const ForwardBenchParams& p, JobContext& ctx)
{
    checkDevice(p.device);
    const ModelSource source = ModelSource::open(p.model);
    c10::InferenceMode guard;
    const at::Device device = detail::torchDevice(p.device);
    ForwardBenchResult r;
    r.deviceName = deviceDescription(p.device);

    ctx.start("load weights");
    auto t0 = std::chrono::steady_clock::now();
    const detail::LlamaModel model(source, device, detail::scalarType(p.dtype), &ctx);
    detail::synchronize(device);
    r.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const int64_t T = std::min(p.seqlen, source.config().maxPositions);
    at::Generator gen = at::detail::createCPUGenerator(1234);
    const at::Tensor ids = at::randint(source.config().vocabSize, {p.batchSize, T}, gen,
                                       at::TensorOptions().dtype(at::kLong));
    ctx.start("forward");
    for (int i = 0; i < p.warmup; ++i)
        (void)model.tokenNll(ids);
    detail::synchronize(device);
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < p.iterations; ++i) {
        ctx.checkCancelled();
        (void)model.tokenNll(ids).sum().item<float>();
        ctx.report(i + 1, p.iterations, "passes");
    }
    detail::synchronize(device);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.tokensPerIteration = p.batchSize * T;
    r.secondsPerIteration = elapsed / std::max(1, p.iterations);
    r.tokensPerSecond = double(r.tokensPerIteration) / r.secondsPerIteration;
    return r;
}

} // namespace mpq
