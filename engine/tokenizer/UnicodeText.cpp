#include "tokenizer/UnicodeText.h"

#include "core/Error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

namespace mpq::unicode {

namespace {

// The Unicode White_Space property (PropList.txt), spelled for use inside a character class.
constexpr const char* kWhiteSpace =
    "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

/// Rewrites \s and \S (outside character classes, and \s inside them) to White_Space.
std::string rewriteWhiteSpace(const std::string& p)
{
    std::string out;
    bool inClass = false;
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char n = p[++i];
            if (n == 's')
                out += inClass ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
            else if (n == 'S' && !inClass)
                out += "[^" + std::string(kWhiteSpace) + "]";
            else
                out += {c, n};
            continue;
        }
        if (!inClass && c == '[') {
            inClass = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal.
            if (i + 1 < p.size() && p[i + 1] == '^')
                out += p[++i];
            if (i + 1 < p.size() && p[i + 1] == ']')
                out += p[++i];
            continue;
        }
        if (inClass && c == '[' && i + 1 < p.size() && p[i + 1] == ':') { // [:alpha:]
            const size_t end = p.find(":]", i + 2);
            if (end != std::string::npos) {
                out += p.substr(i, end + 2 - i);
                i = end + 1;
                continue;
            }
        }
        if (inClass && c == ']')
            inClass = false;
        out += c;
    }
    return out;
}

struct JitStack {
    pcre2_jit_stack* stack = nullptr;
    pcre2_match_context* context = nullptr;
    JitStack()
    {
        stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
        context = pcre2_match_context_create(nullptr);
        if (stack && context)
            pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~JitStack()
    {
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
    }
};

struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
};

} // namespace

struct Regex::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

Regex::Regex(const std::string& pattern, const std::string& where)
    : m_pattern(pattern), m_code(std::make_unique<Code>())
{
    const std::string translated = rewriteWhiteSpace(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    m_code->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                 PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!m_code->code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        throw Error(where + ": bad regular expression \"" + pattern + "\": " +
                    reinterpret_cast<const char*>(message));
    }
    m_code->jit = pcre2_jit_compile(m_code->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;

void Regex::findAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const
{
    thread_local JitStack jitStack;
    thread_local MatchData match;
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t offset = 0;
    while (offset <= text.size()) {
        const int rc = m_code->jit ? pcre2_jit_match(m_code->code, subject, text.size(), offset, 0,
                                                     match.data, jitStack.context)
                                   : pcre2_match(m_code->code, subject, text.size(), offset,
                                                 PCRE2_NO_UTF_CHECK, match.data, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH)
            return;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof message);
            throw Error("regular expression \"" + m_pattern + "\": matching failed: " +
                        reinterpret_cast<const char*>(message));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match.data);
        if (ov[1] == ov[0]) { // empty match: step over one character
            if (ov[0] >= text.size())
                return;
            offset = ov[0] + charLength(static_cast<unsigned char>(text[ov[0]]));
            continue;
        }
        out.emplace_back(ov[0], ov[1]);
        offset = ov[1];
    }
}

bool Regex::search(std::string_view text) const
{
    thread_local MatchData match;
    const int rc = pcre2_match(m_code->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                               0, PCRE2_NO_UTF_CHECK, match.data, nullptr);
    return rc >= 0;
}

std::string normalize(std::string_view text, NormalForm form)
{
    bool ascii = true;
    for (char c : text)
        ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) // every normalization form leaves ASCII as it is
        return std::string(text);
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = nullptr;
    switch (form) {
    case NormalForm::NFC: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalForm::NFD: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalForm::NFKC: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalForm::NFKD: n = icu::Normalizer2::getNFKDInstance(status); break;
    }
    if (U_FAILURE(status))
        throw Error(std::string("ICU normalizer unavailable: ") + u_errorName(status));
    const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
    if (n->isNormalizedUTF8(piece, status) && U_SUCCESS(status))
        return std::string(text);
    status = U_ZERO_ERROR;
    std::string out;
    out.reserve(text.size() + 16);
    icu::StringByteSink<std::string> sink(&out);
    n->normalizeUTF8(0, piece, sink, nullptr, status);
    if (U_FAILURE(status))
        throw Error(std::string("Unicode normalization failed: ") + u_errorName(status));
    return out;
}

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

namespace {

/// Length of the well-formed sequence at `s[i]`, or -(bytes of its maximal ill-formed subpart).
int sequenceLength(std::string_view s, size_t i)
{
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80)
        return 1;
    int need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else return -1;
    int k = 1;
    for (; k <= need; ++k) {
        if (i + size_t(k) >= s.size())
            return -k;
        const unsigned char t = b(i + size_t(k));
        if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF))
            return -k;
    }
    return need + 1;
}

} // namespace

bool sanitizeUtf8(std::string_view text, std::string& out)
{
    size_t i = 0;
    while (i < text.size()) {
        const int n = sequenceLength(text, i);
        if (n < 0)
            break;
        i += size_t(n);
    }
    if (i == text.size())
        return true;
    out.assign(text.substr(0, i));
    while (i < text.size()) {
        const int n = sequenceLength(text, i);
        if (n > 0) {
            out.append(text.substr(i, size_t(n)));
            i += size_t(n);
        } else {
            out += "\xEF\xBF\xBD";
            i += size_t(-n);
        }
    }
    return false;
}

} // namespace mpq::unicode
