#include "tokenizer/HfTokenizer.h"

#include "core/Error.h"
#include "core/Files.h"
#include "tokenizer/ByteTrie.h"
#include "tokenizer/PieceIndex.h"
#include "tokenizer/UnicodeText.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <queue>
#include <unordered_map>

namespace mpq {

using json = nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers

/// GPT-2's byte <-> unicode map (bytes_to_unicode): printable Latin-1 bytes stand for
/// themselves, the other 68 bytes for U+0100 onwards, in byte order.
struct ByteLevelMap {
    std::array<char32_t, 256> byteToChar{};
    std::unordered_map<char32_t, uint8_t> charToByte;
    ByteLevelMap()
    {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            byteToChar[size_t(b)] = printable ? char32_t(b) : char32_t(256 + n++);
            charToByte[byteToChar[size_t(b)]] = uint8_t(b);
        }
    }
    /// Bytes of a byte-level token string; false when a character is outside the map.
    bool toBytes(std::string_view token, std::string& out) const
    {
        out.clear();
        size_t i = 0;
        while (i < token.size()) {
            const size_t n = unicode::charLength(static_cast<unsigned char>(token[i]));
            char32_t cp = 0;
            const auto* b = reinterpret_cast<const unsigned char*>(token.data() + i);
            if (n == 1) cp = b[0];
            else if (n == 2) cp = ((b[0] & 0x1Fu) << 6) | (b[1] & 0x3Fu);
            else if (n == 3) cp = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
            else cp = ((b[0] & 0x07u) << 18) | ((b[1] & 0x3Fu) << 12) | ((b[2] & 0x3Fu) << 6) | (b[3] & 0x3Fu);
            const auto it = charToByte.find(cp);
            if (it == charToByte.end())
                return false;
            out += static_cast<char>(it->second);
            i += n;
        }
        return true;
    }
};

const ByteLevelMap& byteLevelMap()
{
    static const ByteLevelMap map;
    return map;
}

/// Rust's String::from_utf8_lossy.
std::string lossyUtf8(const std::string& bytes)
{
    std::string out;
    return unicode::sanitizeUtf8(bytes, out) ? bytes : out;
}

void replaceAll(std::string& s, const std::string& from, const std::string& to)
{
    if (from.empty() || s.find(from) == std::string::npos)
        return;
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size())
        out.append(s, pos, hit - pos).append(to);
    out.append(s, pos, std::string::npos);
    s.swap(out);
}

/// Open-addressing map from a pair of token ids to (merge rank, merged id).
class PairMap {
public:
    struct Value {
        int32_t rank = -1;
        int32_t id = -1;
    };
    void reserve(size_t n)
    {
        size_t cap = 16;
        while (cap < n * 2)
            cap <<= 1;
        m_keys.assign(cap, kEmpty);
        m_values.assign(cap, {});
        m_mask = cap - 1;
    }
    /// Sets (or overwrites) the value of a pair.
    void set(int32_t a, int32_t b, Value v)
    {
        const uint64_t key = pack(a, b);
        for (size_t i = slot(key);; i = (i + 1) & m_mask) {
            if (m_keys[i] == kEmpty || m_keys[i] == key) {
                m_keys[i] = key;
                m_values[i] = v;
                return;
            }
        }
    }
    const Value* find(int32_t a, int32_t b) const
    {
        const uint64_t key = pack(a, b);
        for (size_t i = slot(key);; i = (i + 1) & m_mask) {
            if (m_keys[i] == key)
                return &m_values[i];
            if (m_keys[i] == kEmpty)
                return nullptr;
        }
    }

private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    static uint64_t pack(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
    size_t slot(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> 20) & m_mask; }
    std::vector<uint64_t> m_keys;
    std::vector<Value> m_values;
    size_t m_mask = 0;
};

// ---------------------------------------------------------------------------------------------
// JSON access with messages that name the file and the field

struct Reader {
    std::string path;

    [[noreturn]] void fail(const std::string& what) const { throw Error(path + ": " + what); }

    const json& member(const json& j, const char* key, const std::string& where) const
    {
        if (!j.is_object() || !j.contains(key))
            fail(where + " has no \"" + key + "\"");
        return j.at(key);
    }
    std::string string(const json& j, const char* key, const std::string& where) const
    {
        const json& v = member(j, key, where);
        if (!v.is_string())
            fail(where + "." + key + " is not a string");
        return v.get<std::string>();
    }
    bool boolean(const json& j, const char* key, bool fallback, const std::string& where) const
    {
        if (!j.contains(key) || j.at(key).is_null())
            return fallback;
        if (!j.at(key).is_boolean())
            fail(where + "." + key + " is not true/false");
        return j.at(key).get<bool>();
    }
    int64_t integer(const json& j, const char* key, const std::string& where) const
    {
        const json& v = member(j, key, where);
        if (!v.is_number_integer())
            fail(where + "." + key + " is not an integer");
        return v.get<int64_t>();
    }
    std::string type(const json& j, const std::string& where) const
    {
        if (!j.is_object())
            fail(where + " is not an object");
        return string(j, "type", where);
    }
    [[noreturn]] void unsupported(const std::string& where, const std::string& type,
                                  const char* supported) const
    {
        fail(where + " type \"" + type + "\" is not supported (supported: " + supported + ")");
    }
};

/// A "pattern": {"String": "..."} or {"Regex": "..."}.
struct Pattern {
    std::string literal;
    std::shared_ptr<unicode::Regex> regex;

    void findAll(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const
    {
        if (regex) {
            regex->findAll(s, out);
            return;
        }
        if (literal.empty())
            return;
        for (size_t pos = s.find(literal); pos != std::string_view::npos;
             pos = s.find(literal, pos + literal.size()))
            out.emplace_back(pos, pos + literal.size());
    }
};

Pattern readPattern(const Reader& r, const json& j, const std::string& where)
{
    const json& p = r.member(j, "pattern", where);
    Pattern out;
    if (p.is_object() && p.contains("String") && p.at("String").is_string())
        out.literal = p.at("String").get<std::string>();
    else if (p.is_object() && p.contains("Regex") && p.at("Regex").is_string())
        out.regex = std::make_shared<unicode::Regex>(p.at("Regex").get<std::string>(), r.path + ": " + where);
    else
        r.fail(where + ".pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
    return out;
}

// ---------------------------------------------------------------------------------------------
// Pipeline components

struct NormalizerStep {
    enum Kind { Unicode, Prepend, Replace } kind = Unicode;
    unicode::NormalForm form = unicode::NormalForm::NFC;
    std::string text; ///< Prepend: the prefix; Replace: the content
    Pattern pattern;  ///< Replace

    void apply(std::string& s) const
    {
        switch (kind) {
        case Unicode:
            s = unicode::normalize(s, form);
            break;
        case Prepend:
            if (!s.empty())
                s.insert(0, text);
            break;
        case Replace: {
            if (!pattern.regex) {
                replaceAll(s, pattern.literal, text);
                break;
            }
            std::vector<std::pair<size_t, size_t>> hits;
            pattern.findAll(s, hits);
            if (hits.empty())
                break;
            std::string out;
            size_t pos = 0;
            for (const auto& [b, e] : hits) {
                out.append(s, pos, b - pos).append(text);
                pos = e;
            }
            out.append(s, pos, std::string::npos);
            s.swap(out);
            break;
        }
        }
    }
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

/// A pre-tokenized piece: text and whether it begins at offset 0 of the original input.
struct Piece {
    std::string text;
    bool atStart = false;
};

/// tokenizers' NormalizedString::split: the text cut into matches and the gaps between them,
/// then combined by `behavior`. Appends the non-empty parts to `out`.
void splitByMatches(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                    SplitBehavior behavior, bool invert, std::vector<Piece>& out)
{
    struct Segment {
        size_t b, e;
        bool match;
    };
    std::vector<Segment> segs;
    size_t pos = 0;
    for (const auto& [b, e] : matches) {
        if (b > pos)
            segs.push_back({pos, b, invert});
        segs.push_back({b, e, !invert});
        pos = e;
    }
    if (pos < piece.text.size())
        segs.push_back({pos, piece.text.size(), invert});

    std::vector<std::pair<size_t, size_t>> parts;
    switch (behavior) {
    case SplitBehavior::Removed:
        for (const auto& s : segs)
            if (!s.match)
                parts.emplace_back(s.b, s.e);
        break;
    case SplitBehavior::Isolated:
        for (const auto& s : segs)
            parts.emplace_back(s.b, s.e);
        break;
    case SplitBehavior::MergedWithPrevious: {
        bool previousMatch = false;
        for (const auto& s : segs) {
            if (s.match && !previousMatch && !parts.empty())
                parts.back().second = s.e;
            else
                parts.emplace_back(s.b, s.e);
            previousMatch = s.match;
        }
        break;
    }
    case SplitBehavior::MergedWithNext: {
        bool previousMatch = false;
        for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
            if (it->match && !previousMatch && !parts.empty())
                parts.back().first = it->b;
            else
                parts.emplace_back(it->b, it->e);
            previousMatch = it->match;
        }
        std::reverse(parts.begin(), parts.end());
        break;
    }
    case SplitBehavior::Contiguous: {
        bool previousMatch = false;
        for (size_t i = 0; i < segs.size(); ++i) {
            if (i > 0 && segs[i].match == previousMatch)
                parts.back().second = segs[i].e;
            else
                parts.emplace_back(segs[i].b, segs[i].e);
            previousMatch = segs[i].match;
        }
        break;
    }
    }
    for (const auto& [b, e] : parts)
        if (e > b)
            out.push_back({piece.text.substr(b, e - b), piece.atStart && b == 0});
}

enum class PrependScheme { Always, First, Never };

PrependScheme readPrependScheme(const Reader& r, const json& j, const std::string& where)
{
    if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
        const std::string s = r.string(j, "prepend_scheme", where);
        if (s == "always") return PrependScheme::Always;
        if (s == "first") return PrependScheme::First;
        if (s == "never") return PrependScheme::Never;
        r.fail(where + ".prepend_scheme \"" + s + "\" is not always/first/never");
    }
    // Files from before prepend_scheme existed say add_prefix_space.
    return r.boolean(j, "add_prefix_space", true, where) ? PrependScheme::Always : PrependScheme::Never;
}

std::string readReplacement(const Reader& r, const json& j, const std::string& where)
{
    std::string rep = j.contains("replacement") ? r.string(j, "replacement", where) : "\xE2\x96\x81";
    if (rep.empty() || unicode::charLength(static_cast<unsigned char>(rep[0])) != rep.size())
        r.fail(where + ".replacement must be one character");
    return rep;
}

constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct PreTokenizerStep {
    enum Kind { Split, ByteLevel, Metaspace } kind = Split;
    Pattern pattern;               ///< Split (ByteLevel with use_regex: GPT-2's pattern)
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    bool addPrefixSpace = false;   ///< ByteLevel
    std::string replacement;       ///< Metaspace
    PrependScheme scheme = PrependScheme::Always;
    bool splitOnReplacement = true;

    void apply(std::vector<Piece>& pieces) const
    {
        std::vector<Piece> out;
        out.reserve(pieces.size());
        std::vector<std::pair<size_t, size_t>> matches;
        for (Piece& p : pieces) {
            matches.clear();
            switch (kind) {
            case Split:
                pattern.findAll(p.text, matches);
                splitByMatches(p, matches, behavior, invert, out);
                break;
            case ByteLevel:
                if (addPrefixSpace && (p.text.empty() || p.text[0] != ' '))
                    p.text.insert(0, " ");
                if (pattern.regex) {
                    pattern.findAll(p.text, matches);
                    splitByMatches(p, matches, SplitBehavior::Isolated, false, out);
                } else {
                    out.push_back(std::move(p));
                }
                break;
            case Metaspace: {
                replaceAll(p.text, " ", replacement);
                const bool startsWithReplacement = p.text.compare(0, replacement.size(), replacement) == 0;
                if (!startsWithReplacement &&
                    (scheme == PrependScheme::Always || (scheme == PrependScheme::First && p.atStart)))
                    p.text.insert(0, replacement);
                if (splitOnReplacement) {
                    Pattern literal{replacement, nullptr};
                    literal.findAll(p.text, matches);
                    splitByMatches(p, matches, SplitBehavior::MergedWithNext, false, out);
                } else {
                    out.push_back(std::move(p));
                }
                break;
            }
            }
        }
        pieces.swap(out);
    }
};

struct DecoderStep {
    enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind = Fuse;
    Pattern pattern;         ///< Replace
    std::string text;        ///< Replace: content; Strip: the character; Metaspace: replacement
    size_t start = 0, stop = 0;
    PrependScheme scheme = PrependScheme::Always;

    void apply(std::vector<std::string>& tokens) const
    {
        switch (kind) {
        case ByteLevel: {
            std::string bytes, joined, piece;
            for (const auto& t : tokens)
                joined += t;
            const ByteLevelMap& map = byteLevelMap();
            size_t i = 0;
            while (i < joined.size()) {
                const size_t n = unicode::charLength(static_cast<unsigned char>(joined[i]));
                const std::string_view ch(joined.data() + i, n);
                if (map.toBytes(ch, piece))
                    bytes += piece;
                else
                    bytes += ch; // characters outside the map keep their own bytes
                i += n;
            }
            tokens.assign(1, lossyUtf8(bytes));
            break;
        }
        case Replace:
            for (auto& t : tokens) {
                NormalizerStep step;
                step.kind = NormalizerStep::Replace;
                step.pattern = pattern;
                step.text = text;
                step.apply(t);
            }
            break;
        case ByteFallback: {
            std::vector<std::string> out;
            std::string bytes;
            size_t count = 0;
            const auto flush = [&] {
                if (count == 0)
                    return;
                std::string fixed;
                if (unicode::sanitizeUtf8(bytes, fixed))
                    out.push_back(bytes);
                else
                    for (size_t k = 0; k < count; ++k)
                        out.emplace_back("\xEF\xBF\xBD");
                bytes.clear();
                count = 0;
            };
            for (auto& t : tokens) {
                const auto hex = [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
                };
                if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) && hex(t[4])) {
                    bytes += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
                    ++count;
                } else {
                    flush();
                    out.push_back(std::move(t));
                }
            }
            flush();
            tokens.swap(out);
            break;
        }
        case Fuse: {
            std::string joined;
            for (const auto& t : tokens)
                joined += t;
            tokens.assign(1, joined);
            break;
        }
        case Strip:
            for (auto& t : tokens) {
                size_t b = 0, e = t.size();
                for (size_t k = 0; k < start && t.compare(b, text.size(), text) == 0 && b < e; ++k)
                    b += text.size();
                for (size_t k = 0; k < stop && e >= b + text.size() &&
                                   t.compare(e - text.size(), text.size(), text) == 0;
                     ++k)
                    e -= text.size();
                t = t.substr(b, e - b);
            }
            break;
        case Metaspace:
            for (size_t i = 0; i < tokens.size(); ++i) {
                // tokenizers: in the first token every replacement character vanishes (unless
                // the scheme is "never"); elsewhere each becomes a space.
                replaceAll(tokens[i], text, i == 0 && scheme != PrependScheme::Never ? "" : " ");
            }
            break;
        }
    }
};

struct TemplateItem {
    bool special = false;
    std::vector<int32_t> ids; ///< special: the ids of the special token
};

struct PostStep {
    bool isTemplate = false; ///< otherwise ByteLevel: offsets only, ids unchanged
    std::vector<TemplateItem> single;
};

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool singleWord = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

/// The added tokens matched in one kind of text (raw or normalized), leftmost-longest as
/// tokenizers' Aho-Corasick automaton.
struct AddedMatcher {
    ByteTrie trie;                      ///< pattern -> index into `tokens`
    std::vector<const AddedToken*> tokens;
    std::array<bool, 256> firstByte{};

    void add(const std::string& pattern, const AddedToken* token)
    {
        if (pattern.empty())
            return;
        trie.insert(pattern, int32_t(tokens.size()));
        tokens.push_back(token);
        firstByte[static_cast<unsigned char>(pattern[0])] = true;
    }
};

struct Section {
    int32_t id = -1; ///< an added token, or -1 for text
    size_t b = 0, e = 0;
};

std::shared_ptr<unicode::Regex> wordRegex(bool atStart)
{
    // \w and \s as the Rust regex crate reads them (Unicode word characters / White_Space).
    static const auto starts = std::make_shared<unicode::Regex>("^\\w", "added tokens");
    // \z, not $: PCRE2's $ also matches before a final newline, Rust's does not.
    static const auto ends = std::make_shared<unicode::Regex>("\\w\\z", "added tokens");
    return atStart ? starts : ends;
}

bool isWhiteSpaceAt(std::string_view s, size_t i, size_t* length)
{
    static const unicode::Regex ws("^\\s", "added tokens");
    *length = unicode::charLength(static_cast<unsigned char>(s[i]));
    return ws.search(s.substr(i, *length));
}

/// tokenizers' AddedVocabulary::find_matches.
std::vector<Section> findAdded(std::string_view s, const AddedMatcher& m)
{
    std::vector<Section> out;
    size_t startOffset = 0;
    size_t i = 0;
    while (!m.tokens.empty() && i < s.size()) {
        if (!m.firstByte[static_cast<unsigned char>(s[i])]) {
            ++i;
            continue;
        }
        size_t length = 0;
        int32_t index = -1;
        m.trie.forEachPrefix(s.substr(i), [&](size_t len, int32_t value) {
            if (len > length) {
                length = len;
                index = value;
            }
        });
        if (index < 0) {
            ++i;
            continue;
        }
        size_t start = i, stop = i + length;
        i = stop; // the automaton resumes after this match even when it is discarded
        const AddedToken& t = *m.tokens[size_t(index)];
        if (t.singleWord) {
            const bool startSpace = start == 0 || !wordRegex(false)->search(s.substr(0, start));
            const bool stopSpace = stop == s.size() || !wordRegex(true)->search(s.substr(stop));
            if (!startSpace || !stopSpace)
                continue;
        }
        if (t.lstrip) {
            size_t newStart = start;
            while (newStart > 0) { // back over whole characters of white space
                size_t k = newStart - 1;
                while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80)
                    --k;
                size_t len = 0;
                if (!isWhiteSpaceAt(s, k, &len))
                    break;
                newStart = k;
            }
            start = std::max(newStart, startOffset);
        }
        if (t.rstrip) {
            size_t len = 0;
            while (stop < s.size() && isWhiteSpaceAt(s, stop, &len))
                stop += len;
            i = std::max(i, stop);
        }
        if (startOffset < start)
            out.push_back({-1, startOffset, start});
        out.push_back({t.id, start, stop});
        startOffset = stop;
    }
    if (startOffset < s.size() || s.empty())
        out.push_back({-1, startOffset, s.size()});
    return out;
}

} // namespace

// -------------------------------------------------------------------------------------------------

struct HfTokenizer::Impl {
    std::string path;

    // Model: BPE
    std::vector<std::string> idToToken;           ///< model vocabulary and added tokens, by id
    std::vector<bool> hasId;
    std::unordered_map<std::string, int32_t> tokenIds; ///< token string -> id (both)
    std::deque<std::string> keys;                 ///< storage behind `units`
    PieceIndex units;                             ///< unit / whole-word lookup (bytes when byte-level)
    std::array<int32_t, 256> byteUnit{};          ///< byte-level: the id of each byte's character
    std::array<int32_t, 256> fallback{};          ///< byte_fallback: the id of "<0xXX>"
    PairMap merges;
    bool cutAtBarriers = false;                   ///< see bpe()
    std::deque<std::string> mergeableKeys;
    PieceIndex mergeable;                         ///< characters inside tokens of 2+ characters
    int32_t unkId = -1;
    bool fuseUnk = false, byteFallback = false, ignoreMerges = false, byteLevel = false;

    std::vector<AddedToken> added;
    AddedMatcher rawAdded, normalizedAdded;
    std::vector<NormalizerStep> normalizers;
    std::vector<PreTokenizerStep> preTokenizers;
    std::vector<PostStep> post;
    std::vector<DecoderStep> decoders;
    bool hasDecoder = false;

    int32_t bos = -1, eos = -1;
    int32_t vocabSize = 0;

    void normalize(std::string& s) const
    {
        for (const auto& n : normalizers)
            n.apply(s);
    }

    /// tokenizers' BPE model on one pre-tokenized word (BPE::tokenize_with_cache).
    void bpe(std::string_view w, std::vector<int32_t>& out) const
    {
        if (w.empty())
            return;
        if (ignoreMerges) {
            const int32_t id = units.find(w);
            if (id >= 0) {
                out.push_back(id);
                return;
            }
        }
        if (byteLevel || !cutAtBarriers || w.size() < 64) {
            mergeWord(w, out);
            return;
        }
        // A SentencePiece-style file has no pre-tokenizer: the whole text is one word. It is
        // cut around barrier characters (see load), across which no merge can happen; the
        // parts merge exactly as they would inside the whole, since merges only compare ranks
        // and positions of neighbouring symbols.
        size_t partStart = 0;
        for (size_t i = 0; i < w.size();) {
            const size_t n = unicode::charLength(static_cast<unsigned char>(w[i]));
            if (isBarrier(w.substr(i, n))) {
                mergeWord(w.substr(partStart, i - partStart), out);
                mergeWord(w.substr(i, n), out);
                partStart = i + n;
            }
            i += n;
        }
        mergeWord(w.substr(partStart), out);
    }

    /// A character no merge can join to a neighbour: it is in no token of two or more
    /// characters, and it becomes its own token or byte-fallback tokens (not <unk>, which may
    /// fuse with a neighbour).
    bool isBarrier(std::string_view ch) const
    {
        if (mergeable.find(ch) >= 0)
            return false;
        if (units.find(ch) >= 0)
            return true;
        if (!byteFallback)
            return false;
        for (char c : ch)
            if (fallback[static_cast<unsigned char>(c)] < 0)
                return false;
        return true;
    }

    /// tokenizers' BPE::merge_word + Word::merge_all.
    void mergeWord(std::string_view w, std::vector<int32_t>& out) const
    {
        if (w.empty())
            return;
        struct Symbol {
            int32_t id;
            int32_t prev, next;
            uint32_t len;
        };
        thread_local std::vector<Symbol> symbols;
        symbols.clear();
        const auto addSymbol = [&](int32_t id, size_t len) {
            const auto n = int32_t(symbols.size());
            symbols.push_back({id, n - 1, n + 1, uint32_t(len)});
        };
        int32_t pendingUnk = -1;
        size_t pendingLen = 0;
        for (size_t i = 0; i < w.size();) {
            const size_t n = byteLevel ? 1 : unicode::charLength(static_cast<unsigned char>(w[i]));
            const std::string_view unit = w.substr(i, n);
            i += n;
            const int32_t id = byteLevel ? byteUnit[static_cast<unsigned char>(unit[0])] : units.find(unit);
            if (id >= 0) {
                if (pendingUnk >= 0) {
                    addSymbol(pendingUnk, pendingLen);
                    pendingUnk = -1;
                }
                addSymbol(id, n);
                continue;
            }
            if (byteFallback) {
                bool all = true;
                for (char c : unit)
                    all = all && fallback[static_cast<unsigned char>(c)] >= 0;
                if (all) {
                    for (char c : unit)
                        addSymbol(fallback[static_cast<unsigned char>(c)], 1);
                    continue;
                }
            }
            if (unkId >= 0) {
                if (pendingUnk >= 0 && fuseUnk) {
                    pendingLen += n;
                } else {
                    if (pendingUnk >= 0)
                        addSymbol(pendingUnk, pendingLen);
                    pendingUnk = unkId;
                    pendingLen = n;
                }
            }
            // Without an unknown token the character is dropped, as tokenizers does.
        }
        if (pendingUnk >= 0)
            addSymbol(pendingUnk, pendingLen);
        if (symbols.empty())
            return;
        symbols.back().next = -1;

        struct Merge {
            int32_t pos, rank, id;
            bool operator<(const Merge& o) const // the heap's top: lowest rank, then leftmost
            {
                return rank != o.rank ? rank > o.rank : pos > o.pos;
            }
        };
        thread_local std::vector<Merge> heap;
        heap.clear();
        for (size_t k = 0; k + 1 < symbols.size(); ++k)
            if (const auto* m = merges.find(symbols[k].id, symbols[k + 1].id))
                heap.push_back({int32_t(k), m->rank, m->id});
        std::make_heap(heap.begin(), heap.end());
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end());
            const Merge top = heap.back();
            heap.pop_back();
            Symbol& cur = symbols[size_t(top.pos)];
            if (cur.len == 0 || cur.next < 0)
                continue;
            const Symbol right = symbols[size_t(cur.next)];
            const auto* m = merges.find(cur.id, right.id);
            if (!m || m->id != top.id) // a stale entry
                continue;
            symbols[size_t(cur.next)].len = 0;
            cur.id = top.id;
            cur.len += right.len;
            cur.next = right.next;
            if (right.next >= 0)
                symbols[size_t(right.next)].prev = top.pos;
            if (cur.prev >= 0)
                if (const auto* p = merges.find(symbols[size_t(cur.prev)].id, cur.id)) {
                    heap.push_back({cur.prev, p->rank, p->id});
                    std::push_heap(heap.begin(), heap.end());
                }
            if (cur.next >= 0)
                if (const auto* q = merges.find(cur.id, symbols[size_t(cur.next)].id)) {
                    heap.push_back({top.pos, q->rank, q->id});
                    std::push_heap(heap.begin(), heap.end());
                }
        }
        for (const Symbol& s : symbols)
            if (s.len != 0)
                out.push_back(s.id);
    }

    std::vector<int32_t> encode(std::string_view input) const
    {
        std::string fixed;
        const std::string_view text = unicode::sanitizeUtf8(input, fixed) ? input : std::string_view(fixed);
        std::vector<int32_t> ids;
        std::unordered_map<std::string, std::vector<int32_t>> cache;
        std::vector<Piece> pieces;
        for (const Section& sec : findAdded(text, rawAdded)) {
            if (sec.id >= 0) {
                ids.push_back(sec.id);
                continue;
            }
            std::string normalized(text.substr(sec.b, sec.e - sec.b));
            normalize(normalized);
            for (const Section& sub : findAdded(normalized, normalizedAdded)) {
                if (sub.id >= 0) {
                    ids.push_back(sub.id);
                    continue;
                }
                if (sub.e == sub.b)
                    continue;
                pieces.clear();
                pieces.push_back({normalized.substr(sub.b, sub.e - sub.b), sec.b == 0 && sub.b == 0});
                for (const auto& step : preTokenizers)
                    step.apply(pieces);
                for (const Piece& p : pieces) {
                    if (p.text.size() >= 256) { // as tokenizers, only short words are cached
                        bpe(p.text, ids);
                        continue;
                    }
                    auto it = cache.find(p.text);
                    if (it == cache.end()) {
                        std::vector<int32_t> word;
                        bpe(p.text, word);
                        it = cache.emplace(p.text, std::move(word)).first;
                    }
                    ids.insert(ids.end(), it->second.begin(), it->second.end());
                }
            }
        }
        return ids;
    }

    std::vector<int32_t> postProcess(std::vector<int32_t> ids) const
    {
        for (const PostStep& step : post) {
            if (!step.isTemplate)
                continue;
            std::vector<int32_t> out;
            out.reserve(ids.size() + 4);
            for (const TemplateItem& item : step.single) {
                if (item.special)
                    out.insert(out.end(), item.ids.begin(), item.ids.end());
                else
                    out.insert(out.end(), ids.begin(), ids.end());
            }
            ids.swap(out);
        }
        return ids;
    }

    void checkId(int32_t id) const
    {
        if (id < 0 || id >= vocabSize || !hasId[size_t(id)])
            throw Error(path + ": token id " + std::to_string(id) + " is not in the vocabulary");
    }
};

// -------------------------------------------------------------------------------------------------
// Loading

namespace {

void readNormalizer(const Reader& r, const json& j, const std::string& where, std::vector<NormalizerStep>& out)
{
    if (j.is_null())
        return;
    const std::string type = r.type(j, where);
    NormalizerStep s;
    if (type == "Sequence") {
        const json& list = r.member(j, "normalizers", where);
        if (!list.is_array())
            r.fail(where + ".normalizers is not a list");
        for (size_t i = 0; i < list.size(); ++i)
            readNormalizer(r, list[i], where + ".normalizers[" + std::to_string(i) + "]", out);
        return;
    }
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
        s.kind = NormalizerStep::Unicode;
        s.form = type == "NFC" ? unicode::NormalForm::NFC
                 : type == "NFD" ? unicode::NormalForm::NFD
                 : type == "NFKC" ? unicode::NormalForm::NFKC
                                  : unicode::NormalForm::NFKD;
    } else if (type == "Prepend") {
        s.kind = NormalizerStep::Prepend;
        s.text = r.string(j, "prepend", where);
    } else if (type == "Replace") {
        s.kind = NormalizerStep::Replace;
        s.pattern = readPattern(r, j, where);
        s.text = r.string(j, "content", where);
    } else {
        r.unsupported(where, type, "NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence");
    }
    out.push_back(std::move(s));
}

void readPreTokenizer(const Reader& r, const json& j, const std::string& where,
                      std::vector<PreTokenizerStep>& out)
{
    if (j.is_null())
        return;
    const std::string type = r.type(j, where);
    PreTokenizerStep s;
    if (type == "Sequence") {
        const json& list = r.member(j, "pretokenizers", where);
        if (!list.is_array())
            r.fail(where + ".pretokenizers is not a list");
        for (size_t i = 0; i < list.size(); ++i)
            readPreTokenizer(r, list[i], where + ".pretokenizers[" + std::to_string(i) + "]", out);
        return;
    }
    if (type == "Split") {
        s.kind = PreTokenizerStep::Split;
        s.pattern = readPattern(r, j, where);
        const std::string b = r.string(j, "behavior", where);
        if (b == "Removed") s.behavior = SplitBehavior::Removed;
        else if (b == "Isolated") s.behavior = SplitBehavior::Isolated;
        else if (b == "MergedWithPrevious") s.behavior = SplitBehavior::MergedWithPrevious;
        else if (b == "MergedWithNext") s.behavior = SplitBehavior::MergedWithNext;
        else if (b == "Contiguous") s.behavior = SplitBehavior::Contiguous;
        else r.fail(where + ".behavior \"" + b + "\" is not a split behaviour");
        s.invert = r.boolean(j, "invert", false, where);
    } else if (type == "ByteLevel") {
        s.kind = PreTokenizerStep::ByteLevel;
        s.addPrefixSpace = r.boolean(j, "add_prefix_space", true, where);
        if (r.boolean(j, "use_regex", true, where))
            s.pattern.regex = std::make_shared<unicode::Regex>(kGpt2Pattern, r.path + ": " + where);
    } else if (type == "Metaspace") {
        s.kind = PreTokenizerStep::Metaspace;
        s.replacement = readReplacement(r, j, where);
        s.scheme = readPrependScheme(r, j, where);
        s.splitOnReplacement = r.boolean(j, "split", true, where);
    } else {
        r.unsupported(where, type, "Split, ByteLevel, Metaspace, Sequence");
    }
    if (!out.empty() && out.back().kind == PreTokenizerStep::ByteLevel)
        r.fail(where + ": a " + type + " pre-tokenizer after ByteLevel is not supported");
    out.push_back(std::move(s));
}

void readDecoder(const Reader& r, const json& j, const std::string& where, std::vector<DecoderStep>& out)
{
    if (j.is_null())
        return;
    const std::string type = r.type(j, where);
    DecoderStep s;
    if (type == "Sequence") {
        const json& list = r.member(j, "decoders", where);
        if (!list.is_array())
            r.fail(where + ".decoders is not a list");
        for (size_t i = 0; i < list.size(); ++i)
            readDecoder(r, list[i], where + ".decoders[" + std::to_string(i) + "]", out);
        return;
    }
    if (type == "ByteLevel") {
        s.kind = DecoderStep::ByteLevel;
    } else if (type == "Replace") {
        s.kind = DecoderStep::Replace;
        s.pattern = readPattern(r, j, where);
        s.text = r.string(j, "content", where);
    } else if (type == "ByteFallback") {
        s.kind = DecoderStep::ByteFallback;
    } else if (type == "Fuse") {
        s.kind = DecoderStep::Fuse;
    } else if (type == "Strip") {
        s.kind = DecoderStep::Strip;
        s.text = r.string(j, "content", where);
        const int64_t start = r.integer(j, "start", where), stop = r.integer(j, "stop", where);
        if (start < 0 || stop < 0)
            r.fail(where + ": negative start/stop");
        s.start = size_t(start);
        s.stop = size_t(stop);
    } else if (type == "Metaspace") {
        s.kind = DecoderStep::Metaspace;
        s.text = readReplacement(r, j, where);
        s.scheme = readPrependScheme(r, j, where);
    } else {
        r.unsupported(where, type, "ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence");
    }
    out.push_back(std::move(s));
}

int32_t lookupSpecial(const Reader& r, const HfTokenizer::Impl& t, const std::string& token,
                      const std::string& where)
{
    const auto it = t.tokenIds.find(token);
    if (it == t.tokenIds.end())
        r.fail(where + ": token \"" + token + "\" is not in the vocabulary");
    return it->second;
}

void readPostProcessor(const Reader& r, const json& j, const std::string& where, HfTokenizer::Impl& t)
{
    if (j.is_null())
        return;
    const std::string type = r.type(j, where);
    if (type == "Sequence") {
        const json& list = r.member(j, "processors", where);
        if (!list.is_array())
            r.fail(where + ".processors is not a list");
        for (size_t i = 0; i < list.size(); ++i)
            readPostProcessor(r, list[i], where + ".processors[" + std::to_string(i) + "]", t);
        return;
    }
    PostStep step;
    if (type == "ByteLevel") {
        t.post.push_back(step);
        return;
    }
    if (type != "TemplateProcessing")
        r.unsupported(where, type, "TemplateProcessing, ByteLevel, Sequence");
    step.isTemplate = true;
    const json& specials = j.contains("special_tokens") ? j.at("special_tokens") : json::object();
    const json& single = r.member(j, "single", where);
    if (!single.is_array())
        r.fail(where + ".single is not a list");
    for (const json& item : single) {
        TemplateItem ti;
        if (item.contains("Sequence")) {
            const std::string id = r.string(item.at("Sequence"), "id", where + ".single");
            if (id != "A")
                r.fail(where + ".single uses sequence \"" + id + "\" (only A in a single template)");
        } else if (item.contains("SpecialToken")) {
            const std::string id = r.string(item.at("SpecialToken"), "id", where + ".single");
            ti.special = true;
            if (!specials.contains(id))
                r.fail(where + ": special token \"" + id + "\" is not in special_tokens");
            const json& ids = r.member(specials.at(id), "ids", where + ".special_tokens." + id);
            if (!ids.is_array())
                r.fail(where + ".special_tokens." + id + ".ids is not a list");
            for (const json& x : ids) {
                if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
                    r.fail(where + ".special_tokens." + id + ".ids holds a bad id");
                ti.ids.push_back(int32_t(x.get<int64_t>()));
            }
        } else {
            r.fail(where + ".single holds an item that is neither Sequence nor SpecialToken");
        }
        step.single.push_back(std::move(ti));
    }
    t.post.push_back(std::move(step));
}

std::string tokenName(const json& v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v.at("content").is_string())
        return v.at("content").get<std::string>();
    return {};
}

void readModel(const Reader& r, const json& m, HfTokenizer::Impl& t)
{
    const std::string where = "model";
    if (!m.is_object())
        r.fail("\"model\" is not an object");
    std::string type = m.contains("type") ? r.string(m, "type", where) : (m.contains("merges") ? "BPE" : "");
    if (type != "BPE")
        r.fail("model type \"" + type + "\" is not supported (supported: BPE)");
    if (m.contains("dropout") && !m.at("dropout").is_null() && m.at("dropout").is_number() &&
        m.at("dropout").get<double>() > 0)
        r.fail("model.dropout is set: BPE dropout gives random encodings and is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (m.contains(key) && !m.at(key).is_null() && !(m.at(key).is_string() && m.at(key).get<std::string>().empty()))
            r.fail(std::string("model.") + key + " is set: not supported");
    t.fuseUnk = r.boolean(m, "fuse_unk", false, where);
    t.byteFallback = r.boolean(m, "byte_fallback", false, where);
    t.ignoreMerges = r.boolean(m, "ignore_merges", false, where);

    const json& vocab = r.member(m, "vocab", where);
    if (!vocab.is_object())
        r.fail("model.vocab is not an object of token -> id");
    int64_t maxId = -1;
    for (const auto& [token, id] : vocab.items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= INT32_MAX)
            r.fail("model.vocab[\"" + token + "\"] is not a valid id");
        maxId = std::max(maxId, id.get<int64_t>());
    }
    t.idToToken.assign(size_t(maxId + 1), {});
    t.hasId.assign(size_t(maxId + 1), false);
    for (const auto& [token, idJson] : vocab.items()) {
        const auto id = int32_t(idJson.get<int64_t>());
        if (t.hasId[size_t(id)])
            r.fail("model.vocab gives id " + std::to_string(id) + " twice");
        t.idToToken[size_t(id)] = token;
        t.hasId[size_t(id)] = true;
        t.tokenIds.emplace(token, id);
    }

    // Lookup keys: in byte-level mode the raw bytes a token stands for.
    t.byteUnit.fill(-1);
    t.fallback.fill(-1);
    std::string bytes;
    for (size_t id = 0; id < t.idToToken.size(); ++id) {
        if (!t.hasId[id])
            continue;
        const std::string& token = t.idToToken[id];
        if (t.byteLevel) {
            if (!byteLevelMap().toBytes(token, bytes))
                continue; // unreachable from byte-level text
            t.keys.push_back(bytes);
        } else {
            t.keys.push_back(token);
        }
        t.units.insert(t.keys.back(), int32_t(id));
        if (t.byteLevel && t.keys.back().size() == 1)
            t.byteUnit[static_cast<unsigned char>(t.keys.back()[0])] = int32_t(id);
    }
    if (t.byteFallback) {
        static const char* hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b) {
            const std::string name = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
            const auto it = t.tokenIds.find(name);
            t.fallback[size_t(b)] = it == t.tokenIds.end() ? -1 : it->second;
        }
    }
    if (m.contains("unk_token") && !m.at("unk_token").is_null()) {
        const std::string unk = r.string(m, "unk_token", where);
        const auto it = t.tokenIds.find(unk);
        if (it == t.tokenIds.end())
            r.fail("model.unk_token \"" + unk + "\" is not in the vocabulary");
        t.unkId = it->second;
    }

    const json& merges = r.member(m, "merges", where);
    if (!merges.is_array())
        r.fail("model.merges is not a list");
    t.merges.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const json& mj = merges[rank];
        std::string a, b;
        if (mj.is_string()) {
            const std::string s = mj.get<std::string>();
            const size_t space = s.find(' ');
            if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
                r.fail("model.merges[" + std::to_string(rank) + "] \"" + s + "\" is not two tokens separated by one space");
            a = s.substr(0, space);
            b = s.substr(space + 1);
        } else if (mj.is_array() && mj.size() == 2 && mj[0].is_string() && mj[1].is_string()) {
            a = mj[0].get<std::string>();
            b = mj[1].get<std::string>();
        } else {
            r.fail("model.merges[" + std::to_string(rank) + "] is neither \"a b\" nor [\"a\", \"b\"]");
        }
        const auto ia = t.tokenIds.find(a), ib = t.tokenIds.find(b), im = t.tokenIds.find(a + b);
        for (const auto& [it, name] : {std::pair{ia, a}, std::pair{ib, b}, std::pair{im, a + b}})
            if (it == t.tokenIds.end())
                r.fail("model.merges[" + std::to_string(rank) + "]: token \"" + name + "\" is not in the vocabulary");
        // tokenizers collects the merges into a map, so a pair listed twice keeps its last rank.
        t.merges.set(ia->second, ib->second, {int32_t(rank), im->second});
    }

    // Cutting long words (bpe()) is exact when no merge involves a byte-fallback or unknown
    // token: those ids stand for characters outside the vocabulary.
    if (!t.byteLevel) {
        std::vector<bool> special(t.idToToken.size(), false);
        for (int32_t id : t.fallback)
            if (id >= 0)
                special[size_t(id)] = true;
        if (t.unkId >= 0)
            special[size_t(t.unkId)] = true;
        bool fallbackMerges = false;
        for (size_t rank = 0; rank < merges.size() && !fallbackMerges; ++rank) {
            const json& mj = merges[rank];
            std::string a, b;
            if (mj.is_string()) {
                const std::string s = mj.get<std::string>();
                a = s.substr(0, s.find(' '));
                b = s.substr(s.find(' ') + 1);
            } else {
                a = mj[0].get<std::string>();
                b = mj[1].get<std::string>();
            }
            fallbackMerges = special[size_t(t.tokenIds.at(a))] || special[size_t(t.tokenIds.at(b))];
        }
        t.cutAtBarriers = !fallbackMerges;
        // Characters inside tokens of two or more characters: the others are barriers.
        std::unordered_map<std::string, bool> seen;
        for (size_t id = 0; id < t.idToToken.size(); ++id) {
            const std::string& token = t.idToToken[id];
            if (!t.hasId[id] || token.empty() ||
                token.size() == unicode::charLength(static_cast<unsigned char>(token[0])))
                continue;
            for (size_t i = 0; i < token.size();) {
                const size_t n = unicode::charLength(static_cast<unsigned char>(token[i]));
                if (seen.emplace(token.substr(i, n), true).second) {
                    t.mergeableKeys.push_back(token.substr(i, n));
                    t.mergeable.insert(t.mergeableKeys.back(), 0);
                }
                i += n;
            }
        }
    }
}

void readAddedTokens(const Reader& r, const json& j, HfTokenizer::Impl& t)
{
    if (j.is_null())
        return;
    if (!j.is_array())
        r.fail("added_tokens is not a list");
    for (size_t i = 0; i < j.size(); ++i) {
        const std::string where = "added_tokens[" + std::to_string(i) + "]";
        AddedToken a;
        const int64_t id = r.integer(j[i], "id", where);
        if (id < 0 || id >= INT32_MAX)
            r.fail(where + ".id is out of range");
        a.id = int32_t(id);
        a.content = r.string(j[i], "content", where);
        a.singleWord = r.boolean(j[i], "single_word", false, where);
        a.lstrip = r.boolean(j[i], "lstrip", false, where);
        a.rstrip = r.boolean(j[i], "rstrip", false, where);
        a.special = r.boolean(j[i], "special", false, where);
        a.normalized = r.boolean(j[i], "normalized", !a.special, where);
        t.added.push_back(std::move(a));
    }
    for (const AddedToken& a : t.added) {
        if (size_t(a.id) >= t.idToToken.size()) {
            t.idToToken.resize(size_t(a.id) + 1);
            t.hasId.resize(size_t(a.id) + 1, false);
        }
        t.idToToken[size_t(a.id)] = a.content;
        t.hasId[size_t(a.id)] = true;
        t.tokenIds[a.content] = a.id;
    }
}

void buildAddedMatchers(HfTokenizer::Impl& t)
{
    // Special tokens first, then the others, as tokenizers orders its patterns.
    for (int pass = 0; pass < 2; ++pass)
        for (const AddedToken& a : t.added) {
            if (a.special != (pass == 0) || a.content.empty())
                continue;
            if (a.normalized) {
                std::string pattern = a.content;
                t.normalize(pattern);
                t.normalizedAdded.add(pattern, &a);
            } else {
                t.rawAdded.add(a.content, &a);
            }
        }
}

struct TokenizerConfig {
    bool present = false;
    std::string bos, eos, tokenizerClass;
    std::optional<bool> addBos, addEos;
};

TokenizerConfig readTokenizerConfig(const std::string& dir)
{
    TokenizerConfig c;
    const std::string file = files::join(dir, "tokenizer_config.json");
    if (!files::exists(file))
        return c;
    json j;
    try {
        j = json::parse(files::readAll(file));
    } catch (const json::exception& e) {
        throw Error(file + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object())
        throw Error(file + ": not a JSON object");
    c.present = true;
    if (j.contains("bos_token"))
        c.bos = tokenName(j.at("bos_token"));
    if (j.contains("eos_token"))
        c.eos = tokenName(j.at("eos_token"));
    if (j.contains("tokenizer_class") && j.at("tokenizer_class").is_string())
        c.tokenizerClass = j.at("tokenizer_class").get<std::string>();
    if (j.contains("add_bos_token") && j.at("add_bos_token").is_boolean())
        c.addBos = j.at("add_bos_token").get<bool>();
    if (j.contains("add_eos_token") && j.at("add_eos_token").is_boolean())
        c.addEos = j.at("add_eos_token").get<bool>();
    return c;
}

} // namespace

std::shared_ptr<const HfTokenizer> HfTokenizer::load(const std::string& path)
{
    if (!files::exists(path))
        throw Error(path + ": tokenizer file does not exist");
    if (files::isDirectory(path))
        throw Error(path + ": is a folder, not a tokenizer.json");
    json j;
    try {
        j = json::parse(files::readAll(path));
    } catch (const json::exception& e) {
        throw Error(path + ": not valid JSON (" + e.what() + ")");
    }
    Reader r{path};
    if (!j.is_object())
        r.fail("not a tokenizer.json (the top level is not an object)");
    if (!j.contains("model"))
        r.fail("not a tokenizer.json (no \"model\")");
    // "truncation" and "padding" are ignored: encodings here are never padded or truncated.

    auto t = std::make_shared<Impl>();
    t->path = path;
    readNormalizer(r, j.value("normalizer", json()), "normalizer", t->normalizers);
    readPreTokenizer(r, j.value("pre_tokenizer", json()), "pre_tokenizer", t->preTokenizers);
    t->byteLevel = !t->preTokenizers.empty() && t->preTokenizers.back().kind == PreTokenizerStep::ByteLevel;
    readModel(r, j.at("model"), *t);
    readAddedTokens(r, j.value("added_tokens", json()), *t);
    buildAddedMatchers(*t);
    readPostProcessor(r, j.value("post_processor", json()), "post_processor", *t);
    t->hasDecoder = j.contains("decoder") && !j.at("decoder").is_null();
    readDecoder(r, j.value("decoder", json()), "decoder", t->decoders);
    t->vocabSize = int32_t(t->idToToken.size());

    const TokenizerConfig config = readTokenizerConfig(files::parent(path));
    if (!config.bos.empty())
        t->bos = lookupSpecial(r, *t, config.bos, "tokenizer_config.json bos_token");
    if (!config.eos.empty())
        t->eos = lookupSpecial(r, *t, config.eos, "tokenizer_config.json eos_token");
    // transformers' Llama/Gemma fast tokenizers rebuild the post-processor from add_bos_token
    // (default true) and add_eos_token (default false) whatever tokenizer.json says.
    const std::string& cls = config.tokenizerClass;
    const bool llamaClass = cls.rfind("LlamaTokenizer", 0) == 0 || cls.rfind("CodeLlamaTokenizer", 0) == 0 ||
                            cls.rfind("GemmaTokenizer", 0) == 0;
    if (llamaClass) {
        const bool addBos = config.addBos.value_or(true), addEos = config.addEos.value_or(false);
        if (addBos && t->bos < 0)
            r.fail("tokenizer_config.json asks for a BOS token (add_bos_token) but names none");
        if (addEos && t->eos < 0)
            r.fail("tokenizer_config.json asks for an EOS token (add_eos_token) but names none");
        PostStep step;
        step.isTemplate = true;
        if (addBos)
            step.single.push_back({true, {t->bos}});
        step.single.push_back({false, {}});
        if (addEos)
            step.single.push_back({true, {t->eos}});
        t->post.assign(1, step);
    }
    return std::make_shared<HfTokenizer>(std::move(t));
}

HfTokenizer::HfTokenizer(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

std::vector<int32_t> HfTokenizer::encode(std::string_view text) const { return m_impl->encode(text); }

std::vector<int32_t> HfTokenizer::encodeForModel(std::string_view text) const
{
    return m_impl->postProcess(m_impl->encode(text));
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const
{
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
        m_impl->checkId(id);
        tokens.push_back(m_impl->idToToken[size_t(id)]);
    }
    if (!m_impl->hasDecoder) { // tokenizers joins with spaces when there is no decoder
        std::string out;
        for (size_t i = 0; i < tokens.size(); ++i)
            out += (i ? " " : "") + tokens[i];
        return out;
    }
    for (const DecoderStep& step : m_impl->decoders)
        step.apply(tokens);
    std::string out;
    for (const auto& t : tokens)
        out += t;
    return out;
}

std::vector<std::string> HfTokenizer::encodeAsTokens(std::string_view text) const
{
    std::vector<std::string> out;
    for (int32_t id : encode(text))
        out.push_back(idToToken(id));
    return out;
}

const std::string& HfTokenizer::idToToken(int32_t id) const
{
    m_impl->checkId(id);
    return m_impl->idToToken[size_t(id)];
}

int32_t HfTokenizer::tokenToId(std::string_view token) const
{
    const auto it = m_impl->tokenIds.find(std::string(token));
    return it == m_impl->tokenIds.end() ? -1 : it->second;
}

int32_t HfTokenizer::vocabSize() const { return m_impl->vocabSize; }
int32_t HfTokenizer::bosId() const { return m_impl->bos; }
int32_t HfTokenizer::eosId() const { return m_impl->eos; }
std::string HfTokenizer::kind() const { return m_impl->byteLevel ? "hf-bpe-bytelevel" : "hf-bpe"; }
const std::string& HfTokenizer::path() const { return m_impl->path; }

} // namespace mpq
