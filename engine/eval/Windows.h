#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq::eval {

/// One forward pass of an evaluation protocol: `ids` are fed to the model, and the next-token
/// NLL is counted for every position t ≥ firstScored (t ≥ 1) predicting ids[t] from ids[<t].
struct Window {
    std::vector<int32_t> ids;
    int64_t firstScored = 1;
    int64_t scoredTokens() const { return int64_t(ids.size()) - firstScored; }
};

/// The three protocols of docs/eval-protocols.md.
enum class Protocol { Gptq, Sliding, Documents };
Protocol parseProtocol(const std::string& name); ///< throws mpq::Error
const char* protocolName(Protocol p);

/// GPTQ: non-overlapping windows of `seqlen` over the token stream, remainder dropped; every
/// predicted token of every window is scored.
std::vector<Window> gptqWindows(const std::vector<int32_t>& tokens, int64_t seqlen);
/// Hugging Face's sliding window: windows of at most `maxLength` starting every `stride`
/// tokens; each scores only the tokens not scored by the previous window.
std::vector<Window> slidingWindows(const std::vector<int32_t>& tokens, int64_t maxLength, int64_t stride);
/// One window per document (each already BOS + encoding), truncated to `maxLength`.
std::vector<Window> documentWindows(const std::vector<std::vector<int32_t>>& documents, int64_t maxLength);

} // namespace mpq::eval
