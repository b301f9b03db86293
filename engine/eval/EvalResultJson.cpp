// EvalResult::toJson: the one JSON form of an evaluation (mpq eval --json, session records).
#include "eval/Perplexity.h"

#include <nlohmann/json.hpp>

namespace mpq {

std::string EvalResult::toJson() const
{
    const nlohmann::json j = {
        {"perplexity", perplexity},   {"mean_nll", meanNll},
        {"tokens", tokens},           {"windows", windows},
        {"input_tokens", inputTokens}, {"protocol", protocol},
        {"dataset", dataset},         {"dataset_path", datasetPath},
        {"seqlen", seqlen},           {"device", device},
        {"device_name", deviceName},  {"dtype", dtype},
        {"seconds", {{"load", loadSeconds}, {"tokenize", tokenizeSeconds},
                     {"forward", forwardSeconds}, {"total", totalSeconds}}},
        {"streamed", streamed},       {"batch_size", batch},
        {"memory_plan", {{"host_bytes", plannedHostBytes}, {"device_bytes", plannedDeviceBytes},
                         {"windows_per_pass", windowsPerPass}, {"reason", streamedReason},
                         {"breakdown", memoryPlan}}},
        {"peak_host_bytes", peakHostBytes}, {"start_host_bytes", startHostBytes},
        {"peak_device_bytes", peakDeviceBytes}, {"window_mean_nll", windowMeanNll}};
    return j.dump();
}

} // namespace mpq
