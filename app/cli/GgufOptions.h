#pragma once

#include "Args.h"

#include "core/JobContext.h"
#include "pipeline/QuantizeJob.h"

#include <cstdio>
#include <string>

namespace mpq::cli {

/// Options of the GGUF methods (gguf, gguf-mxq) of `quantize` and `sweep` (docs/gguf.md).
void addGgufOptions(Args& args);

/// For --method gguf (llama.cpp's preset --type) or gguf-mxq (MXQ's program over llama.cpp's
/// types under --budget): measures the model, chooses the types and sets the plan. Returns false
/// for other methods. Throws mpq::Error or UsageError.
bool applyGgufMethod(const Args& args, const std::string& method, std::FILE* log, QuantizeParams& p,
                     JobContext& ctx);

} // namespace mpq::cli
