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
#include "quant/detail/Gptq.h"
#include "quant/detail/Hqq.h"
#include "tokenizer/SentencePieceTokenizer.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <chrono>
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

/// Streams weights from a checkpoint, one decoder layer at a time.
class CheckpointLayers : public detail::LayerProvider {
public:
    explicit CheckpointLayers(const ModelSource& s) : m_source(s) {}
    const ModelConfig& config() const override { return m_source.config(); }
    at::Tensor embedding(at::ScalarType dtype, const at::Device& device) override
    {
        return detail::loadTensor(m_source, llama::embedTensor(), dtype, device);
    }
    detail::LayerWeights layer(int64_t i, at::ScalarType dtype, const at::Device& device) override
    {
        return detail::loadLayer(m_source, i, dtype, device);
    }

private:
    const ModelSource& m_source;
};

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
void finishLayer(QuantizeReport& report, const LayerTiming& timing, int64_t layer, int64_t layers,
                 std::vector<std::pair<std::string, QuantizedWeight>>& results, const LayerSink& sink,
                 JobContext& ctx)
{
    report.hessianSeconds += timing.hessianSeconds;
    report.quantizeSeconds += timing.quantizeSeconds;
    report.forwardSeconds += timing.forwardSeconds;
    report.layers.push_back(timing);
    if (sink)
        sink(layer, results);
    ctx.report(layer + 1, layers, "layers", layerLabel(layer, layers, "done"));
}

} // namespace

void runSequential(LayerProvider& provider, const std::vector<std::vector<int32_t>>& windows,
                   const AllocationPlan& plan, const QuantizeParams& p, JobContext& ctx,
                   const LayerSink& sink, QuantizeReport& report, ColumnAllocator* allocator)
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
    const auto& groups = llama::trueSequentialGroups();
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        ctx.checkCancelled();
        LayerTiming timing;
        LayerWeights w = provider.layer(layer, act, device);
        std::vector<std::pair<std::string, QuantizedWeight>> layerResults;

        for (const auto& group : groups) {
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
                for (auto& [l, m] : planned)
                    m = allocator->allocate(m, w[l].to(at::kFloat).clone(), Hc, ctx);
            }
            std::vector<std::pair<Linear, const MatrixPlan*>> todo;
            for (auto& [l, m] : planned) {
                report.appliedPlan.matrices.push_back(m);
                todo.emplace_back(l, &m);
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
                    w[l] = qm.dequant.to(act);
                    qm.dequant = at::Tensor(); // recomputed from codes when read back
                    layerResults.emplace_back(m->tensor, std::move(qm));
                    r0 = r1;
                }
            }
            synchronize(device);
            timing.quantizeSeconds += since(t0);
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

        finishLayer(report, timing, layer, cfg.numLayers, layerResults, sink, ctx);
    }

    finishReport(report, device);
}

void runDataFree(LayerProvider& provider, const AllocationPlan& plan, const QuantizeParams& p, JobContext& ctx,
                 const LayerSink& sink, QuantizeReport& report)
{
    const ModelConfig& cfg = provider.config();
    const at::Device device = torchDevice(p.device);
    report.appliedPlan = plan;
    ctx.start("quantize");
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        ctx.checkCancelled();
        const auto t0 = Clock::now();
        LayerWeights w = provider.layer(layer, at::kFloat, device);
        std::vector<std::pair<std::string, QuantizedWeight>> layerResults;
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
            layerResults.emplace_back(m->tensor, std::move(q));
        }
        synchronize(device);
        LayerTiming timing;
        timing.quantizeSeconds = since(t0);
        finishLayer(report, timing, layer, cfg.numLayers, layerResults, sink, ctx);
    }
    finishReport(report, device);
}

} // namespace detail

QuantizeReport quantizeModel(const QuantizeParams& p, JobContext& ctx)
{
    const auto tStart = Clock::now();
    checkDevice(p.device);
    if (p.out.empty())
        throw Error("no output folder given (--out)");
    if (p.method != "rtn" && p.method != "gptq" && p.method != "hqq")
        throw Error("unknown method \"" + p.method + "\" (rtn, gptq or hqq)");
    if (!p.plan && (p.bits < 1 || p.bits > 8))
        throw Error("--bits must be in 1..8");
    if (p.groupSize == 0 || p.groupSize < -1)
        throw Error("--group-size must be positive (or -1 for per-channel)");
    if (files::exists(p.out) && !files::isDirectory(p.out))
        throw Error(p.out + ": exists and is not a folder");

    const ModelSource source = ModelSource::open(p.model, p.tokenizer);
    for (const auto& note : source.notes())
        ctx.warn(note);
    const ModelConfig& cfg = source.config();
    const AllocationPlan plan = p.plan ? *p.plan
                                       : AllocationPlan::uniform(cfg, p.bits, p.groupSize, p.method);
    for (const auto& m : plan.matrices) {
        const TensorEntry& t = source.tensor(m.tensor);
        if (t.shape.size() != 2 || m.rows != t.shape[0] || m.cols != t.shape[1])
            throw Error("allocation plan: " + m.tensor + " has shape " + std::to_string(m.rows) + "x" +
                        std::to_string(m.cols) + " but the model's differs");
    }

    // HQQ (uniform or MXQ's plan) is data-free: no calibration, no Hessians.
    bool dataFree = p.allocator.empty();
    for (const auto& m : plan.matrices)
        dataFree = dataFree && m.quantizer == "hqq";

    // Calibration windows (the tokenizer is needed only when they are drawn, not when reused).
    const auto tCal = Clock::now();
    CalibrationSet calib;
    if (dataFree) {
        // nothing to draw
    } else if (p.calibTokens.empty()) {
        if (source.tokenizerPath().empty())
            throw Error(source.path() + ": no tokenizer.model found beside the model; pass --tokenizer");
        CalibrationParams cp;
        cp.source = p.calib;
        cp.nsamples = p.nsamples;
        cp.seqlen = std::min(p.seqlen, cfg.maxPositions);
        cp.seed = p.seed;
        cp.dataDir = p.dataDir;
        const auto tok = SentencePieceTokenizer::load(source.tokenizerPath());
        calib = sampleCalibration(cp, tok, tok.bosId() >= 0 ? tok.bosId() : cfg.bosTokenId, ctx);
    } else {
        calib = loadCalibrationTokens(p.calibTokens, int32_t(cfg.vocabSize));
    }

    QuantizeReport report;
    report.calibrationSeconds = since(tCal);
    report.deviceName = deviceDescription(p.device);
    const at::Device device = detail::torchDevice(p.device);
    c10::InferenceMode guard;
    detail::resetPeakDeviceBytes(device);

    // Everything is written into a temporary sibling folder and renamed at the end: a cancelled
    // or failed run leaves no half-written result under the requested name.
    const std::string outDir = files::absolute(p.out);
    const std::string tmpDir = outDir + ".partial";
    std::filesystem::remove_all(tmpDir);
    std::filesystem::create_directories(tmpDir);
    struct Cleanup {
        std::string dir;
        bool keep = false;
        ~Cleanup()
        {
            if (!keep) {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        }
    } cleanup{tmpDir};
    if (!dataFree)
        saveCalibrationTokens(calib, files::join(tmpDir, "calibration.bin"));

    CheckpointLayers provider(source);
    const auto sink = [&](int64_t layer, std::vector<std::pair<std::string, QuantizedWeight>>& results) {
        detail::writeLayerResult(tmpDir, layer, results);
    };
    if (dataFree) {
        detail::runDataFree(provider, plan, p, ctx, sink, report);
    } else {
        const auto allocator = detail::makeColumnAllocator(p);
        detail::runSequential(provider, calib.windows, plan, p, ctx, sink, report, allocator.get());
    }
    report.seconds = since(tStart);
    report.warnings = ctx.warnings();

    const at::ScalarType act =
        detail::scalarType(p.dtype ? *p.dtype : (device.is_cuda() ? DType::F16 : DType::F32));
    const int64_t n = int64_t(calib.windows.size());
    const int64_t T = n ? int64_t(calib.windows[0].size()) : 0;
    nlohmann::json j;
    j["format"] = "mpq-result";
    j["version"] = 1;
    j["model"] = source.path();
    j["method"] = !p.allocator.empty() ? p.allocator : plan.method == "uniform" ? p.method : plan.method;
    j["settings"] = {{"bits", p.bits},          {"group_size", p.groupSize},     {"act_order", p.actOrder},
                     {"static_groups", p.staticGroups}, {"symmetric", p.symmetric}, {"damp_percent", p.dampPercent},
                     {"block_size", p.blockSize}, {"calib", p.calib},          {"nsamples", n},
                     {"seqlen", T},             {"seed", p.seed},               {"device", p.device},
                     {"activation_dtype", std::string(c10::toString(act))}};
    if (!dataFree)
        j["calibration"] = {{"file", "calibration.bin"}, {"source", calib.sourcePath},
                            {"description", calib.description}};
    j["plan"] = nlohmann::json::parse(report.appliedPlan.toJson());
    if (!p.extraJson.empty())
        j["extra"] = nlohmann::json::parse(p.extraJson);
    j["avg_bits"] = report.avgBits;
    j["avg_bits_with_overhead"] = report.avgBitsWithOverhead;
    j["seconds"] = report.seconds;
    for (const auto& m : report.matrices)
        j["matrices"].push_back({{"tensor", m.tensor}, {"layer", m.layer}, {"linear", m.linear},
                                 {"rows", m.rows}, {"cols", m.cols}, {"quantizer", m.quantizer},
                                 {"code_bits", m.codeBits}, {"bits_with_overhead", m.bitsWithOverhead},
                                 {"output_error", m.outputError}, {"frobenius_error", m.frobeniusError},
                                 {"gptq_loss", m.gptqLoss},
                                 {"damping", m.damping}});
    j["warnings"] = report.warnings;
    {
        std::ofstream out(files::join(tmpDir, "result.json"));
        out << j.dump(1) << "\n";
        if (!out)
            throw Error(tmpDir + "/result.json: write failed");
    }
    ctx.checkCancelled();
    std::filesystem::remove_all(outDir);
    std::filesystem::rename(tmpDir, outDir);
    cleanup.keep = true;
    report.outDir = outDir;
    return report;
}

} // namespace mpq
