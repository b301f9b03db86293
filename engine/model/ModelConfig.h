#pragma once

#include <cstdint>
#include <string>

namespace mpq {

/// Architecture of a LLaMA-family decoder, from a Hugging Face config.json or a llama2.c header.
struct ModelConfig {
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0;          ///< hiddenSize / numHeads unless the config says otherwise
    int64_t vocabSize = 0;
    int64_t maxPositions = 0;
    double rmsNormEps = 1e-5;
    double ropeTheta = 10000.0;
    bool tieWordEmbeddings = false;
    std::string torchDtype = "float32"; ///< the dtype the checkpoint was saved in
    int32_t bosTokenId = 1;
    int32_t eosTokenId = 2;

    /// Parameters of one decoder layer (attention + MLP + two norms).
    int64_t layerParameters() const;
    /// All parameters, counting a tied embedding once.
    int64_t totalParameters() const;

    /// Parses and validates a Hugging Face config.json. Throws mpq::Error naming the file.
    static ModelConfig fromHuggingFaceJson(const std::string& jsonText, const std::string& fileName);
    /// Checks internal consistency (positive sizes, heads dividing the width). Throws mpq::Error.
    void validate(const std::string& source) const;
};

} // namespace mpq
