#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpq {

/// SentencePiece's compiled normalization rule (NormalizerSpec.precompiled_charsmap, e.g. the
/// rules of "nmt_nfkc"): a Darts-clone double-array trie over input byte sequences whose values
/// point into a block of NUL-terminated replacement strings.
///
/// Blob layout: [uint32 LE trie size in bytes][trie: uint32 LE units][replacement strings].
/// The blob is copied and checked on construction; lookups are bounds-checked, so a corrupt
/// blob cannot make them read outside it. Immutable after construction; thread-safe to read.
class PrecompiledCharsMap {
public:
    PrecompiledCharsMap() = default;

    /// Decodes `blob`. Throws mpq::Error naming `source` when the blob is malformed.
    PrecompiledCharsMap(std::string_view blob, const std::string& source);

    bool empty() const { return m_units.empty(); }

    /// The longest rule matching a prefix of `input`: its replacement and the number of input
    /// bytes it covers; {"", 0} when no rule matches. As the library, only the first 32
    /// matching rules (shortest first) are considered.
    std::pair<std::string_view, size_t> longestMatch(std::string_view input) const;

private:
    std::vector<uint32_t> m_units;
    std::string m_normalized;
};

} // namespace mpq
