// QuantizeParams <-> JSON, for the settings a session keeps with each run, and the report's figures.
#include "pipeline/QuantizeParamsJson.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"

#include <nlohmann/json.hpp>

namespace mpq {

using detail::jsonValue;

std::string quantizeParamsToJson(const QuantizeParams& p)
{
    nlohmann::json j;
    j["model"] = p.model;
    j["tokenizer"] = p.tokenizer;
    j["method"] = p.method;
    j["bits"] = p.bits;
    j["group_size"] = p.groupSize;
    j["act_order"] = p.actOrder;
    j["static_groups"] = p.staticGroups;
    j["symmetric"] = p.symmetric;
    j["damp_percent"] = p.dampPercent;
    j["block_size"] = p.blockSize;
    j["calib"] = p.calib;
    j["nsamples"] = p.nsamples;
    j["seqlen"] = p.seqlen;
    j["seed"] = p.seed;
    j["calib_tokens"] = p.calibTokens;
    j["device"] = p.device;
    if (p.dtype)
        j["activation_dtype"] = dtypeName(*p.dtype);
    j["batch_size"] = p.batchSize;
    j["data_dir"] = p.dataDir;
    j["allocator"] = p.allocator;
    j["store_hessian_limit"] = p.storeHessianLimit;
    j["view_top_k"] = p.viewTopK;
    j["expert_min_tokens"] = p.expertMinTokens;
    const MgptqOptions& m = p.mgptq;
    nlohmann::json mj = {{"bits_set", m.bitsSet},       {"model", m.model},
                         {"epochs", m.epochs},          {"learning_rate", m.learningRate},
                         {"tau_start", m.tauStart},     {"tau_end", m.tauEnd},
                         {"straight_through", m.straightThrough},
                         {"skip_features", m.skipFeatures},
                         {"hidden_dim", m.hiddenDim},   {"feature_dim", m.featureDim},
                         {"top_k", m.topK},             {"dense_limit", m.denseLimit},
                         {"seed", m.seed},              {"damp_percent", m.dampPercent},
                         {"alpha_start", m.alphaStart}, {"target_tolerance", m.targetTolerance},
                         {"restarts", m.restarts},      {"polish", m.polish},
                         {"greedy_candidate", m.greedyCandidate}, {"relaxed_rounding", m.relaxedRounding}};
    if (m.alpha)
        mj["alpha"] = *m.alpha;
    if (m.targetBits)
        mj["target_bits"] = *m.targetBits;
    j["mgptq"] = mj;
    return j.dump();
}

QuantizeParams quantizeParamsFromJson(const std::string& text, const std::string& source)
{
    QuantizeParams p;
    try {
        const auto j = nlohmann::json::parse(text);
        p.model = jsonValue(j, "model", p.model, source);
        p.tokenizer = jsonValue(j, "tokenizer", p.tokenizer, source);
        p.method = jsonValue(j, "method", p.method, source);
        p.bits = jsonValue(j, "bits", p.bits, source);
        p.groupSize = jsonValue(j, "group_size", p.groupSize, source);
        p.actOrder = jsonValue(j, "act_order", p.actOrder, source);
        p.staticGroups = jsonValue(j, "static_groups", p.staticGroups, source);
        p.symmetric = jsonValue(j, "symmetric", p.symmetric, source);
        p.dampPercent = jsonValue(j, "damp_percent", p.dampPercent, source);
        p.blockSize = jsonValue(j, "block_size", p.blockSize, source);
        p.calib = jsonValue(j, "calib", p.calib, source);
        p.nsamples = jsonValue(j, "nsamples", p.nsamples, source);
        p.seqlen = jsonValue(j, "seqlen", p.seqlen, source);
        p.expertMinTokens = jsonValue(j, "expert_min_tokens", p.expertMinTokens, source);
        p.seed = jsonValue(j, "seed", p.seed, source);
        p.calibTokens = jsonValue(j, "calib_tokens", p.calibTokens, source);
        p.device = jsonValue(j, "device", p.device, source);
        if (j.contains("activation_dtype"))
            p.dtype = parseDType(j.at("activation_dtype").get<std::string>());
        p.batchSize = jsonValue(j, "batch_size", p.batchSize, source);
        p.dataDir = jsonValue(j, "data_dir", p.dataDir, source);
        p.allocator = jsonValue(j, "allocator", p.allocator, source);
        p.storeHessianLimit = jsonValue(j, "store_hessian_limit", p.storeHessianLimit, source);
        p.viewTopK = jsonValue(j, "view_top_k", p.viewTopK, source);
        if (j.contains("mgptq")) {
            const auto& mj = j.at("mgptq");
            MgptqOptions& m = p.mgptq;
            m.bitsSet = jsonValue(mj, "bits_set", m.bitsSet, source);
            m.model = jsonValue(mj, "model", m.model, source);
            m.epochs = jsonValue(mj, "epochs", m.epochs, source);
            m.learningRate = jsonValue(mj, "learning_rate", m.learningRate, source);
            m.tauStart = jsonValue(mj, "tau_start", m.tauStart, source);
            m.tauEnd = jsonValue(mj, "tau_end", m.tauEnd, source);
            m.straightThrough = jsonValue(mj, "straight_through", m.straightThrough, source);
            m.skipFeatures = jsonValue(mj, "skip_features", false, source); // absent: written before the option existed
            m.hiddenDim = jsonValue(mj, "hidden_dim", m.hiddenDim, source);
            m.featureDim = jsonValue(mj, "feature_dim", m.featureDim, source);
            m.topK = jsonValue(mj, "top_k", m.topK, source);
            m.denseLimit = jsonValue(mj, "dense_limit", m.denseLimit, source);
            m.seed = jsonValue(mj, "seed", m.seed, source);
            m.dampPercent = jsonValue(mj, "damp_percent", m.dampPercent, source);
            m.alphaStart = jsonValue(mj, "alpha_start", m.alphaStart, source);
            m.targetTolerance = jsonValue(mj, "target_tolerance", m.targetTolerance, source);
            m.restarts = jsonValue(mj, "restarts", 1, source);
            m.polish = jsonValue(mj, "polish", false, source); // absent: written before the polish existed
            m.greedyCandidate = jsonValue(mj, "greedy_candidate", false, source);
            // absent: written before the stable rounding existed
            m.relaxedRounding = jsonValue(mj, "relaxed_rounding", false, source);
            if (mj.contains("alpha"))
                m.alpha = mj.at("alpha").get<double>();
            if (mj.contains("target_bits"))
                m.targetBits = mj.at("target_bits").get<double>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": malformed run settings (" + e.what() + ")");
    }
    return p;
}

std::string quantizeReportFiguresJson(const QuantizeReport& r)
{
    return nlohmann::json{{"avg_bits", r.avgBits},
                          {"avg_bits_with_overhead", r.avgBitsWithOverhead},
                          {"seconds", r.seconds},
                          {"seconds_split", {{"calibration", r.calibrationSeconds},
                                             {"hessian", r.hessianSeconds},
                                             {"quantize", r.quantizeSeconds},
                                             {"forward", r.forwardSeconds},
                                             {"load", r.loadSeconds},
                                             {"output", r.outputSeconds}}},
                          {"peak_device_bytes", r.peakDeviceBytes},
                          {"peak_host_bytes", r.peakHostBytes},
                          {"start_host_bytes", r.startHostBytes},
                          {"memory_plan", {{"host_bytes", r.plannedHostBytes},
                                           {"device_bytes", r.plannedDeviceBytes},
                                           {"batch_size", r.batch},
                                           {"breakdown", r.memoryPlan}}},
                          {"device", r.deviceName},
                          {"matrices", r.matrices.size()}}
        .dump();
}

} // namespace mpq
