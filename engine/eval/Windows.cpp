#include "eval/Windows.h"

#include "core/Error.h"

#include <algorithm>

namespace mpq::eval {

Protocol parseProtocol(const std::string& name)
{
    if (name == "gptq")
        return Protocol::Gptq;
    if (name == "sliding")
        return Protocol::Sliding;
    if (name == "documents")
        return Protocol::Documents;
    throw Error("unknown protocol \"" + name + "\" (use gptq, sliding or documents)");
}

const char* protocolName(Protocol p)
{
    switch (p) {
    case Protocol::Gptq: return "gptq";
    case Protocol::Sliding: return "sliding";
    case Protocol::Documents: return "documents";
    }
    return "?";
}

std::vector<Window> gptqWindows(const std::vector<int32_t>& tokens, int64_t seqlen)
{
    if (seqlen < 2)
        throw Error("sequence length must be at least 2");
    std::vector<Window> out;
    const int64_t n = int64_t(tokens.size()) / seqlen;
    for (int64_t i = 0; i < n; ++i)
        out.push_back({std::vector<int32_t>(tokens.begin() + i * seqlen, tokens.begin() + (i + 1) * seqlen), 1});
    return out;
}

std::vector<Window> slidingWindows(const std::vector<int32_t>& tokens, int64_t maxLength, int64_t stride)
{
    if (maxLength < 2 || stride < 1 || stride > maxLength)
        throw Error("sliding window needs max_length >= 2 and 1 <= stride <= max_length");
    std::vector<Window> out;
    const int64_t n = int64_t(tokens.size());
    int64_t prevEnd = 0;
    for (int64_t begin = 0; begin < n; begin += stride) {
        const int64_t end = std::min(begin + maxLength, n);
        const int64_t targets = end - prevEnd; // tokens not yet scored
        Window w{std::vector<int32_t>(tokens.begin() + begin, tokens.begin() + end), 1};
        w.firstScored = std::max<int64_t>(1, (end - begin) - targets);
        if (w.scoredTokens() > 0)
            out.push_back(std::move(w));
        prevEnd = end;
        if (end == n)
            break;
    }
    return out;
}

std::vector<Window> documentWindows(const std::vector<std::vector<int32_t>>& documents, int64_t maxLength)
{
    std::vector<Window> out;
    for (const auto& d : documents) {
        Window w{std::vector<int32_t>(d.begin(), d.begin() + std::min<int64_t>(int64_t(d.size()), maxLength)), 1};
        if (w.scoredTokens() > 0)
            out.push_back(std::move(w));
    }
    return out;
}

} // namespace mpq::eval
