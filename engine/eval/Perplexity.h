#pragma once

#include "core/Device.h"
#include "core/JobContext.h"
#include "core/Memory.h"

#include <cstdint>
#include <string>
#include <vector>

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
    /// Stream the weights one decoder layer at a time (GPTQ's llama_eval order, hidden states of
    /// all windows kept) even when the whole model fits. Streaming is also chosen on its own when
    /// the model does not fit the budget, or the machine (docs/streaming.md).
    bool offload = false;
    MemoryBudget budget;            ///< 0 = no limit (the machine's memory decides streaming)
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
    bool streamed = false;          ///< weights were read one decoder layer at a time
    std::string streamedReason;     ///< why ("offload asked for", "the whole model … does not fit …")
    int64_t batch = 0;              ///< windows per forward pass (0: automatic per window length)
    int64_t windowsPerPass = 0;     ///< streamed: windows held per pass over the layers
    int64_t plannedHostBytes = 0;   ///< the memory plan's peaks (estimates of the job's data)
    int64_t plannedDeviceBytes = 0;
    std::string memoryPlan;         ///< what the planned figures are made of
    int64_t peakHostBytes = -1;     ///< the process's peak RSS at the end (-1: unknown)
    int64_t startHostBytes = -1;    ///< its RSS when the job's peak was reset, before any weight was read
    int64_t peakDeviceBytes = -1;   ///< CUDA only
    /// Each window's mean NLL over its scored tokens, in window order: what paired comparisons of two
    /// evaluations of one text need (docs/eval-protocols.md, "Per-window NLL").
    std::vector<double> windowMeanNll;

    /// The whole result as one compact JSON object (perplexity, mean_nll, tokens, windows,
    /// protocol, data set, device, dtype, seconds, memory plan and peaks): what `mpq eval --json`
    /// prints and what a session's evaluation record stores as its "result" text.
    std::string toJson() const;
};

/// Loads the model and the text, tokenizes, and measures perplexity under the protocol.
/// Progress is reported per window in tokens; cancellation is checked between batches
/// (throws mpq::Cancelled). Throws mpq::Error for bad input, MemoryBudgetError (before any
/// weight is read) when no plan fits params.budget.
EvalResult evaluatePerplexity(const EvalParams& params, JobContext& ctx);

} // namespace mpq
