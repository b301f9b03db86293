#include "data/TextSources.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace mpq::data {

namespace {

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string firstExisting(const std::vector<std::string>& candidates, const std::string& what)
{
    for (const auto& c : candidates)
        if (files::exists(c))
            return c;
    // One line naming the setting to change: the data directory, or the file it lacks.
    const std::string dir = files::parent(files::parent(candidates.front()));
    if (!files::isDirectory(dir))
        throw SettingError("dataDir", "data directory " + dir + " does not exist (set the data directory, or MPQ_DATA_DIR)");
    std::string names;
    for (const auto& c : candidates)
        names += (names.empty() ? "" : " or ") + c.substr(dir.size() + 1);
    throw SettingError("dataDir", what + " not found in the data directory " + dir + " (no " + names +
                                      "; set the data directory, or MPQ_DATA_DIR)");
}

/// Index of the first byte of an invalid UTF-8 sequence, or npos. Well-formed means Unicode's
/// Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF.
size_t invalidUtf8At(const std::string& s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; ++k)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += len;
    }
    return std::string::npos;
}

std::string gunzip(const std::string& path)
{
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        throw Error(path + ": cannot open");
    std::string out;
    char buf[1 << 16];
    int got = 0;
    while ((got = gzread(f, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(got));
    int err = 0;
    const char* msg = gzerror(f, &err);
    const bool failed = got < 0 || (err != Z_OK && err != Z_STREAM_END);
    const std::string why = failed ? std::string(msg ? msg : "error") : std::string();
    gzclose(f);
    if (failed)
        throw Error(path + ": corrupt gzip data (" + why + ")");
    return out;
}

} // namespace

std::string dataDirectory()
{
    const char* env = std::getenv("MPQ_DATA_DIR");
    return (env && *env) ? std::string(env) : std::string("../shared/data");
}

std::string resolveEvalSet(const std::string& name, const std::string& dir)
{
    if (name == "wikitext2")
        return firstExisting({files::join(dir, "wikitext2/wiki.test.joined.txt"),
                              files::join(dir, "wikitext2/wiki.test.raw")},
                             "WikiText-2 test set");
    if (name == "c4")
        return firstExisting({files::join(dir, "c4/c4-validation.00000-of-00008.head1025.jsonl"),
                              files::join(dir, "c4/c4-validation.00000-of-00008.json.gz")},
                             "C4 validation excerpt");
    if (!files::exists(name))
        throw Error(name + ": no such file (named sets are wikitext2 and c4)");
    return name;
}

std::string resolveCalibrationSet(const std::string& name, const std::string& dir)
{
    if (name == "c4")
        return firstExisting({files::join(dir, "c4/c4-train.00000-of-01024.head1041.jsonl"),
                              files::join(dir, "c4/c4-train.00000-of-01024.json.gz")},
                             "C4 train excerpt");
    if (name == "wikitext2")
        return firstExisting({files::join(dir, "wikitext2/wiki.train.raw"),
                              files::join(dir, "wikitext2/wiki.test.joined.txt"),
                              files::join(dir, "wikitext2/wiki.test.raw")},
                             "WikiText-2 text");
    if (!files::exists(name))
        throw Error(name + ": no such file (named sets are c4 and wikitext2)");
    return name;
}

std::string readUtf8File(const std::string& path)
{
    std::string text = files::readAll(path);
    const size_t bad = invalidUtf8At(text);
    if (bad != std::string::npos)
        throw Error(path + ": not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    return text;
}

std::string loadWikitext2(const std::string& path)
{
    std::string text = readUtf8File(path);
    if (endsWith(path, ".joined.txt"))
        return text;
    // Hugging Face's wikitext loader yields each line (with its "\n") as a row, blank lines as
    // empty rows; GPTQ joins rows with "\n\n". Distributed copies without the blank lines lose
    // them; headings (" = Title = ") were surrounded by blank rows (two before an article title),
    // which is restored here. docs/data.md states how close this gets.
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(line + "\n");
    }
    const bool hasBlankRows = [&] {
        for (const auto& l : lines)
            if (l.find_first_not_of(" \n") == std::string::npos)
                return true;
        return false;
    }();
    std::vector<std::string> rows;
    for (const auto& l : lines) {
        const bool blank = l.find_first_not_of(" \n") == std::string::npos;
        if (blank) {
            rows.emplace_back();
            continue;
        }
        const bool heading = !hasBlankRows && l.rfind(" = ", 0) == 0 && endsWith(l, " = \n");
        if (heading) {
            if (l.rfind(" = = ", 0) != 0 && !rows.empty())
                rows.emplace_back();
            rows.emplace_back();
            rows.push_back(l);
            rows.emplace_back();
        } else {
            rows.push_back(l);
        }
    }
    if (!hasBlankRows)
        rows.emplace_back();
    std::string joined;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (i)
            joined += "\n\n";
        joined += rows[i];
    }
    return joined;
}

std::vector<std::string> readJsonLinesTexts(const std::string& path, int64_t maxDocuments)
{
    const std::string content = endsWith(path, ".gz") ? gunzip(path) : files::readAll(path);
    std::vector<std::string> texts;
    size_t start = 0;
    int64_t lineNo = 0;
    while (start < content.size() && (maxDocuments < 0 || int64_t(texts.size()) < maxDocuments)) {
        size_t end = content.find('\n', start);
        if (end == std::string::npos)
            end = content.size();
        ++lineNo;
        const std::string line = content.substr(start, end - start);
        start = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw Error(path + ": line " + std::to_string(lineNo) + " is not valid JSON (" + e.what() + ")");
        }
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
            throw Error(path + ": line " + std::to_string(lineNo) + " has no string \"text\" field");
        texts.push_back(j["text"].get<std::string>());
    }
    if (texts.empty())
        throw Error(path + ": no documents found");
    return texts;
}

std::vector<std::string> splitDocuments(const std::string& text, const std::string& separator)
{
    std::vector<std::string> docs;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string::npos)
            end = text.size();
        // Python's str.strip(): ASCII whitespace (Unicode spaces are rare in these sets).
        const char* ws = " \t\n\r\f\v";
        const std::string piece = text.substr(start, end - start);
        const size_t a = piece.find_first_not_of(ws);
        if (a != std::string::npos)
            docs.push_back(piece.substr(a, piece.find_last_not_of(ws) - a + 1));
        start = end + separator.size();
        if (end == text.size())
            break;
    }
    return docs;
}

bool isJsonLines(const std::string& path)
{
    for (const char* ext : {".jsonl", ".json", ".jsonl.gz", ".json.gz"})
        if (endsWith(path, ext))
            return true;
    return false;
}

} // namespace mpq::data
