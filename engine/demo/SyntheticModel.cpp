#include "demo/SyntheticModel.h"

#include "core/Error.h"
#include "core/Files.h"
#include "data/Calibration.h"
#include "model/LlamaArch.h"
#include "model/SafetensorsWriter.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace mpq {

namespace {

constexpr const char* kMarker = "SYNTHETIC.txt";

std::string gaussian(std::mt19937_64& rng, int64_t rows, int64_t cols, double stddev,
                     const std::vector<double>* columnScale)
{
    std::normal_distribution<float> normal(0.0f, float(stddev));
    std::string bytes(size_t(rows * cols) * sizeof(float), '\0');
    auto* out = reinterpret_cast<float*>(bytes.data());
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            out[r * cols + c] = normal(rng) * (columnScale ? float((*columnScale)[size_t(c)]) : 1.0f);
    return bytes;
}

std::string ones(int64_t n)
{
    std::vector<float> v(size_t(n), 1.0f);
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

void writeText(const std::string& path, const std::string& text)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << text;
        if (!out)
            throw Error(tmp + ": write failed");
    }
    std::filesystem::rename(tmp, path);
}

} // namespace

void writeSyntheticModel(const SyntheticDemoSpec& s, const std::string& dir)
{
    std::filesystem::create_directories(dir);
    ModelConfig c;
    c.hiddenSize = s.hidden;
    c.intermediateSize = s.intermediate;
    c.numLayers = s.layers;
    c.numHeads = s.heads;
    c.numKvHeads = s.heads;
    c.headDim = s.hidden / s.heads;
    c.vocabSize = s.vocab;
    c.maxPositions = s.maxPositions;
    c.tieWordEmbeddings = true;
    c.validate("synthetic model spec");

    const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}},
                                   {"model_type", "llama"},
                                   {"hidden_size", c.hiddenSize},
                                   {"intermediate_size", c.intermediateSize},
                                   {"num_hidden_layers", c.numLayers},
                                   {"num_attention_heads", c.numHeads},
                                   {"num_key_value_heads", c.numKvHeads},
                                   {"vocab_size", c.vocabSize},
                                   {"max_position_embeddings", c.maxPositions},
                                   {"rms_norm_eps", 1e-5},
                                   {"tie_word_embeddings", true},
                                   {"torch_dtype", "float32"},
                                   {"hidden_act", "silu"},
                                   {"bos_token_id", 1},
                                   {"eos_token_id", 2}};
    writeText(files::join(dir, "config.json"), config.dump(2) + "\n");

    std::mt19937_64 rng(s.seed);
    std::lognormal_distribution<double> colScale(0.0, 0.6);
    SafetensorsWriter w;
    w.setMetadata("format", "pt");
    w.setMetadata("mpq_synthetic", "random weights for the workbench demo; not a trained model");
    w.add(llama::embedTensor(), "F32", {c.vocabSize, c.hiddenSize}, gaussian(rng, c.vocabSize, c.hiddenSize, 0.02, nullptr));
    w.add(llama::finalNormTensor(), "F32", {c.hiddenSize}, ones(c.hiddenSize));
    for (int64_t layer = 0; layer < c.numLayers; ++layer) {
        w.add(llama::inputNormTensor(layer), "F32", {c.hiddenSize}, ones(c.hiddenSize));
        w.add(llama::postAttentionNormTensor(layer), "F32", {c.hiddenSize}, ones(c.hiddenSize));
        for (const llama::LinearSpec& spec : llama::layerLinears(c, layer)) {
            std::vector<double> scale(static_cast<size_t>(spec.cols));
            for (double& x : scale)
                x = colScale(rng);
            w.add(spec.tensor, "F32", {spec.rows, spec.cols}, gaussian(rng, spec.rows, spec.cols, 0.02, &scale));
        }
    }
    w.write(files::join(dir, "model.safetensors"));

    CalibrationSet calib;
    std::uniform_int_distribution<int32_t> token(3, int32_t(c.vocabSize - 1));
    for (int64_t i = 0; i < s.calibWindows; ++i) {
        std::vector<int32_t> window(size_t(s.calibLength));
        window[0] = 1; // BOS
        for (size_t t = 1; t < window.size(); ++t)
            window[t] = token(rng);
        calib.windows.push_back(std::move(window));
    }
    calib.description = "uniform random token ids (synthetic model)";
    saveCalibrationTokens(calib, syntheticCalibrationFile(dir));
    writeText(files::join(dir, kMarker),
              "Synthetic LLaMA written by the MPQ Workbench demo: random weights, no tokenizer.\n"
              "Its numbers show how the methods behave, not how a trained model quantizes.\n");
}

bool isSyntheticModel(const std::string& dir)
{
    return files::exists(files::join(dir, kMarker));
}

std::string syntheticCalibrationFile(const std::string& dir)
{
    return files::join(dir, "calibration.bin");
}

} // namespace mpq
