#include "alloc/mxq/detail/MxqCosts.h"
#include "alloc/detail/FpHessians.h"
#include "alloc/mxq/detail/LossProbe.h"
#include "alloc/mxq/detail/MxqProbed.h"

#include "core/Device.h"
#include "core/Error.h"
#include "core/detail/TorchDevice.h"
#include "eval/ModelSampler.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/Hqq.h"

#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>

namespace mpq::detail {

CalibrationSet mxqCalibration(const ModelSource& source, const MxqCostParams& params, JobContext& ctx)
{
    return modelCalibration(source, params.calibration, params.device, ctx);
}

int64_t mxqBatch(const MxqCostParams& params)
{
    return params.batchSize > 0 ? params.batchSize : (params.device.rfind("cuda", 0) == 0 ? 16 : 4);
}

std::pair<int64_t, int64_t> mxqLayerRange(const MxqCostParams& params, const ModelConfig& config)
{
    const int64_t first = params.firstLayer;
    const int64_t last = params.lastLayer < 0 ? config.numLayers : params.lastLayer;
    if (first < 0 || first >= last || last > config.numLayers)
        throw Error("MXQ costs: layer range [" + std::to_string(first) + ", " + std::to_string(last) +
                    ") is not inside the model's " + std::to_string(config.numLayers) + " layers");
    return {first, last};
}

void checkMxqConfigs(const std::vector<MxqConfig>& configs)
{
    if (configs.empty())
        throw Error("MXQ costs: no configurations given");
    for (const auto& c : configs)
        if (c.bits < 1 || c.bits > 8 || c.groupSize <= 0)
            throw Error("MXQ costs: configuration " + c.label() + " is invalid (bits 1..8, group > 0)");
}

double frobeniusCost(const at::Tensor& W, const at::Tensor& What)
{
    return (W.to(at::kFloat) - What.to(at::kFloat)).pow(2).sum(at::kDouble).sqrt().item<double>();
}

double relativeCost(const std::string& kind, double fnorm, double meanSquare)
{
    if (kind == "relative") // ‖W − Ŵ‖_F / RMS(W)
        return meanSquare > 0 ? fnorm / std::sqrt(meanSquare) : fnorm;
    if (kind == "relative-mse") // ‖W − Ŵ‖²_F / mean(W²)
        return meanSquare > 0 ? fnorm * fnorm / meanSquare : fnorm * fnorm;
    throw Error("MXQ costs: \"" + kind + "\" is not a relative cost kind (relative, relative-mse)");
}

double relativeHessianCost(double hessian, double signal, int64_t weights)
{
    // n · tr(ΔW H ΔWᵀ) / tr(W H Wᵀ): the layer output's noise-to-signal ratio, per weight
    return signal > 0 ? double(weights) * hessian / signal : hessian;
}

double hessianCost(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H)
{
    TORCH_CHECK(H.dim() == 2 && H.size(0) == W.size(1) && H.size(1) == W.size(1),
                "the Hessian of a [", W.size(0), ", ", W.size(1), "] matrix must be [", W.size(1),
                ", ", W.size(1), "], got ", H.sizes());
    const at::Tensor dW = W.to(at::kFloat) - What.to(at::kFloat);
    // tr(ΔW H ΔWᵀ) = Σ_r (ΔW H)_r · ΔW_r
    return (at::mm(dW, H.to(dW.device(), at::kFloat)) * dW).sum(at::kDouble).item<double>();
}

double sensitivityCost(double deltaLoss, double fnorm, double probeFnorm)
{
    // ΔL_probe · (‖W − Ŵ_c‖_F / ‖W − Ŵ_probe‖_F)²: the loss grows with the error's power (docs/mxq.md)
    return probeFnorm > 0 ? deltaLoss * (fnorm / probeFnorm) * (fnorm / probeFnorm) : 0.0;
}

MxqConfig sensitivityProbe(const std::vector<MxqConfig>& configs)
{
    if (configs.empty())
        throw Error("MXQ costs: no configurations given");
    MxqConfig best = configs.front();
    for (const MxqConfig& c : configs)
        if (c.bitsPerWeight() < best.bitsPerWeight())
            best = c;
    return best;
}

std::vector<double> flooredLossIncreases(std::vector<double> deltaLoss)
{
    double sum = 0;
    for (double d : deltaLoss)
        sum += std::max(d, 0.0);
    const double floor = deltaLoss.empty() ? 0.0 : 0.1 * sum / double(deltaLoss.size());
    for (double& d : deltaLoss)
        d = std::max(d, floor);
    return deltaLoss;
}

std::vector<double> mxqMatrixCosts(const at::Tensor& W, const std::vector<MxqConfig>& configs,
                                   const HqqOptions& hqq, const at::Tensor& H, JobContext* ctx,
                                   std::vector<HqqStats>* stats)
{
    c10::InferenceMode guard;
    std::vector<double> out;
    out.reserve(configs.size());
    const at::Tensor Wf = W.to(at::kFloat).contiguous();
    for (const auto& c : configs) {
        if (ctx)
            ctx->checkCancelled();
        HqqStats st;
        const QuantizedWeight q = hqqQuantize(Wf, c.bits, c.groupSize, hqq, &st);
        if (stats)
            stats->push_back(st);
        out.push_back(H.defined() ? hessianCost(Wf, q.dequant, H) : frobeniusCost(Wf, q.dequant));
    }
    return out;
}

MxqCostTable computeMxqCosts(const ModelSource& source, const MxqCostParams& params,
                             JobContext& ctx, const MxqHessianSource& hessians)
{
    checkDevice(params.device);
    const at::Device device = torchDevice(params.device);
    const ModelConfig& mc = source.config();
    const auto [first, last] = mxqLayerRange(params, mc);

    MxqCostTable table;
    table.model = source.path();
    table.costKind =
        hessians ? (params.costKind == "relative-hessian" ? "relative-hessian" : "hessian")
                 : (params.costKind == "relative" || params.costKind == "relative-mse" ? params.costKind
                                                                                       : "fnorm");
    table.device = params.device;
    table.hqq = params.hqq;
    table.configs = params.configs;
    checkMxqConfigs(table.configs);

    const auto t0 = std::chrono::steady_clock::now();
    ctx.start("mxq costs");
    int64_t total = 0;
    for (int64_t layer = first; layer < last; ++layer)
        total += int64_t(llama::layerLinears(source.config(), layer).size());
    int64_t done = 0;
    c10::InferenceMode guard;
    for (int64_t layer = first; layer < last; ++layer) {
        for (const llama::LinearSpec& s : llama::layerLinears(source.config(), layer)) {
            ctx.checkCancelled();
            MxqMatrixCosts m;
            m.tensor = s.tensor;
            m.layer = layer;
            m.linear = s.name;
            ctx.report(done, total, "matrices", m.tensor);
            // One matrix at a time on the device: the peak is one matrix and HQQ's temporaries.
            const at::Tensor W = loadTensor(source, m.tensor, at::kFloat, device);
            m.rows = W.size(0);
            m.cols = W.size(1);
            at::Tensor H;
            if (hessians) {
                H = hessians(layer, s);
                if (!H.defined())
                    throw Error("MXQ costs: no calibration Hessian for " + m.tensor);
            }
            m.cost = mxqMatrixCosts(W, table.configs, table.hqq, H, &ctx);
            if (table.costKind == "relative-hessian") {
                // The output error in units of the output's own power (docs/mxq.md): tr(W H Wᵀ)
                // is tr(ΔW H ΔWᵀ) with Ŵ = 0.
                const double signal = hessianCost(W, at::zeros_like(W), H);
                for (double& c : m.cost)
                    c = relativeHessianCost(c, signal, m.rows * m.cols);
            }
            if (table.costKind == "relative" || table.costKind == "relative-mse") {
                // The error in units of the matrix's own weight scale (docs/mxq.md).
                const double meanSquare = W.pow(2).mean(at::kDouble).item<double>();
                for (double& c : m.cost)
                    c = relativeCost(table.costKind, c, meanSquare);
            }
            for (const auto& c : table.configs)
                m.storageBits.push_back(mxqStorageBits(m.rows, m.cols, c));
            table.matrices.push_back(std::move(m));
            ++done;
        }
    }
    ctx.report(done, total, "matrices");
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
}

} // namespace mpq::detail

namespace mpq {

MxqCostTable computeMxqCosts(const MxqCostParams& params, JobContext& ctx)
{
    if (params.costKind == "probed")
        return detail::computeProbedMxqCosts(params, ctx);
    if (params.costKind == "fnorm" || params.costKind == "relative" || params.costKind == "relative-mse") {
        const ModelSource source = ModelSource::open(params.model);
        return detail::computeMxqCosts(source, params, ctx);
    }
    if (params.costKind != "hessian" && params.costKind != "relative-hessian" && params.costKind != "sensitivity")
        throw Error("MXQ costs: unknown cost \"" + params.costKind +
                    "\" (fnorm, relative, relative-mse, hessian, relative-hessian, sensitivity or probed)");
    checkDevice(params.device);
    const auto t0 = std::chrono::steady_clock::now();
    const ModelSource source = ModelSource::open(params.model, params.tokenizer);
    const ModelConfig& cfg = source.config();
    const CalibrationSet calib = detail::mxqCalibration(source, params, ctx);
    const at::Device device = detail::torchDevice(params.device);
    const at::ScalarType act = device.is_cuda() ? at::kHalf : at::kFloat;
    const int64_t batch = detail::mxqBatch(params);
    if (params.costKind == "sensitivity") {
        // The fnorm table, then one probe per matrix: the calibration loss with only that matrix
        // at the probe configuration, everything else full precision (docs/mxq.md, "Data-aware costs").
        MxqCostParams fp = params;
        fp.costKind = "fnorm";
        MxqCostTable table = detail::computeMxqCosts(source, fp, ctx);
        c10::InferenceMode guard;
        const detail::LossProbe probe(source, calib.windows, device, batch);
        ctx.start("mxq sensitivity");
        const MxqConfig probeConfig = detail::sensitivityProbe(table.configs);
        std::vector<double> deltaLoss, probeFnorm;
        const int64_t total = int64_t(table.matrices.size());
        for (const MxqMatrixCosts& m : table.matrices) {
            ctx.checkCancelled();
            ctx.report(int64_t(deltaLoss.size()), total, "matrices", m.tensor);
            llama::LinearSpec spec;
            for (const llama::LinearSpec& s : llama::layerLinears(cfg, m.layer))
                if (s.tensor == m.tensor)
                    spec = s;
            const at::Tensor W = detail::loadTensor(source, m.tensor, at::kFloat, device);
            const at::Tensor What = detail::hqqQuantize(W, probeConfig.bits, probeConfig.groupSize, table.hqq).dequant.to(at::kFloat);
            probeFnorm.push_back(detail::frobeniusCost(W, What));
            deltaLoss.push_back(probe.loss(m.layer, spec, What) - probe.baseline());
        }
        ctx.report(total, total, "matrices");
        deltaLoss = detail::flooredLossIncreases(deltaLoss);
        for (size_t i = 0; i < table.matrices.size(); ++i)
            for (double& c : table.matrices[i].cost)
                c = detail::sensitivityCost(deltaLoss[i], c, probeFnorm[i]);
        table.costKind = "sensitivity";
        table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return table;
    }
    detail::FpHessianPass pass(source, calib.windows, device, act, batch);
    MxqCostTable table = detail::computeMxqCosts(source, params, ctx,
                                                 [&](int64_t layer, const llama::LinearSpec& s) { return pass(layer, s); });
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
}

} // namespace mpq
