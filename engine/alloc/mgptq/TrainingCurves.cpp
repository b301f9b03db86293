#include "alloc/mgptq/TrainingCurves.h"

#include <nlohmann/json.hpp>

namespace mpq {

TrainingCurves parseTrainingCurves(const std::string& diagnosticsJson)
{
    TrainingCurves c;
    if (diagnosticsJson.empty())
        return c;
    const auto j = nlohmann::json::parse(diagnosticsJson, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return c;
    if (j.contains("alpha") && j["alpha"].is_number())
        c.finalAlpha = j["alpha"].get<double>();
    if (!j.contains("curves") || !j["curves"].is_object())
        return c;
    const auto& cj = j["curves"];
    auto take = [&](const char* key) {
        std::vector<double> v;
        if (cj.contains(key) && cj[key].is_array())
            for (const auto& x : cj[key])
                v.push_back(x.is_number() ? x.get<double>() : 0.0);
        return v;
    };
    c.loss = take("loss");
    c.lQuant = take("l_quant");
    c.lBit = take("l_bit");
    c.avgBits = take("avg_bits");
    c.alpha = take("alpha");
    c.tau = take("tau");
    return c;
}

} // namespace mpq
