#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Unicode services for the Hugging Face tokenizer, from Debian's libraries rather than tables
/// of our own: regular expressions from PCRE2 (UTF + UCP, JIT-compiled) and normalization
/// forms from ICU. Plain C++ API; the libraries stay inside UnicodeText.cpp.
namespace mpq::unicode {

/// A compiled PCRE2 pattern in UTF-8 mode with Unicode properties. `\s` and `\S` are rewritten
/// to the Unicode White_Space property (the meaning they have in Oniguruma and Rust's regex,
/// which Hugging Face `tokenizers` uses; PCRE2 would also count U+180E).
///
/// Threading: immutable after construction; findAll() may run on many threads at once.
class Regex {
public:
    /// Throws mpq::Error "<where>: bad regular expression ...: <PCRE2's message>".
    Regex(const std::string& pattern, const std::string& where);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    /// Appends the [begin, end) byte ranges of every non-empty match in `text`, left to right,
    /// non-overlapping (an empty match advances one character). `text` must be valid UTF-8.
    void findAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
    /// True when the pattern matches somewhere in `text`.
    bool search(std::string_view text) const;

    const std::string& pattern() const { return m_pattern; }

private:
    struct Code;
    std::string m_pattern;
    std::unique_ptr<Code> m_code;
};

enum class NormalForm { NFC, NFD, NFKC, NFKD };

/// `text` in the normalization form (ICU's Normalizer2). `text` must be valid UTF-8.
std::string normalize(std::string_view text, NormalForm form);

/// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal subpart
/// (as Python's `decode(errors="replace")`, Rust's from_utf8_lossy and the WHATWG decoder).
/// Returns true and leaves `out` untouched when `text` is already valid.
bool sanitizeUtf8(std::string_view text, std::string& out);

/// Appends the UTF-8 encoding of code point `cp`.
void appendUtf8(std::string& out, char32_t cp);

/// Byte length of the (valid) UTF-8 character starting with `lead`.
inline size_t charLength(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

} // namespace mpq::unicode
