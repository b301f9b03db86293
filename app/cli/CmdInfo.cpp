#include "MemoryOptions.h"
#include "Args.h"
#include "Demo.h"
#include "Commands.h"

#include "model/ModelSource.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mpq::cli {

namespace {

std::string shapeText(const std::vector<int64_t>& shape)
{
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? "x" : "") + std::to_string(shape[i]);
    return s;
}

} // namespace

int runInfo(const std::vector<std::string>& argv)
{
    Args args("info", "Shows a model's architecture, parameter counts and tensor table. Validates the\n"
                      "whole checkpoint (headers, offsets, shapes) without reading the weights.");
    args.positional("MODEL", "Hugging Face folder or llama2.c .bin checkpoint");
    args.option("tokenizer", "PATH", "tokenizer.json or SentencePiece .model to use instead of the one beside the model");
    args.flag("json", "print one JSON object on stdout instead of text");
    addDemoFlag(args, DemoUse::Model);
    if (!args.parse(argv))
        return 0;
    applyDemo(args, DemoUse::Model);

    const ModelSource m = ModelSource::open(args.get("MODEL"), args.get("tokenizer"));
    const ModelConfig& c = m.config();
    int64_t stored = 0;
    for (const auto& t : m.tensors())
        stored += int64_t(t.bytes);

    if (args.has("json")) {
        nlohmann::json j;
        j["path"] = m.path();
        j["format"] = m.format() == ModelFormat::HuggingFace ? "huggingface" : "llama2c";
        j["tokenizer"] = m.tokenizerPath();
        j["model_type"] = c.modelType;
        j["features"] = c.featureSummary();
        j["architecture"] = nlohmann::json::parse(c.toJson());
        j["config"] = {{"hidden_size", c.hiddenSize},         {"intermediate_size", c.intermediateSize},
                       {"num_hidden_layers", c.numLayers},    {"num_attention_heads", c.numHeads},
                       {"num_key_value_heads", c.numKvHeads}, {"head_dim", c.headDim},
                       {"vocab_size", c.vocabSize},           {"max_position_embeddings", c.maxPositions},
                       {"rms_norm_eps", c.rmsNormEps},        {"rope_theta", c.ropeTheta},
                       {"tie_word_embeddings", c.tieWordEmbeddings}, {"torch_dtype", c.torchDtype}};
        j["parameters"] = {{"total", c.totalParameters()},
                           {"per_layer", c.layerParameters()},
                           {"embedding", c.vocabSize * c.hiddenSize}};
        j["stored_bytes"] = stored;
        for (const auto& t : m.tensors())
            j["tensors"].push_back({{"name", t.name}, {"dtype", storageTypeName(t.type)},
                                    {"shape", t.shape}, {"file", t.file}, {"bytes", t.bytes}});
        j["notes"] = m.notes();
        std::cout << withMemory(j).dump(2) << "\n";
        return 0;
    }

    std::printf("model      %s\n", m.path().c_str());
    std::printf("format     %s\n", m.format() == ModelFormat::HuggingFace ? "Hugging Face (safetensors)"
                                                                          : "llama2.c legacy .bin");
    std::printf("tokenizer  %s\n", m.tokenizerPath().empty() ? "(none found)" : m.tokenizerPath().c_str());
    std::printf("\narchitecture (%s)\n", c.modelType.c_str());
    std::printf("  features: %s\n", c.featureSummary().c_str());
    std::printf("  layers %lld, hidden %lld, intermediate %lld, heads %lld (kv %lld, head dim %lld)\n",
                (long long)c.numLayers, (long long)c.hiddenSize, (long long)c.intermediateSize,
                (long long)c.numHeads, (long long)c.numKvHeads, (long long)c.headDim);
    std::printf("  vocabulary %lld, context %lld, rope theta %g, rms eps %g, %s embeddings, saved as %s\n",
                (long long)c.vocabSize, (long long)c.maxPositions, c.ropeTheta, c.rmsNormEps,
                c.tieWordEmbeddings ? "tied" : "untied", c.torchDtype.c_str());
    std::printf("\nparameters\n  total %lld (%.2f M), per decoder layer %lld, embedding %lld\n",
                (long long)c.totalParameters(), c.totalParameters() / 1e6, (long long)c.layerParameters(),
                (long long)(c.vocabSize * c.hiddenSize));
    std::printf("  stored %.2f MiB in %zu file(s)\n", stored / 1048576.0, m.weightFiles().size());
    std::printf("\ntensors (%zu)\n", m.tensors().size());
    for (const auto& t : m.tensors())
        std::printf("  %-48s %-5s %-12s %s\n", t.name.c_str(), storageTypeName(t.type),
                    shapeText(t.shape).c_str(), t.file.substr(t.file.rfind('/') + 1).c_str());
    for (const auto& n : m.notes())
        std::printf("note: %s\n", n.c_str());
    return 0;
}

} // namespace mpq::cli
