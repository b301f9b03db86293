#include "tokenizer/PrecompiledCharsMap.h"

#include "core/Error.h"

namespace mpq {

namespace {

// Darts-clone's DoubleArrayUnit fields.
inline bool hasLeaf(uint32_t unit) { return ((unit >> 8) & 1) == 1; }
inline uint32_t value(uint32_t unit) { return unit & ((1u << 31) - 1); }
inline uint32_t label(uint32_t unit) { return unit & ((1u << 31) | 0xFF); }
inline uint32_t offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

uint32_t readU32(std::string_view bytes, size_t pos)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(bytes[pos + static_cast<size_t>(i)]);
    return v;
}

/// Normalizer::kMaxTrieResultsSize in the library.
constexpr size_t kMaxTrieResults = 32;

} // namespace

PrecompiledCharsMap::PrecompiledCharsMap(std::string_view blob, const std::string& source)
{
    // Normalizer::DecodePrecompiledCharsMap, with the same checks.
    if (blob.size() <= 4)
        throw Error(source + ": the precompiled normalization rule is broken (too short)");
    const uint32_t trieSize = readU32(blob, 0);
    if (trieSize >= blob.size())
        throw Error(source + ": the precompiled normalization rule is broken (trie of " +
                    std::to_string(trieSize) + " bytes in a blob of " +
                    std::to_string(blob.size()) + ")");
    if (blob.size() - 4 < trieSize)
        throw Error(source + ": the precompiled normalization rule is truncated");
    const std::string_view trie = blob.substr(4, trieSize);
    m_units.resize(trie.size() / 4);
    for (size_t i = 0; i < m_units.size(); ++i)
        m_units[i] = readU32(trie, 4 * i);
    if (m_units.empty())
        throw Error(source + ": the precompiled normalization rule has an empty trie");
    m_normalized = std::string(blob.substr(4 + trieSize));
}

std::pair<std::string_view, size_t> PrecompiledCharsMap::longestMatch(std::string_view input) const
{
    // Darts::DoubleArray::commonPrefixSearch, keeping the longest of the first 32 results.
    size_t longestLength = 0;
    uint32_t longestValue = 0;
    size_t results = 0;
    if (m_units.empty())
        return {{}, 0};
    size_t node = offset(m_units[0]);
    for (size_t i = 0; i < input.size(); ++i) {
        const auto c = static_cast<uint8_t>(input[i]);
        node ^= c;
        if (node >= m_units.size())
            break;
        const uint32_t unit = m_units[node];
        if (label(unit) != c)
            break;
        node ^= offset(unit);
        if (hasLeaf(unit)) {
            if (node >= m_units.size())
                break;
            if (results < kMaxTrieResults) {
                longestLength = i + 1;
                longestValue = value(m_units[node]);
            }
            ++results;
        }
    }
    if (longestLength == 0 || longestValue >= m_normalized.size())
        return {{}, 0};
    // The replacement runs to the next NUL.
    const std::string_view rest = std::string_view(m_normalized).substr(longestValue);
    return {rest.substr(0, rest.find('\0')), longestLength};
}

} // namespace mpq
