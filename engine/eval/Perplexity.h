#pragma once

#include "core/Device.h"
#include "core/JobContext.h"

#include <cstdint>
#include <string>

namespace mpq {

/// What to evaluate and how (docs/eval-protocols.md).
struct EvalParams {
    std::string model;              ///< model folder, llama2.c .bin, or a quantization result folder
    std::string tokenizer;          ///< overrides the tokenizer found beside the model
    std::string dataset = "wikitext2"; ///< "wikitext2", "c4" or a file path
    std::string protocol = "gptq";  ///< gptq | sliding | documents
    int64_t seqlen = 2048;          ///< window length (capped at the model's maximum)
    int64_t stride = 512;           ///< sliding protocol only
    std::string device = "cpu";
    DType dtype = DType::F32;
    int64_t batchSize = 0;          ///< windows per forward pass; 0 = automatic
    int64_t maxWindows = 0;         ///< evaluate only the first N windows (0 = all)
    std::string dataDir;            ///< shared data directory; empty = data::dataDirectory()
    int64_t c4Documents = 1100;     ///< GPTQ's c4-new: documents joined
    int64_t c4Windows = 256;        ///< GPTQ's c4-new: windows kept
};

struct EvalResult {
    double perplexity = 0;
    double meanNll = 0;       ///< nats per scored token
    int64_t tokens = 0;       ///< scored (predicted) tokens
    int64_t windows = 0;
    int64_t inputTokens = 0;  ///< tokens of the whole tokenized text
    std::string protocol;
    std::string dataset;      ///< the name or path asked for
    std::string datasetPath;  ///< the file read
    std::string device;
    std::string deviceName;
    std::string dtype;
    int64_t seqlen = 0;
    double loadSeconds = 0;
    double tokenizeSeconds = 0;
    double forwardSeconds = 0;
    double totalSeconds = 0;
};

/// Loads the model and the text, tokenizes, and measures perplexity under the protocol.
/// Progress is reported per window in tokens; cancellation is checked between batches
/// (throws mpq::Cancelled). Throws mpq::Error for bad input.
EvalResult evaluatePerplexity(const EvalParams& params, JobContext& ctx);

} // namespace mpq
