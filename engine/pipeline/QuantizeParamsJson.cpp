// QuantizeParams <-> JSON, for the settings a session keeps with each run, and the report's figures.
#include "pipeline/QuantizeParamsJson.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq {

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
                         {"alpha_start", m.alphaStart}, {"target_tolerance", m.targetTolerance}};
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
        p.model = j.value("model", p.model);
        p.tokenizer = j.value("tokenizer", p.tokenizer);
        p.method = j.value("method", p.method);
        p.bits = j.value("bits", p.bits);
        p.groupSize = j.value("group_size", p.groupSize);
        p.actOrder = j.value("act_order", p.actOrder);
        p.staticGroups = j.value("static_groups", p.staticGroups);
        p.symmetric = j.value("symmetric", p.symmetric);
        p.dampPercent = j.value("damp_percent", p.dampPercent);
        p.blockSize = j.value("block_size", p.blockSize);
        p.calib = j.value("calib", p.calib);
        p.nsamples = j.value("nsamples", p.nsamples);
        p.seqlen = j.value("seqlen", p.seqlen);
        p.expertMinTokens = j.value("expert_min_tokens", p.expertMinTokens);
        p.seed = j.value("seed", p.seed);
        p.calibTokens = j.value("calib_tokens", p.calibTokens);
        p.device = j.value("device", p.device);
        if (j.contains("activation_dtype"))
            p.dtype = parseDType(j.at("activation_dtype").get<std::string>());
        p.batchSize = j.value("batch_size", p.batchSize);
        p.dataDir = j.value("data_dir", p.dataDir);
        p.allocator = j.value("allocator", p.allocator);
        p.storeHessianLimit = j.value("store_hessian_limit", p.storeHessianLimit);
        p.viewTopK = j.value("view_top_k", p.viewTopK);
        if (j.contains("mgptq")) {
            const auto& mj = j.at("mgptq");
            MgptqOptions& m = p.mgptq;
            m.bitsSet = mj.value("bits_set", m.bitsSet);
            m.model = mj.value("model", m.model);
            m.epochs = mj.value("epochs", m.epochs);
            m.learningRate = mj.value("learning_rate", m.learningRate);
            m.tauStart = mj.value("tau_start", m.tauStart);
            m.tauEnd = mj.value("tau_end", m.tauEnd);
            m.straightThrough = mj.value("straight_through", m.straightThrough);
            m.skipFeatures = mj.value("skip_features", false); // absent: written before the option existed
            m.hiddenDim = mj.value("hidden_dim", m.hiddenDim);
            m.featureDim = mj.value("feature_dim", m.featureDim);
            m.topK = mj.value("top_k", m.topK);
            m.denseLimit = mj.value("dense_limit", m.denseLimit);
            m.seed = mj.value("seed", m.seed);
            m.dampPercent = mj.value("damp_percent", m.dampPercent);
            m.alphaStart = mj.value("alpha_start", m.alphaStart);
            m.targetTolerance = mj.value("target_tolerance", m.targetTolerance);
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
                                             {"forward", r.forwardSeconds}}},
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
