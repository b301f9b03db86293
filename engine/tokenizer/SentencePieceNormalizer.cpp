#include "tokenizer/SentencePieceNormalizer.h"

#include "tokenizer/Utf8.h"

namespace mpq {

namespace {

/// U+2581 LOWER ONE EIGHTH BLOCK, which stands for a space inside pieces.
constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";

bool endsWith(const std::string& s, std::string_view suffix)
{
    return s.size() >= suffix.size() &&
           std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

} // namespace

SentencePieceNormalizer::SentencePieceNormalizer(
    const SentencePieceModelProto::NormalizerSpec& spec, bool treatWhitespaceAsSuffix,
    const ByteTrie* userDefined, const std::string& source)
    : m_spec(spec), m_treatWhitespaceAsSuffix(treatWhitespaceAsSuffix),
      m_userDefined(userDefined && !userDefined->empty() ? userDefined : nullptr)
{
    if (!spec.precompiledCharsmap.empty())
        m_charsMap = PrecompiledCharsMap(spec.precompiledCharsmap, source);
    // The blob is not needed twice.
    m_spec.precompiledCharsmap.clear();
}

std::pair<std::string_view, size_t>
SentencePieceNormalizer::normalizePrefix(std::string_view input) const
{
    if (m_userDefined) {
        const size_t length = m_userDefined->longestPrefix(input);
        if (length > 0)
            return {input.substr(0, length), length};
    }
    if (!m_charsMap.empty()) {
        const auto match = m_charsMap.longestMatch(input);
        if (match.second > 0)
            return match;
    }
    const size_t length = utf8::validCharLength(input);
    if (length == 0)
        return {utf8::kReplacementChar, 1}; // one malformed byte becomes U+FFFD
    return {input.substr(0, length), length};
}

std::string SentencePieceNormalizer::normalize(std::string_view input) const
{
    std::string normalized;
    if (input.empty())
        return normalized;

    if (m_spec.removeExtraWhitespaces) {
        while (!input.empty()) {
            const auto p = normalizePrefix(input);
            if (p.first != " ")
                break;
            input.remove_prefix(p.second);
        }
    }
    if (input.empty())
        return normalized;

    normalized.reserve(input.size() * 3);
    const auto addSpace = [&] {
        if (m_spec.escapeWhitespaces)
            normalized.append(kSpaceSymbol);
        else
            normalized.push_back(' ');
    };

    if (!m_treatWhitespaceAsSuffix && m_spec.addDummyPrefix)
        addSpace();

    bool isPrevSpace = m_spec.removeExtraWhitespaces;
    while (!input.empty()) {
        const auto p = normalizePrefix(input);
        std::string_view sp = p.first;
        while (isPrevSpace && !sp.empty() && sp.front() == ' ')
            sp.remove_prefix(1);
        if (!sp.empty()) {
            for (const char c : sp) {
                if (m_spec.escapeWhitespaces && c == ' ')
                    normalized.append(kSpaceSymbol);
                else
                    normalized.push_back(c);
            }
            isPrevSpace = sp.back() == ' ';
        }
        input.remove_prefix(p.second);
        if (!m_spec.removeExtraWhitespaces)
            isPrevSpace = false;
    }

    if (m_spec.removeExtraWhitespaces) {
        // Strips the escaped form, so a literal U+2581 at the end goes too, as in the library.
        const std::string_view space = m_spec.escapeWhitespaces ? kSpaceSymbol : " ";
        while (endsWith(normalized, space))
            normalized.resize(normalized.size() - space.size());
    }

    if (m_treatWhitespaceAsSuffix && m_spec.addDummyPrefix)
        addSpace();
    return normalized;
}

} // namespace mpq
