#include "alloc/mxq/MxqBench.h"

#include "alloc/mxq/detail/MxqCosts.h"
#include "core/Device.h"
#include "core/Error.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "model/LlamaArch.h"

#include <ATen/core/Generator.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <mutex>
#include <random>

namespace mpq {

namespace {

double since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

MxqBenchResult benchmarkMxq(const MxqBenchParams& params, JobContext& ctx)
{
    checkDevice(params.device);
    if (params.layers <= 0 || params.hidden <= 0 || params.intermediate <= 0)
        throw Error("MXQ bench: layers, hidden and intermediate sizes must be positive");
    if (params.heads <= 0 || params.kvHeads <= 0 || params.hidden % params.heads != 0 || params.heads % params.kvHeads != 0)
        throw Error("MXQ bench: the hidden size must be a multiple of the heads, and the heads of the KV heads");
    if (params.configs.empty())
        throw Error("MXQ bench: no configurations");
    const at::Device device = detail::torchDevice(params.device);
    c10::InferenceMode guard;

    MxqBenchResult r;
    r.deviceName = deviceDescription(params.device);
    r.layers = params.layers;
    r.configs = int64_t(params.configs.size());
    r.table.model = "synthetic LLaMA (" + std::to_string(params.layers) + " layers, hidden " +
                    std::to_string(params.hidden) + ", intermediate " +
                    std::to_string(params.intermediate) + ", " + std::to_string(params.heads) + " heads / " +
                    std::to_string(params.kvHeads) + " KV heads)";
    r.table.device = params.device;
    r.table.hqq = params.hqq;
    r.table.configs = params.configs;

    ModelConfig shape;
    shape.hiddenSize = params.hidden;
    shape.intermediateSize = params.intermediate;
    shape.numHeads = params.heads;
    shape.numKvHeads = params.kvHeads;
    shape.headDim = params.hidden / params.heads;

    at::Generator gen = at::globalContext().defaultGenerator(device);
    std::mt19937_64 rng(params.seed);
    std::uniform_real_distribution<double> spread(0.5, 1.5);
    int64_t hqqCalls = 0;
    double iterations = 0, bestIterations = 0;

    detail::synchronize(device);
    detail::resetPeakDeviceBytes(device);
    const auto t0 = std::chrono::steady_clock::now();
    ctx.start("mxq bench");
    int64_t total = 0;
    for (int64_t layer = 0; layer < params.layers; ++layer)
        total += int64_t(llama::layerLinears(shape, layer).size());
    for (int64_t layer = 0; layer < params.layers; ++layer) {
        for (const llama::LinearSpec& s : llama::layerLinears(shape, layer)) {
            ctx.checkCancelled();
            MxqMatrixCosts m;
            m.tensor = s.tensor;
            m.layer = layer;
            m.linear = s.name;
            ctx.report(int64_t(r.table.matrices.size()), total, "matrices", m.tensor);
            m.rows = s.rows;
            m.cols = s.cols;

            auto tg = std::chrono::steady_clock::now();
            {
                std::lock_guard<std::mutex> lock(gen.mutex()); // randn takes it again itself
                gen.set_current_seed(params.seed * 1000003u + uint64_t(r.table.matrices.size()));
            }
            at::Tensor W = at::randn({m.rows, m.cols}, gen, at::TensorOptions().device(device));
            W.mul_(0.02 * spread(rng));
            detail::synchronize(device);
            r.generateSeconds += since(tg);

            auto th = std::chrono::steady_clock::now();
            std::vector<HqqStats> stats;
            m.cost = detail::mxqMatrixCosts(W, params.configs, params.hqq, {}, &ctx, &stats);
            detail::synchronize(device);
            r.hqqSeconds += since(th);
            for (const auto& st : stats) {
                iterations += st.iterations;
                bestIterations += st.bestIteration;
                ++hqqCalls;
            }
            for (const auto& c : params.configs)
                m.storageBits.push_back(mxqStorageBits(m.rows, m.cols, c));
            r.table.matrices.push_back(std::move(m));
        }
    }
    ctx.report(total, total, "matrices");
    r.table.seconds = since(t0);

    r.solution = solveMxq(r.table, MxqBudget::bitsPerParameter(params.budgetBitsPerParameter),
                          params.solve, &ctx);
    r.solveSeconds = r.solution.seconds;
    r.totalSeconds = since(t0);
    r.matrices = int64_t(r.table.matrices.size());
    r.parameters = r.table.totalParameters();
    r.meanIterations = hqqCalls ? iterations / double(hqqCalls) : 0.0;
    r.meanBestIteration = hqqCalls ? bestIterations / double(hqqCalls) : 0.0;
    r.peakDeviceBytes = detail::peakDeviceBytes(device);
    return r;
}

} // namespace mpq
