#include "export/detail/RunTensors.h"

#include "core/Error.h"
#include "model/LlamaArch.h"

#include <map>
#include <set>

namespace mpq::detail {

int64_t visitRunTensors(const QuantizedRun& run, const ModelSource& source, JobContext& ctx,
                        const RunTensorVisitor& visit, std::vector<std::string>& warnings)
{
    const ModelConfig& c = source.config();
    const std::vector<int64_t> stored = run.layers();
    const std::set<int64_t> storedSet(stored.begin(), stored.end());
    for (int64_t i : stored)
        if (i < 0 || i >= c.numLayers)
            throw Error(run.describe() + ": stores decoder layer " + std::to_string(i) + " but the base model " +
                        source.path() + " has " + std::to_string(c.numLayers));
    std::string missing;
    for (int64_t i = 0; i < c.numLayers; ++i)
        if (!storedSet.count(i))
            missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    if (!missing.empty())
        warnings.push_back(run.describe() + ": decoder layers " + missing +
                           " are not quantized in this run; the export holds their base-model weights");

    // Every tensor of the checkpoint in llama::expectedTensors' order; the quantized linears of
    // stored layers come with their quantized weights.
    const std::vector<llama::ExpectedTensor> all = llama::expectedTensors(c);
    size_t next = 0;
    auto visitUntilLayer = [&](int64_t layerLimit) { // tensors before layer `layerLimit` (or all, -1)
        for (; next < all.size(); ++next) {
            const int64_t l = llama::layerOf(all[next].name);
            if (layerLimit >= 0 && (l < 0 ? next > 0 : l >= layerLimit))
                return;
            visit(all[next].name, nullptr);
        }
    };
    visitUntilLayer(0);
    int64_t quantized = 0;
    for (int64_t i = 0; i < c.numLayers; ++i) {
        ctx.checkCancelled();
        std::map<std::string, QuantizedWeight> layer;
        if (storedSet.count(i))
            for (auto& [name, q] : run.layer(i))
                layer.emplace(name, std::move(q));
        auto emit = [&](const std::string& name, const std::vector<int64_t>& shape) {
            const auto it = layer.find(name);
            if (it == layer.end()) {
                visit(name, nullptr);
                return;
            }
            if (it->second.codes.sizes().vec() != shape)
                throw Error(run.describe() + ": matrix " + name + " has shape [" +
                            std::to_string(it->second.codes.size(0)) + ", " + std::to_string(it->second.codes.size(1)) +
                            "] but the base model's is [" + std::to_string(shape[0]) + ", " +
                            std::to_string(shape[1]) + "]");
            visit(name, &it->second);
            ++quantized;
            layer.erase(it);
        };
        const std::vector<llama::LinearSpec> linears = llama::layerLinears(c, i);
        for (; next < all.size() && llama::layerOf(all[next].name) == i; ++next) {
            if (llama::findLinear(linears, all[next].name))
                emit(all[next].name, all[next].shape);
            else
                visit(all[next].name, nullptr);
        }
        if (!layer.empty())
            throw Error(run.describe() + ": layer " + std::to_string(i) + " stores \"" + layer.begin()->first +
                        "\", which is not a linear of this model's decoder layer");
        ctx.report(i + 1, c.numLayers, "layers", "layer " + std::to_string(i));
    }
    visitUntilLayer(-1); // final norm, lm_head
    return quantized;
}

} // namespace mpq::detail
