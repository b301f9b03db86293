#include "alloc/mxq/MxqCostChoice.h"

#include "core/Error.h"
#include "data/Calibration.h"
#include "data/TextSources.h"
#include "model/ModelSource.h"

#include <algorithm>

namespace mpq {

int64_t probedMxqBytes(const ModelConfig& c, const MxqCostParams& params)
{
    const int64_t params32 = c.totalParameters() * 4;
    int64_t layerWeights = 0;
    for (int64_t l = 0; l < c.numLayers; ++l)
        layerWeights += c.layerParameters(l);
    const int64_t widest = std::max(c.hiddenSize, c.intermediateSize);
    // HQQ results kept per matrix and configuration: one byte per code, an fp32 scale and zero
    // per group.
    double hqq = 0;
    for (const MxqConfig& k : params.configs)
        hqq += double(layerWeights) * (1.0 + 8.0 / double(std::max<int64_t>(1, k.groupSize)));
    const bool tokens = !params.calibration.tokensFile.empty();
    const int64_t windows = tokens ? std::max<int64_t>(2, params.calibration.nsamples)
                                   : 2 * std::max<int64_t>(1, params.calibration.nsamples);
    const int64_t seqlen = std::min(params.calibration.seqlen, c.maxPositions);
    // Every layer's input and the last layer's output, for both window sets.
    const int64_t inputs = (c.numLayers + 1) * windows * seqlen * c.hiddenSize * 4;
    const int64_t hessians = 4 * widest * widest * 4;
    const int64_t batch = params.batchSize > 0 ? params.batchSize : (params.device.rfind("cuda", 0) != 0 ? 1 : 16);
    // A batch's logits and their log-sum-exp; the plans' KL from the unquantized model adds
    // about five chunks of LossProbe::kKlChunkElements.
    const int64_t logits = std::min(batch, windows) * seqlen * c.vocabSize * 4 * 2 + 5 * (int64_t(1) << 24) * 4;
    return 2 * params32 + int64_t(hqq) + inputs + hessians + logits;
}

MxqCostChoice chooseMxqCost(const ModelConfig& c, const MxqCostParams& asked, const MemoryBudget& budget)
{
    const auto fnorm = [](std::string why) {
        return MxqCostChoice{"fnorm", "fnorm (data-free, the paper's): " + why};
    };
    MxqCostParams params = asked;
    std::string source = params.calibration.tokensFile;
    int64_t costWindows = params.calibration.nsamples, selectionWindows = params.calibration.nsamples;
    try {
        if (!source.empty()) {
            // A tokens file's windows, split in halves (the costs' first), as the probed kind does.
            const CalibrationSet set = loadCalibrationTokens(source, int32_t(c.vocabSize));
            if (set.windows.size() < 2)
                return fnorm(source + " holds fewer than two calibration windows, probed needs two");
            params.calibration.nsamples = int64_t(set.windows.size());
            params.calibration.seqlen = int64_t(set.windows.front().size());
            selectionWindows = int64_t(set.windows.size()) / 2;
            costWindows = int64_t(set.windows.size()) - selectionWindows;
        } else {
            const std::string dir =
                params.calibration.dataDir.empty() ? data::dataDirectory() : params.calibration.dataDir;
            for (const std::string& part : calibrationSourceParts(params.calibration.source))
                source += (source.empty() ? "" : " + ") +
                          (part == kSelfCalibration ? std::string("text sampled from the model")
                                                    : data::resolveCalibrationSet(part, dir));
        }
    } catch (const Error& e) {
        const std::string& named = params.calibration.tokensFile.empty() ? params.calibration.source : source;
        return fnorm("no calibration data for probed (" + named + ": " + e.what() +
                     "); give --calib or --calib-tokens for it");
    }
    const int64_t need = probedMxqBytes(c, params);
    const bool cpu = params.device.rfind("cuda", 0) != 0;
    int64_t have = cpu ? physicalHostBytes() / 2 : deviceTotalBytes(params.device) / 10 * 9;
    std::string where = cpu ? "half of this machine's memory" : "90 % of " + params.device + "'s memory";
    const int64_t limit = cpu ? budget.hostBytes : budget.deviceBytes;
    if (limit > 0 && (have <= 0 || limit < have)) {
        have = limit;
        where = cpu ? "--max-host-memory" : "--max-device-memory";
    }
    if (have > 0 && need > have)
        return fnorm("probed would hold about " + byteSizeText(need) +
                     " (the model twice in fp32 and the HQQ codes of " + std::to_string(params.configs.size()) +
                     " configurations), over " + where + " (" + byteSizeText(have) + ")");
    return {"probed", "probed (plans measured on " + std::to_string(costWindows) + " + " +
                          std::to_string(selectionWindows) + " windows of " +
                          std::to_string(std::min(params.calibration.seqlen, c.maxPositions)) + " tokens of " +
                          source + ", about " + byteSizeText(need) + " held; --cost fnorm for the paper's "
                          "data-free MXQ)"};
}

std::string resolveAutoMxqCost(MxqCostParams& params, const MemoryBudget& budget)
{
    if (params.costKind != "auto")
        return {};
    const ModelConfig config = ModelSource::open(params.model, params.tokenizer).config();
    const MxqCostChoice c = chooseMxqCost(config, params, budget);
    params.costKind = c.kind;
    return "auto: " + c.reason;
}

} // namespace mpq
