#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpq {

/// A trie over bytes mapping keys to non-negative values, for the prefix searches the
/// SentencePiece encoders do (user-defined symbols, the unigram vocabulary). It plays the role
/// of the Darts double-array trie inside sentencepiece; a hash map of edges keeps it small and
/// simple while every step stays O(1).
///
/// Not thread-safe while insert() runs; const lookups may run concurrently.
class ByteTrie {
public:
    ByteTrie() : m_values(1, -1) {}

    /// Adds `key` with `value` (>= 0); a repeated key keeps the last value.
    void insert(std::string_view key, int32_t value)
    {
        uint32_t node = 0;
        for (const char c : key) {
            const uint64_t edge = edgeKey(node, c);
            const auto it = m_edges.find(edge);
            if (it != m_edges.end()) {
                node = it->second;
            } else {
                const auto child = static_cast<uint32_t>(m_values.size());
                m_values.push_back(-1);
                m_edges.emplace(edge, child);
                node = child;
            }
        }
        m_values[node] = value;
        ++m_size;
    }

    bool empty() const { return m_size == 0; }

    /// Calls `visit(length, value)` for every key that is a prefix of `text`, shortest first.
    template <typename Visitor>
    void forEachPrefix(std::string_view text, Visitor&& visit) const
    {
        uint32_t node = 0;
        for (size_t i = 0; i < text.size(); ++i) {
            const auto it = m_edges.find(edgeKey(node, text[i]));
            if (it == m_edges.end())
                return;
            node = it->second;
            if (m_values[node] >= 0)
                visit(i + 1, m_values[node]);
        }
    }

    /// Length of the longest key that is a prefix of `text`; 0 when none is.
    size_t longestPrefix(std::string_view text) const
    {
        size_t longest = 0;
        forEachPrefix(text, [&](size_t length, int32_t) { longest = length; });
        return longest;
    }

private:
    static uint64_t edgeKey(uint32_t node, char c)
    {
        return (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
    }

    std::vector<int32_t> m_values; ///< per node: the value of the key ending there, or -1
    std::unordered_map<uint64_t, uint32_t> m_edges; ///< (node << 8 | byte) -> child node
    size_t m_size = 0;
};

} // namespace mpq
