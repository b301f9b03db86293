// Memory planning for evaluation and quantization (docs/streaming.md): what a job holds at its
// peak, from the model's config and the job's shape, so that it can choose batch sizes and
// layer streaming within a budget, or refuse before reading any weight.
#include "model/MemoryPlan.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace mpq {

namespace {

std::string sizeText(int64_t b)
{
    return byteSizeText(b);
}

bool isCpu(const std::string& device)
{
    return device.rfind("cuda", 0) != 0;
}

/// Widest MLP a token goes through (an MoE token: its top-k experts and the shared expert).
int64_t mlpWidth(const ModelConfig& c)
{
    if (c.moe.numExperts > 0)
        return std::max(c.intermediateSize,
                        c.moe.topK * c.moe.expertIntermediateSize + c.moe.sharedExpertIntermediateSize);
    return c.intermediateSize;
}

/// Activations one token of a window keeps alive inside a decoder layer's forward pass: the
/// normed input, q/k/v (expanded for grouped-query attention), rotary temporaries, the attention
/// output, the residuals and the SwiGLU's gate, up and product.
int64_t layerActivationPerToken(const ModelConfig& c, int64_t e)
{
    const int64_t q = c.numHeads * c.headDim;
    return (7 * c.hiddenSize + 8 * q + 5 * mlpWidth(c)) * e;
}

/// One window's activations in a decoder layer, with a block of attention scores (fp32).
int64_t windowActivations(const ModelConfig& c, int64_t T, int64_t e)
{
    return T * layerActivationPerToken(c, e) + c.numHeads * T * std::min<int64_t>(T, 512) * 4;
}

/// One window's fp32 logits and their log-sum-exp temporaries (the CPU goes 256 positions at a time).
int64_t windowLogits(const ModelConfig& c, int64_t T, bool cpu)
{
    return (cpu ? std::min<int64_t>(T, 256) : T) * c.vocabSize * 4 * 3;
}

std::vector<int64_t> batchCandidates(int64_t asked, int64_t automatic)
{
    if (asked > 0)
        return {asked};
    std::vector<int64_t> out;
    for (int64_t b = std::max<int64_t>(1, automatic); b >= 1; b /= 2)
        out.push_back(b);
    return out;
}

bool fits(const MemoryBudget& budget, bool cpu, int64_t host, int64_t device)
{
    return (!budget.limitsHost() || host <= budget.hostBytes) &&
           (cpu || !budget.limitsDevice() || device <= budget.deviceBytes);
}

/// "needs at least … of host memory (…) but the host memory limit is …", naming the limit that fails.
std::string refusal(const std::string& job, const MemoryBudget& budget, bool cpu, int64_t host, int64_t device,
                    const std::string& breakdown)
{
    const bool hostFails = budget.limitsHost() && host > budget.hostBytes;
    if (hostFails || cpu)
        return job + " needs at least " + sizeText(host) + " of host memory (" + breakdown +
               ") but the host memory limit is " + sizeText(budget.hostBytes);
    return job + " needs at least " + sizeText(device) + " of device memory (" + breakdown +
           ") but the device memory limit is " + sizeText(budget.deviceBytes);
}

} // namespace

int64_t dtypeBytes(DType t)
{
    return t == DType::F32 ? 4 : 2;
}

int64_t ModelFootprint::largestStepBytes() const
{
    return std::max({embedBytes, headBytes, largestLayerBytes});
}

ModelFootprint ModelFootprint::of(const ModelConfig& c, int64_t e)
{
    ModelFootprint f;
    f.embedBytes = c.vocabSize * c.hiddenSize * e;
    f.headBytes = c.hiddenSize * e + (c.tieWordEmbeddings ? 0 : f.embedBytes);
    for (int64_t i = 0; i < c.numLayers; ++i)
        f.largestLayerBytes = std::max(f.largestLayerBytes, c.layerParameters(i) * e);
    f.totalBytes = c.totalParameters() * e;
    return f;
}

EvalMemoryPlan planEvalMemory(const ModelConfig& c, DType dtype, const std::string& device, const EvalShape& s,
                              const MemoryBudget& budget)
{
    const bool cpu = isCpu(device);
    const int64_t e = dtypeBytes(dtype);
    const int64_t T = std::max<int64_t>(1, s.seqlen), H = c.hiddenSize;
    const int64_t n = std::max<int64_t>(1, s.windows);
    const ModelFootprint f = ModelFootprint::of(c, e);
    // A quantization result's dequantized matrices (fp32, CPU) are held beside the weights.
    const int64_t layersBytes = f.totalBytes - f.embedBytes - f.headBytes;
    const int64_t dequantAll = s.quantizedRun ? layersBytes / e * 4 : 0;
    const int64_t dequantLayer = s.quantizedRun ? f.largestLayerBytes / e * 4 : 0;
    const int64_t automatic = cpu ? 1 : std::max<int64_t>(1, (int64_t(2) << 30) / (T * c.vocabSize * 4));
    const std::vector<int64_t> batches = batchCandidates(s.batchAsked, std::min(automatic, n));
    auto activations = [&](int64_t b) {
        return b * (windowActivations(c, T, e) + 2 * T * H * e + windowLogits(c, T, cpu));
    };

    EvalMemoryPlan best;
    bool haveSmallest = false;
    auto consider = [&](EvalMemoryPlan p) {
        if (fits(budget, cpu, p.hostBytes, p.deviceBytes))
            return std::optional<EvalMemoryPlan>(p);
        // Remember the smallest plan for the refusal.
        const int64_t need = cpu ? p.hostBytes : std::max(p.hostBytes, p.deviceBytes);
        const int64_t bestNeed = cpu ? best.hostBytes : std::max(best.hostBytes, best.deviceBytes);
        if (!haveSmallest || need < bestNeed) {
            best = p;
            haveSmallest = true;
        }
        return std::optional<EvalMemoryPlan>();
    };

    if (!s.offload) {
        for (int64_t b : batches) {
            EvalMemoryPlan p;
            p.batch = b;
            const int64_t work = f.totalBytes + activations(b);
            p.hostBytes = cpu ? work + dequantAll : f.largestStepBytes() + dequantAll;
            p.deviceBytes = cpu ? 0 : work;
            p.breakdown = "whole model " + sizeText(f.totalBytes) + ", activations and logits of " +
                          std::to_string(b) + (b == 1 ? " window " : " windows ") + sizeText(activations(b)) +
                          (dequantAll ? ", dequantized matrices " + sizeText(dequantAll) : "");
            if (auto ok = consider(p))
                return *ok;
        }
    }

    const std::string reason = s.offload ? "offload asked for" : "the whole model (" + sizeText(f.totalBytes) + ") does not fit the memory limit";
    // Streamed: all windows' hidden states first; fewer per pass over the layers when they do not fit.
    for (int64_t perPass = n; perPass >= 1; perPass = perPass == 1 ? 0 : (perPass + 1) / 2) {
        for (int64_t b : batches) {
            if (b > perPass)
                continue;
            for (bool onHost : {false, true}) {
                if (onHost && cpu)
                    continue;
                EvalMemoryPlan p;
                p.streamed = true;
                p.reason = reason;
                p.batch = b;
                p.windowsPerPass = perPass;
                p.hiddenOnHost = onHost;
                const int64_t hidden = perPass * T * H * e;
                const int64_t group = b * T * H * e;
                const int64_t work = f.largestStepBytes() + activations(b) + group;
                if (cpu) {
                    p.hostBytes = work + hidden + dequantLayer;
                } else if (onHost) {
                    p.deviceBytes = work + group;
                    p.hostBytes = hidden + f.largestStepBytes() + dequantLayer;
                } else {
                    p.deviceBytes = work + hidden;
                    p.hostBytes = f.largestStepBytes() + dequantLayer;
                }
                p.breakdown = "layer-streamed: largest of embedding / one decoder layer / head " +
                              sizeText(f.largestStepBytes()) + ", hidden states of " + std::to_string(perPass) +
                              (perPass == 1 ? " window " : " windows ") + sizeText(hidden) +
                              (onHost ? " (host)" : "") + ", activations and logits of " + std::to_string(b) +
                              (b == 1 ? " window " : " windows ") + sizeText(activations(b) + group) +
                              (dequantLayer ? ", one layer's dequantized matrices " + sizeText(dequantLayer) : "");
                if (auto ok = consider(p))
                    return *ok;
            }
        }
    }
    throw MemoryBudgetError(refusal("evaluation", budget, cpu, best.hostBytes, best.deviceBytes, best.breakdown));
}

int64_t automaticQuantizeBatch(const std::string& device)
{
    return isCpu(device) ? 1 : 16;
}

QuantizeMemoryPlan planQuantizeMemory(const ModelConfig& c, DType act, const std::string& device, int64_t windows,
                                      int64_t seqlen, int64_t batchAsked, bool dataFree, const MemoryBudget& budget)
{
    const bool cpu = isCpu(device);
    const int64_t e = dtypeBytes(act);
    const int64_t n = std::max<int64_t>(1, windows), T = std::max<int64_t>(1, seqlen), H = c.hiddenSize;
    const ModelFootprint f = ModelFootprint::of(c, e);
    const int64_t q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
    const int64_t widest = std::max({H, q, c.intermediateSize, c.moe.expertIntermediateSize});
    const int64_t expertWidth = c.moe.numExperts > 0 ? std::max(c.moe.expertIntermediateSize, c.moe.sharedExpertIntermediateSize)
                                                     : c.intermediateSize;
    // The largest stack GPTQ quantizes at once: q/k/v, gate/up, or down.
    const int64_t stack = std::max({(q + 2 * kv) * H, 2 * expertWidth * H, H * widest});
    const int64_t sites = c.moe.numExperts > 0 ? c.moe.numExperts + 2 : 1;
    const int64_t hessians = 4 * widest * widest * sites;
    const int64_t gptq = 4 * (3 * widest * widest + 4 * stack);
    const int64_t ids = n * T * 8;
    // The bytes of one tensor as read from the file (up to fp32) while it becomes a tensor.
    const int64_t readBuffer = 4 * H * widest;

    QuantizeMemoryPlan plan;
    if (dataFree) {
        // One matrix at a time: the layer in fp32 and HQQ's temporaries.
        const int64_t layer = f.largestLayerBytes / e * 4;
        plan.batch = 1;
        const int64_t work = layer + 4 * stack;
        plan.hostBytes = cpu ? work : f.largestLayerBytes / e * 4;
        plan.deviceBytes = cpu ? 0 : work;
        plan.breakdown = "one decoder layer in fp32 " + sizeText(layer) + ", quantizer temporaries " + sizeText(4 * stack);
        if (!fits(budget, cpu, plan.hostBytes, plan.deviceBytes))
            throw MemoryBudgetError(refusal("quantization", budget, cpu, plan.hostBytes, plan.deviceBytes, plan.breakdown));
        return plan;
    }

    const int64_t hiddenIn = n * T * H * e;
    const int64_t embedStep = f.embedBytes + hiddenIn + ids;
    const int64_t automatic = automaticQuantizeBatch(device);
    QuantizeMemoryPlan smallest;
    for (int64_t b : batchCandidates(batchAsked, std::min(automatic, n))) {
        const int64_t acts = b * windowActivations(c, T, e);
        const int64_t layerStep = 2 * f.largestLayerBytes + 2 * hiddenIn + hessians + gptq + acts + ids + readBuffer;
        QuantizeMemoryPlan p;
        p.batch = b;
        const int64_t work = std::max(embedStep, layerStep);
        p.deviceBytes = cpu ? 0 : work;
        // On CUDA the host holds one tensor being read and one layer's results being written.
        p.hostBytes = cpu ? work : f.largestLayerBytes + f.largestLayerBytes / e * 2 + ids;
        // Without a host limit the next layer is read ahead into host memory as the file
        // stores it (counted at 16 bits per weight, what checkpoints of this size hold).
        const int64_t readAhead = budget.limitsHost() ? 0 : f.largestLayerBytes / e * 2;
        p.hostBytes += readAhead;
        p.breakdown = "one decoder layer " + sizeText(f.largestLayerBytes) + " (and its quantized copy), hidden states in and out of " +
                      std::to_string(n) + " calibration windows x " + std::to_string(T) + " tokens " + sizeText(2 * hiddenIn) +
                      ", Hessians and GPTQ " + sizeText(hessians + gptq) + ", reading a tensor " + sizeText(readBuffer) +
                      ", activations of " + std::to_string(b) +
                      (b == 1 ? " window " : " windows ") + sizeText(acts) + "; embedding step " + sizeText(embedStep) +
                      (readAhead > 0 ? "; the next layer read ahead on the host " + sizeText(readAhead) : "");
        if (fits(budget, cpu, p.hostBytes, p.deviceBytes))
            return p;
        smallest = p;
    }
    throw MemoryBudgetError(refusal("quantization", budget, cpu, smallest.hostBytes, smallest.deviceBytes, smallest.breakdown));
}

} // namespace mpq
