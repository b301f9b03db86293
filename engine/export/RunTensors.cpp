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

    int64_t quantized = 0;
    visit(llama::embedTensor(), nullptr);
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
        visit(llama::inputNormTensor(i), nullptr);
        for (llama::Linear l : {llama::Linear::Q, llama::Linear::K, llama::Linear::V, llama::Linear::O})
            emit(llama::linearTensor(i, l), llama::linearShape(c, l));
        visit(llama::postAttentionNormTensor(i), nullptr);
        for (llama::Linear l : {llama::Linear::Gate, llama::Linear::Up, llama::Linear::Down})
            emit(llama::linearTensor(i, l), llama::linearShape(c, l));
        if (!layer.empty())
            throw Error(run.describe() + ": layer " + std::to_string(i) + " stores \"" + layer.begin()->first +
                        "\", which is not a linear of a LLaMA decoder layer");
        ctx.report(i + 1, c.numLayers, "layers", "layer " + std::to_string(i));
    }
    visit(llama::finalNormTensor(), nullptr);
    if (!c.tieWordEmbeddings)
        visit(llama::lmHeadTensor(), nullptr);
    return quantized;
}

} // namespace mpq::detail
