// The sequential layer-by-layer driver (GPTQ's llama_sequential): capture the inputs of layer
// 0, then per decoder layer collect Hessians group by group ([q,k,v] → [o] → [gate,up] →
// [down]), quantize each group with the previous groups already quantized, and feed the
// quantized layer's outputs to the next layer. The per-matrix maths lives in engine/quant.
#include "pipeline/QuantizeJob.h"

#include "core/Error.h"
#include "core/Files.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "data/Calibration.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/detail/ResultStore.h"
#include "pipeline/detail/Sequential.h"
#include "alloc/GgufMix.h"
#include "quant/detail/GgmlWeight.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/Hqq.h"
#include "tokenizer/SentencePieceTokenizer.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <filesystem>
#include <fstream>
#include <random>

namespace mpq {

namespace {

using Clock = std::chrono::steady_clock;
using detail::QuantizedWeight;
using llama::Linear;

double since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Per-column bit-widths of a plan as an int tensor.
at::Tensor bitsTensor(const MatrixPlan& m)
{
    std::vector<int32_t> b(m.columnBits.begin(), m.columnBits.end());
    return at::tensor(b, at::TensorOptions().dtype(at::kInt));
}

/// Matrices of one group that can be quantized as one stacked matrix: same quantizer, group
/// size and per-column bits (GPTQ treats rows independently given H, so stacking q/k/v rows is
/// exact and saves launches).
bool stackable(const MatrixPlan& a, const MatrixPlan& b)
{
    return a.quantizer == b.quantizer && a.groupSize == b.groupSize && a.columnBits == b.columnBits;
}

QuantizedWeight quantizeOne(const at::Tensor& W, const at::Tensor& H, const MatrixPlan& plan,
                            const QuantizeParams& p, JobContext& ctx)
{
    detail::GridOptions grid{plan.groupSize, p.symmetric};
    if (plan.quantizer == "rtn")
        return detail::rtnQuantize(W, bitsTensor(plan), grid);
    if (plan.quantizer == "hqq") {
        if (plan.uniformBits() < 0)
            throw Error("matrix " + plan.tensor + ": HQQ needs one bit-width per matrix");
        return detail::hqqQuantize(W, plan.uniformBits(), plan.groupSize);
    }
    if (plan.quantizer == "ggml") { // llama.cpp's types (GGUF export, docs/gguf.md)
        const GgmlMatrixSpec spec = ggmlSpecOf(plan);
        QuantizedWeight q = detail::toQuantizedWeight(detail::ggmlQuantize(W, spec.type, spec.importance));
        for (at::Tensor* t : {&q.codes, &q.scales, &q.zeros, &q.slotOfColumn, &q.dequant})
            *t = t->to(W.device());
        return q;
    }
    if (plan.quantizer != "gptq")
        throw Error("matrix " + plan.tensor + ": unknown quantizer \"" + plan.quantizer + "\"");
    detail::GptqOptions opt;
    opt.blockSize = p.blockSize;
    opt.dampPercent = p.dampPercent;
    opt.actOrder = p.actOrder;
    opt.staticGroups = p.staticGroups;
    opt.grid = grid;
    return detail::gptqQuantize(W, H, bitsTensor(plan), opt, &ctx);
}

/// Splits a stacked result back into per-matrix results (rows [r0, r1)).
QuantizedWeight rowsOf(const QuantizedWeight& q, int64_t r0, int64_t r1)
{
    QuantizedWeight out = q;
    out.codes = q.codes.slice(0, r0, r1);
    out.scales = q.scales.slice(0, r0, r1);
    out.zeros = q.zeros.slice(0, r0, r1);
    out.dequant = q.dequant.slice(0, r0, r1);
    if (q.columnLoss.defined()) // column losses are sums over rows; keep the share of these rows
        out.columnLoss = at::Tensor();
    return out;
}

} // namespace

namespace detail {

namespace {

/// Size-weighted averages over all quantized matrices, and the device's peak memory.
void finishReport(QuantizeReport& report, const at::Device& device)
{
    double bits = 0, bitsOv = 0, weights = 0;
    for (const auto& m : report.matrices) {
        const double nW = double(m.rows * m.cols);
        bits += m.codeBits * nW;
        bitsOv += m.bitsWithOverhead * nW;
        weights += nW;
    }
    report.avgBits = weights > 0 ? bits / weights : 0;
    report.avgBitsWithOverhead = weights > 0 ? bitsOv / weights : 0;
    report.peakDeviceBytes = peakDeviceBytes(device);
}

/// "layer i/L <what>" for progress details.
std::string layerLabel(int64_t layer, int64_t layers, const std::string& what)
{
    return "layer " + std::to_string(layer + 1) + "/" + std::to_string(layers) + " " + what;
}

/// The fields every driver reports for a quantized matrix; error figures are the caller's.
MatrixReport describeMatrix(const MatrixPlan& m, int64_t layer, Linear l, const at::Tensor& W,
                            const QuantizedWeight& q, bool symmetric)
{
    MatrixReport mr;
    mr.tensor = m.tensor;
    mr.layer = layer;
    mr.linear = llama::linearName(l);
    mr.rows = W.size(0);
    mr.cols = W.size(1);
    mr.quantizer = m.quantizer;
    mr.codeBits = q.codeBits();
    mr.bitsWithOverhead = q.bitsWithOverhead(symmetric);
    return mr;
}

/// Books a finished layer: timings, the sink, and progress.
void finishLayer(QuantizeReport& report, LayerRecord& record, int64_t layers, const LayerSink& sink, JobContext& ctx)
{
    report.hessianSeconds += record.timing.hessianSeconds;
    report.quantizeSeconds += record.timing.quantizeSeconds;
    report.forwardSeconds += record.timing.forwardSeconds;
    report.layers.push_back(record.timing);
    if (sink.layer)
        sink.layer(record);
    ctx.report(record.layer + 1, layers, "layers", layerLabel(record.layer, layers, "done"));
}

/// Books a layer stored by an earlier run (resume): its figures as they were measured then.
void restoreLayer(QuantizeReport& report, const LayerRecord& record)
{
    for (const auto& m : record.matrices) {
        report.matrices.push_back(m.report);
        report.appliedPlan.matrices.push_back(m.plan);
    }
    report.hessianSeconds += record.timing.hessianSeconds;
    report.quantizeSeconds += record.timing.quantizeSeconds;
    report.forwardSeconds += record.timing.forwardSeconds;
    report.layers.push_back(record.timing);
}

} // namespace

void runSequential(LayerProvider& provider, const std::vector<std::vector<int32_t>>& windows,
                   const AllocationPlan& plan, const QuantizeParams& p, JobContext& ctx,
                   const LayerSink& sink, QuantizeReport& report, ColumnAllocator* allocator,
                   const ResumeState* resume)
{
    report.appliedPlan.method = plan.method;
    const ModelConfig& cfg = provider.config();
    const at::Device device = torchDevice(p.device);
    const at::ScalarType act = scalarType(p.dtype ? *p.dtype : (device.is_cuda() ? DType::F16 : DType::F32));
    const int64_t n = int64_t(windows.size());
    const int64_t T = int64_t(windows.at(0).size());
    const int64_t batch = p.batchSize > 0 ? p.batchSize : (device.is_cuda() ? 16 : 4);

    // Layer-0 inputs: the embeddings of all calibration windows.
    at::Tensor inps;
    {
        at::Tensor ids = at::empty({n, T}, at::TensorOptions().dtype(at::kLong));
        auto acc = ids.accessor<int64_t, 2>();
        for (int64_t i = 0; i < n; ++i)
            for (int64_t t = 0; t < T; ++t)
                acc[i][t] = windows[size_t(i)][size_t(t)];
        inps = at::embedding(provider.embedding(act, device), ids.to(device));
    }
    at::Tensor outs = at::empty_like(inps);
    const Rope rope = Rope::build(cfg, T, device);

    ctx.start("quantize");
    const int64_t stored = resume ? int64_t(resume->layers.size()) : 0;
    const auto& groups = llama::trueSequentialGroups();
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        ctx.checkCancelled();
        LayerRecord record;
        record.layer = layer;
        LayerTiming& timing = record.timing;
        LayerWeights w = provider.layer(layer, act, device);

        if (layer < stored) {
            // Resume: this layer's quantized weights are stored; only its outputs are needed.
            const LayerRecord& old = resume->layers[size_t(layer)];
            for (const auto& m : old.matrices) {
                bool found = false;
                for (Linear l : llama::kLinears)
                    if (llama::linearTensor(layer, l) == m.plan.tensor) {
                        QuantizedWeight q = m.q;
                        q.codes = q.codes.to(device);
                        q.scales = q.scales.to(device);
                        q.zeros = q.zeros.to(device);
                        q.slotOfColumn = q.slotOfColumn.to(device);
                        w[l] = q.dequantize().to(act);
                        found = true;
                    }
                if (!found)
                    throw Error("resume: stored matrix " + m.plan.tensor + " is not a linear of layer " +
                                std::to_string(layer));
            }
            for (int64_t b0 = 0; b0 < n; b0 += batch) {
                const int64_t b1 = std::min(n, b0 + batch);
                outs.slice(0, b0, b1).copy_(decoderLayer(cfg, w, inps.slice(0, b0, b1), rope));
            }
            std::swap(inps, outs);
            restoreLayer(report, old);
            ctx.report(layer + 1, cfg.numLayers, "layers", layerLabel(layer, cfg.numLayers, "restored"));
            continue;
        }

        for (size_t gi = 0; gi < groups.size(); ++gi) {
            const auto& group = groups[gi];
            // Which linears of this group the plan quantizes.
            std::vector<std::pair<Linear, MatrixPlan>> planned;
            for (Linear l : group)
                if (const MatrixPlan* m = plan.find(llama::linearTensor(layer, l)))
                    planned.emplace_back(l, *m);
            if (planned.empty())
                continue;
            ctx.report(layer, cfg.numLayers, "layers",
                       layerLabel(layer, cfg.numLayers, llama::linearName(group.front())));

            // H = (2/N) Σ x xᵀ over every calibration token, in fp32.
            auto t0 = Clock::now();
            const int64_t in = planned.front().second.cols;
            at::Tensor H = at::zeros({in, in}, at::TensorOptions().dtype(at::kFloat).device(device));
            const Linear first = group.front();
            const Tf32Scope tf32(device.is_cuda() && act != at::kFloat);
            for (int64_t b0 = 0; b0 < n; b0 += batch) {
                const at::Tensor x = inps.slice(0, b0, std::min(n, b0 + batch));
                decoderLayer(cfg, w, x, rope, [&](Linear which, const at::Tensor& input) {
                    if (which != first)
                        return true;
                    const at::Tensor flat = input.reshape({-1, in}).to(at::kFloat);
                    H.addmm_(flat.t(), flat);
                    return false;
                });
            }
            H.mul_(2.0 / double(n * T));
            synchronize(device);
            timing.hessianSeconds += since(t0);

            // Per-column allocation needs the Hessian: it happens here, matrix by matrix.
            if (allocator) {
                // Allocators may train (MG-PTQ): autograd on, on ordinary (non-inference) copies.
                c10::InferenceMode inferenceOff(false);
                at::AutoGradMode gradOn(true);
                const at::Tensor Hc = H.clone();
                std::vector<at::Tensor> Ws;
                for (auto& [l, m] : planned)
                    Ws.push_back(w[l].to(at::kFloat).clone());
                // LibTorch initialises parts of CUDA and autograd lazily on first use, and two
                // threads doing that at once fail ("lazy wrapper should be called at most once"):
                // the first group of a process is allocated on this thread alone.
                static std::atomic<bool> s_warm{false};
                if (device.is_cuda() && planned.size() > 1 && s_warm.load() && allocator->hostBoundOnDevice()) {
                    // Eager MG-PTQ training steps are small and launch-bound (host time, not
                    // GPU time): the matrices of a group, which share H, train concurrently, one
                    // host thread each. Each allocation is the same computation either way.
                    std::vector<std::future<MatrixPlan>> jobs;
                    for (size_t i = 0; i < planned.size(); ++i)
                        jobs.push_back(std::async(std::launch::async, [&, i] {
                            c10::InferenceMode off(false);
                            at::AutoGradMode on(true);
                            return allocator->allocate(planned[i].second, Ws[i], Hc, ctx);
                        }));
                    std::exception_ptr failure;
                    for (size_t i = 0; i < jobs.size(); ++i) {
                        try {
                            planned[i].second = jobs[i].get();
                        } catch (...) {
                            if (!failure)
                                failure = std::current_exception();
                        }
                    }
                    if (failure)
                        std::rethrow_exception(failure);
                } else {
                    for (size_t i = 0; i < planned.size(); ++i)
                        planned[i].second = allocator->allocate(planned[i].second, Ws[i], Hc, ctx);
                    s_warm = true;
                }
            }
            std::vector<std::pair<Linear, const MatrixPlan*>> todo;
            std::vector<MatrixPlan> groupPlans;
            for (auto& [l, m] : planned) {
                report.appliedPlan.matrices.push_back(m);
                todo.emplace_back(l, &m);
                groupPlans.push_back(m);
            }

            // Quantize: stack matrices that share a plan, else one by one.
            t0 = Clock::now();
            std::vector<std::vector<size_t>> stacks;
            for (size_t i = 0; i < todo.size(); ++i) {
                bool placed = false;
                for (auto& st : stacks)
                    if (stackable(*todo[st.front()].second, *todo[i].second)) {
                        st.push_back(i);
                        placed = true;
                        break;
                    }
                if (!placed)
                    stacks.push_back({i});
            }
            for (const auto& st : stacks) {
                std::vector<at::Tensor> parts;
                for (size_t i : st)
                    parts.push_back(w[todo[i].first].to(at::kFloat));
                const auto tq = Clock::now();
                const at::Tensor Wstack = parts.size() == 1 ? parts[0] : at::cat(parts, 0);
                const QuantizedWeight q = quantizeOne(Wstack, H, *todo[st.front()].second, p, ctx);
                int64_t r0 = 0;
                for (size_t k = 0; k < st.size(); ++k) {
                    const auto& [l, m] = todo[st[k]];
                    const int64_t r1 = r0 + parts[k].size(0);
                    QuantizedWeight qm = st.size() == 1 ? q : rowsOf(q, r0, r1);
                    MatrixReport mr = describeMatrix(*m, layer, l, parts[k], qm, p.symmetric);
                    mr.outputError = outputError(parts[k], qm.dequant, H);
                    if (q.columnLoss.defined() && st.size() == 1)
                        mr.gptqLoss = q.columnLoss.sum().item<double>();
                    mr.damping = q.damping;
                    mr.seconds = since(tq) / double(st.size());
                    report.matrices.push_back(mr);
                    // The next inputs come from the stored form (codes, scales, zeros), exactly
                    // as a resumed run rebuilds them.
                    w[l] = qm.dequantize().to(act);
                    qm.dequant = at::Tensor(); // recomputed from codes when read back
                    record.matrices.push_back({std::move(qm), *m, mr, int(gi)});
                    r0 = r1;
                }
            }
            synchronize(device);
            timing.quantizeSeconds += since(t0);
            if (sink.hessian)
                sink.hessian(layer, int(gi), H, groupPlans);
        }

        // This layer's quantized outputs are the next layer's inputs.
        auto t0 = Clock::now();
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
            const int64_t b1 = std::min(n, b0 + batch);
            outs.slice(0, b0, b1).copy_(decoderLayer(cfg, w, inps.slice(0, b0, b1), rope));
        }
        std::swap(inps, outs);
        synchronize(device);
        timing.forwardSeconds = since(t0);

        finishLayer(report, record, cfg.numLayers, sink, ctx);
    }

    finishReport(report, device);
}

void runDataFree(LayerProvider& provider, const AllocationPlan& plan, const QuantizeParams& p, JobContext& ctx,
                 const LayerSink& sink, QuantizeReport& report, const ResumeState* resume)
{
    const ModelConfig& cfg = provider.config();
    const at::Device device = torchDevice(p.device);
    report.appliedPlan = plan;
    ctx.start("quantize");
    const int64_t stored = resume ? int64_t(resume->layers.size()) : 0;
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        ctx.checkCancelled();
        if (layer < stored) { // data-free layers are independent: nothing to rebuild
            for (const auto& m : resume->layers[size_t(layer)].matrices)
                report.matrices.push_back(m.report);
            report.quantizeSeconds += resume->layers[size_t(layer)].timing.quantizeSeconds;
            report.layers.push_back(resume->layers[size_t(layer)].timing);
            continue;
        }
        const auto t0 = Clock::now();
        LayerWeights w = provider.layer(layer, at::kFloat, device);
        LayerRecord record;
        record.layer = layer;
        for (Linear l : llama::kLinears) {
            const MatrixPlan* m = plan.find(llama::linearTensor(layer, l));
            if (!m)
                continue;
            ctx.report(layer, cfg.numLayers, "layers",
                       layerLabel(layer, cfg.numLayers, llama::linearName(l)));
            const auto tq = Clock::now();
            QuantizedWeight q = quantizeOne(w[l], at::Tensor(), *m, p, ctx);
            MatrixReport mr = describeMatrix(*m, layer, l, w[l], q, p.symmetric);
            if (m->storageBits >= 0) // MXQ's storage formula (meta-quantized scales and zeros)
                mr.bitsWithOverhead = m->storageBits / double(mr.rows * mr.cols);
            mr.outputError = -1; // data-free: no Hessian
            mr.frobeniusError = (w[l] - q.dequant).to(at::kDouble).norm().item<double>();
            mr.seconds = since(tq);
            report.matrices.push_back(mr);
            q.dequant = at::Tensor();
            record.matrices.push_back({std::move(q), *m, mr, -1});
        }
        synchronize(device);
        record.timing.quantizeSeconds = since(t0);
        finishLayer(report, record, cfg.numLayers, sink, ctx);
    }
    finishReport(report, device);
}

} // namespace detail

} // namespace mpq
