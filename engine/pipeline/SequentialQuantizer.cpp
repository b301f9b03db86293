// The sequential layer-by-layer driver (GPTQ's llama_sequential): capture the inputs of layer
// 0, then per decoder layer collect Hessians group by group ([q,k,v] → [o] → [gate,up] →
// [down]), quantize each group with the previous groups already quantized, and feed the
// quantized layer's outputs to the next layer. The per-matrix maths lives in engine/quant.
#include "pipeline/QuantizeJob.h"

#include "core/Error.h"
#include "core/Files.h"
#include "core/Memory.h"
#include "core/detail/CudaGraph.h"
#include "core/detail/DeviceMemory.h"
#include "core/detail/TorchDevice.h"
#include "data/Calibration.h"
#include "model/MemoryPlan.h"
#include "model/ModelSource.h"
#include "model/detail/LayerHessians.h"
#include "model/detail/LlamaModel.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/detail/Sequential.h"
#include "alloc/GgufMix.h"
#include "quant/detail/GgmlWeight.h"
#include "quant/detail/Gptq.h"
#include "quant/detail/Hqq.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <future>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>

namespace mpq {

namespace {

using Clock = std::chrono::steady_clock;
using detail::QuantizedWeight;
using llama::LinearSpec;

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
    report.peakHostBytes = mpq::peakHostBytes();
}

/// "layer i/L <what>" for progress details.
std::string layerLabel(int64_t layer, int64_t layers, const std::string& what)
{
    return "layer " + std::to_string(layer + 1) + "/" + std::to_string(layers) + " " + what;
}

/// The fields every driver reports for a quantized matrix; error figures are the caller's.
MatrixReport describeMatrix(const MatrixPlan& m, int64_t layer, const LinearSpec& spec, const at::Tensor& W,
                            const QuantizedWeight& q, bool symmetric)
{
    MatrixReport mr;
    mr.tensor = m.tensor;
    mr.layer = layer;
    mr.linear = spec.name;
    mr.rows = W.size(0);
    mr.cols = W.size(1);
    mr.quantizer = m.quantizer;
    mr.codeBits = q.codeBits();
    mr.bitsWithOverhead = q.bitsWithOverhead(symmetric);
    mr.fallback = q.fallback;
    return mr;
}

/// Books a finished layer: timings, the sink, and progress.
void finishLayer(QuantizeReport& report, LayerRecord& record, int64_t layers, const LayerSink& sink, JobContext& ctx)
{
    report.hessianSeconds += record.timing.hessianSeconds;
    report.quantizeSeconds += record.timing.quantizeSeconds;
    report.forwardSeconds += record.timing.forwardSeconds;
    report.layers.push_back(record.timing);
    const auto t0 = Clock::now();
    if (sink.layer)
        sink.layer(record);
    report.outputSeconds += since(t0);
    ctx.report(record.layer + 1, layers, "layers", layerLabel(record.layer, layers, "done"));
    ctx.layerStored(record.layer, layers);
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

/// Linears of one layer that share an input, hence a Hessian: q/k/v, gate/up of the dense MLP,
/// of the shared expert or of one routed expert, a down projection, o.
struct Site {
    std::vector<std::pair<LinearSpec, MatrixPlan>> planned;
    HessianSite h;
};

/// Per-column allocation needs the Hessian: it happens here, matrix by matrix.
void allocateSite(ColumnAllocator& allocator, Site& site, const LayerWeights& w, const at::Device& device,
                  JobContext& ctx)
{
    auto& planned = site.planned;
    // Allocators may train (MG-PTQ): autograd on, on ordinary (non-inference) copies.
    c10::InferenceMode inferenceOff(false);
    at::AutoGradMode gradOn(true);
    const at::Tensor Hc = site.h.H.clone();
    std::vector<at::Tensor> Ws;
    for (auto& [spec, m] : planned)
        Ws.push_back(w.weight(spec).to(at::kFloat).clone());
    // LibTorch initialises parts of CUDA and autograd lazily on first use, and two threads doing
    // that at once fail ("lazy wrapper should be called at most once"): the first group of a
    // process is allocated on this thread alone.
    static std::atomic<bool> s_warm{false};
    if (device.is_cuda() && planned.size() > 1 && s_warm.load() && allocator.hostBoundOnDevice()) {
        // Eager MG-PTQ training steps are small and launch-bound (host time, not GPU time): the
        // matrices of a group, which share H, train concurrently, one host thread each. Each
        // allocation is the same computation either way. Each thread works on a stream of its own:
        // on one stream, a thread's read-back (the polish reads a packet per move) waited for the
        // kernels the other threads had queued (docs/mgptq.md, "LLaMA-70B", session 14).
        // MPQ_ALLOC_STREAMS=0 keeps them on the caller's stream, for comparison.
        static const bool ownStreams = [] {
            const char* e = std::getenv("MPQ_ALLOC_STREAMS");
            return !(e && std::string(e) == "0");
        }();
        std::vector<std::future<MatrixPlan>> jobs;
        for (size_t i = 0; i < planned.size(); ++i)
            jobs.push_back(std::async(std::launch::async, [&, i] {
                c10::InferenceMode off(false);
                at::AutoGradMode on(true);
                std::optional<detail::SideStream> stream;
                if (ownStreams)
                    stream.emplace(device);
                return allocator.allocate(planned[i].second, Ws[i], Hc, ctx);
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
            planned[i].second = allocator.allocate(planned[i].second, Ws[i], Hc, ctx);
        s_warm = true;
    }
}

/// Quantizes a site's matrices with its Hessian (stacking those that share a plan: GPTQ treats
/// rows independently given H, so stacking q/k/v rows is exact and saves launches), books them,
/// and puts their stored form back into the layer so later stages see quantized weights.
void quantizeSite(Site& site, int group, LayerWeights& w, int64_t layer, const QuantizeParams& p,
                  at::ScalarType act, JobContext& ctx, LayerRecord& record, QuantizeReport& report,
                  LayerTiming& timing)
{
    const at::Tensor& H = site.h.H;
    const int64_t tokens = site.h.routed >= 0 ? site.h.routed : site.h.tokens;
    for (const auto& [spec, m] : site.planned)
        report.appliedPlan.matrices.push_back(m);
    if (site.h.source == "all-tokens") // once per expert input, not per matrix sharing it
        ctx.warn(site.planned.front().first.tensor + " and the linears sharing its input: the router sent " +
                 std::to_string(tokens) + " calibration tokens (fewer than " + std::to_string(p.expertMinTokens) +
                 "); their Hessian comes from all tokens");
    const auto t0 = Clock::now();
    std::vector<std::vector<size_t>> stacks;
    for (size_t i = 0; i < site.planned.size(); ++i) {
        bool placed = false;
        for (auto& st : stacks)
            if (stackable(site.planned[st.front()].second, site.planned[i].second)) {
                st.push_back(i);
                placed = true;
                break;
            }
        if (!placed)
            stacks.push_back({i});
    }
    for (const auto& st : stacks) {
        std::vector<at::Tensor> parts;
        for (size_t i : st) {
            parts.push_back(w.weight(site.planned[i].first).to(at::kFloat));
            if (!at::isfinite(parts.back()).all().item<bool>())
                throw Error("matrix " + site.planned[i].second.tensor + ": the weights hold NaN or Inf");
        }
        const auto tq = Clock::now();
        const at::Tensor Wstack = parts.size() == 1 ? parts[0] : at::cat(parts, 0);
        const QuantizedWeight q = quantizeOne(Wstack, H, site.planned[st.front()].second, p, ctx);
        int64_t r0 = 0;
        for (size_t k = 0; k < st.size(); ++k) {
            const auto& [spec, m] = site.planned[st[k]];
            const int64_t r1 = r0 + parts[k].size(0);
            QuantizedWeight qm = st.size() == 1 ? q : rowsOf(q, r0, r1);
            MatrixReport mr = describeMatrix(m, layer, spec, parts[k], qm, p.symmetric);
            mr.outputError = outputError(parts[k], qm.dequant, H);
            if (q.columnLoss.defined() && st.size() == 1)
                mr.gptqLoss = q.columnLoss.sum().item<double>();
            mr.damping = q.damping;
            mr.seconds = since(tq) / double(st.size());
            mr.calibrationTokens = tokens;
            mr.hessianSource = site.h.source;
            report.matrices.push_back(mr);
            // The next inputs come from the stored form (codes, scales, zeros), exactly as a
            // resumed run rebuilds them.
            w.weight(spec) = qm.dequantize().to(act);
            qm.dequant = at::Tensor(); // recomputed from codes when read back
            record.matrices.push_back({std::move(qm), m, mr, group});
            r0 = r1;
        }
    }
    synchronize(w.q.device());
    timing.quantizeSeconds += since(t0);
}

/// Layer 0's inputs: the embeddings of every calibration window, [windows, T, hidden].
at::Tensor embedWindows(LayerProvider& provider, const std::vector<std::vector<int32_t>>& windows,
                        at::ScalarType act, const at::Device& device)
{
    const int64_t n = int64_t(windows.size()), T = int64_t(windows.at(0).size());
    at::Tensor ids = at::empty({n, T}, at::TensorOptions().dtype(at::kLong));
    auto acc = ids.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t t = 0; t < T; ++t)
            acc[i][t] = windows[size_t(i)][size_t(t)];
    return at::embedding(provider.embedding(act, device), ids.to(device));
}

/// The layer's outputs for all windows, batch by batch; they become the next layer's inputs
/// (`inps` and `outs` swap).
void forwardLayer(const ModelConfig& cfg, const LayerWeights& w, at::Tensor& inps, at::Tensor& outs,
                  const Rope& rope, int64_t batch)
{
    const int64_t n = inps.size(0);
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t b1 = std::min(n, b0 + batch);
        outs.slice(0, b0, b1).copy_(decoderLayer(cfg, w, inps.slice(0, b0, b1), rope));
    }
    std::swap(inps, outs);
}

/// Resume: puts a stored layer's quantized weights (as a resumed run rebuilds them from codes)
/// into the layer, so that only its outputs need computing.
void loadStoredLayer(const LayerRecord& old, const std::vector<LinearSpec>& specs, LayerWeights& w,
                     const at::Device& device, at::ScalarType act)
{
    for (const auto& m : old.matrices) {
        const LinearSpec* spec = llama::findLinear(specs, m.plan.tensor);
        if (!spec)
            throw Error("resume: stored matrix " + m.plan.tensor + " is not a linear of layer " +
                        std::to_string(old.layer));
        QuantizedWeight q = m.q;
        q.codes = q.codes.to(device);
        q.scales = q.scales.to(device);
        q.zeros = q.zeros.to(device);
        q.slotOfColumn = q.slotOfColumn.to(device);
        w.weight(*spec) = q.dequantize().to(act);
    }
}

/// The planned linears of one stage, by the input they share (attention or dense MLP, the
/// shared expert, each routed expert): key = Hessian group.
std::map<int, Site> plannedSites(const std::vector<LinearSpec>& specs, llama::Stage stage, const AllocationPlan& plan)
{
    std::map<int, Site> sites;
    for (const LinearSpec& spec : specs)
        if (spec.stage == stage)
            if (const MatrixPlan* m = plan.find(spec.tensor))
                sites[llama::hessianGroup(spec)].planned.emplace_back(spec, *m);
    return sites;
}

/// H = (2/N) Σ x xᵀ over every calibration token (an expert: over those routed to it) for each
/// site of the stage, from the layer's current inputs.
void collectSiteHessians(const ModelConfig& cfg, const LayerWeights& w, const at::Tensor& inps, const Rope& rope,
                         std::map<int, Site>& sites, llama::Stage stage, int64_t batch, int64_t expertMinTokens,
                         int64_t layer, bool tf32)
{
    const Tf32Scope scope(tf32);
    WantedHessians wanted;
    for (const auto& [g, site] : sites)
        wanted[g] = site.planned.front().second.cols;
    auto hessians = collectHessians(cfg, w, inps, rope, wanted, batch, expertMinTokens, &stage);
    for (auto& [g, site] : sites) {
        site.h = std::move(hessians.at(g));
        if (!at::isfinite(site.h.H).all().item<bool>())
            throw Error("decoder layer " + std::to_string(layer) + ": the calibration Hessian of " +
                        site.planned.front().second.tensor +
                        " holds NaN or Inf: the activations entering it are not finite");
    }
}

/// What runSequential keeps for one job: the model's shape, the device and the calibration
/// activations flowing from layer to layer.
struct SequentialState {
    const ModelConfig& cfg;
    at::Device device;
    at::ScalarType act;
    int64_t batch;
    at::Tensor inps, outs;
    Rope rope;
};

/// One decoder layer, fresh: stage by stage, the sites' Hessians from the inputs as quantized
/// so far, their allocation (if any) and quantization; then the layer's quantized outputs.
void quantizeLayer(SequentialState& st, LayerWeights& w, LayerRecord& record, const AllocationPlan& plan,
                   const QuantizeParams& p, JobContext& ctx, const LayerSink& sink, QuantizeReport& report,
                   ColumnAllocator* allocator)
{
    const int64_t layer = record.layer, layers = st.cfg.numLayers;
    LayerTiming& timing = record.timing;
    const std::vector<LinearSpec> specs = llama::layerLinears(st.cfg, layer);
    for (int stageIndex = 0; stageIndex < llama::kStages; ++stageIndex) {
        const llama::Stage stage = llama::Stage(stageIndex);
        std::map<int, Site> sites = plannedSites(specs, stage, plan);
        if (sites.empty())
            continue;
        ctx.report(layer, layers, "layers", layerLabel(layer, layers, sites.begin()->second.planned.front().first.name));
        auto t0 = Clock::now();
        collectSiteHessians(st.cfg, w, st.inps, st.rope, sites, stage, st.batch, p.expertMinTokens, layer,
                            st.device.is_cuda() && st.act != at::kFloat);
        synchronize(st.device);
        timing.hessianSeconds += since(t0);
        for (auto& [group, site] : sites) {
            if (allocator)
                allocateSite(*allocator, site, w, st.device, ctx);
            quantizeSite(site, group, w, layer, p, st.act, ctx, record, report, timing);
            if (sink.hessian) {
                std::vector<MatrixPlan> plans;
                for (const auto& [spec, m] : site.planned)
                    plans.push_back(m);
                sink.hessian(layer, group, site.h.H, plans);
            }
        }
    }
    // This layer's quantized outputs are the next layer's inputs.
    const auto t0 = Clock::now();
    forwardLayer(st.cfg, w, st.inps, st.outs, st.rope, st.batch);
    synchronize(st.device);
    timing.forwardSeconds = since(t0);
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
    const int64_t batch = p.batchSize > 0 ? p.batchSize : automaticQuantizeBatch(p.device);
    SequentialState st{cfg, device, act, batch, embedWindows(provider, windows, act, device), at::Tensor(),
                       Rope::build(cfg, int64_t(windows.at(0).size()), device)};
    st.outs = at::empty_like(st.inps);

    ctx.start("quantize");
    const int64_t stored = resume ? int64_t(resume->layers.size()) : 0;
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        ctx.checkCancelled();
        LayerRecord record;
        record.layer = layer;
        const auto tLoad = Clock::now();
        LayerWeights w = provider.layer(layer, act, device);
        synchronize(device);
        report.loadSeconds += since(tLoad);
        if (layer < stored) { // resume: only the stored layer's outputs are needed
            const LayerRecord& old = resume->layers[size_t(layer)];
            loadStoredLayer(old, llama::layerLinears(cfg, layer), w, device, act);
            forwardLayer(cfg, w, st.inps, st.outs, st.rope, batch);
            restoreLayer(report, old);
            ctx.report(layer + 1, cfg.numLayers, "layers", layerLabel(layer, cfg.numLayers, "restored"));
            continue;
        }
        quantizeLayer(st, w, record, plan, p, ctx, sink, report, allocator);
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
        for (const LinearSpec& spec : llama::layerLinears(cfg, layer)) {
            const MatrixPlan* m = plan.find(spec.tensor);
            if (!m)
                continue;
            ctx.report(layer, cfg.numLayers, "layers", layerLabel(layer, cfg.numLayers, spec.name));
            const at::Tensor& W = w.weight(spec);
            const auto tq = Clock::now();
            if (!at::isfinite(W).all().item<bool>())
                throw Error("matrix " + m->tensor + ": the weights hold NaN or Inf");
            QuantizedWeight q = quantizeOne(W, at::Tensor(), *m, p, ctx);
            MatrixReport mr = describeMatrix(*m, layer, spec, W, q, p.symmetric);
            if (m->storageBits >= 0) // MXQ's storage formula (meta-quantized scales and zeros)
                mr.bitsWithOverhead = m->storageBits / double(mr.rows * mr.cols);
            mr.outputError = -1; // data-free: no Hessian
            mr.frobeniusError = (W - q.dequant).to(at::kDouble).norm().item<double>();
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
