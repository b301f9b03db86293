#pragma once

#include "tokenizer/ByteTrie.h"
#include "tokenizer/PrecompiledCharsMap.h"
#include "tokenizer/SentencePieceModelProto.h"

#include <string>
#include <string_view>
#include <utility>

namespace mpq {

/// SentencePiece's text normalizer (normalizer.cc): the compiled normalization rule if the
/// model has one (NFKC and friends), then whitespace handling: leading, trailing and repeated
/// spaces removed (remove_extra_whitespaces), a dummy "▁" added at the start, or at the end with
/// treat_whitespace_as_suffix (add_dummy_prefix), spaces turned into U+2581 (escape_whitespaces).
/// Malformed UTF-8 becomes U+FFFD one byte at a time. User-defined symbols pass through whole.
///
/// Immutable after construction; thread-safe to use. It keeps a pointer to `userDefined`, which
/// must outlive it.
class SentencePieceNormalizer {
public:
    SentencePieceNormalizer() = default;

    /// Throws mpq::Error naming `source` when the spec's precompiled charsmap is malformed.
    SentencePieceNormalizer(const SentencePieceModelProto::NormalizerSpec& spec,
                            bool treatWhitespaceAsSuffix, const ByteTrie* userDefined,
                            const std::string& source);

    /// The normalized form of `input` (Normalizer::Normalize, without the alignment).
    std::string normalize(std::string_view input) const;

private:
    /// Normalizer::NormalizePrefix: the normalized form of the start of `input` and how many
    /// input bytes it consumed (at least one).
    std::pair<std::string_view, size_t> normalizePrefix(std::string_view input) const;

    SentencePieceModelProto::NormalizerSpec m_spec;
    bool m_treatWhitespaceAsSuffix = false;
    const ByteTrie* m_userDefined = nullptr;
    PrecompiledCharsMap m_charsMap;
};

} // namespace mpq
