#include "data/Calibration.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "data/PyRandom.h"
#include "data/TextSources.h"
#include "tokenizer/Tokenizer.h"

#include <cstring>
#include <fstream>
#include <map>

namespace mpq {

std::vector<std::string> calibrationSourceParts(const std::string& source)
{
    if (files::exists(source))
        return {source}; // a file whose name holds a '+'
    std::vector<std::string> parts;
    size_t from = 0;
    for (;;) {
        const size_t plus = source.find('+', from);
        parts.push_back(source.substr(from, plus == std::string::npos ? std::string::npos : plus - from));
        if (parts.back().empty())
            throw Error("calibration source '" + source + "': an empty part (write A+B, e.g. c4+self)");
        if (plus == std::string::npos)
            return parts;
        from = plus + 1;
    }
}

CalibrationSet sampleCalibration(const CalibrationParams& p, const Tokenizer& tok, JobContext& ctx)
{
    if (!p.tokensFile.empty())
        return loadCalibrationTokens(p.tokensFile, tok.vocabSize());
    if (p.nsamples < 1 || p.seqlen < 2)
        throw Error("calibration needs nsamples >= 1 and seqlen >= 2");
    if (p.source == kSelfCalibration || calibrationSourceParts(p.source).size() > 1)
        throw Error("calibration source '" + p.source + "' needs the model (modelCalibration)");
    CalibrationSet set;
    const std::string dir = p.dataDir.empty() ? data::dataDirectory() : p.dataDir;
    set.sourcePath = data::resolveCalibrationSet(p.source, dir);
    data::PyRandom rng(p.seed);
    ctx.start("calibration data");

    if (data::isJsonLines(set.sourcePath)) {
        const auto docs = data::readJsonLinesTexts(set.sourcePath);
        std::map<int64_t, std::vector<int32_t>> cache; // documents are drawn repeatedly
        int64_t longEnough = -1;                       // counted lazily, to detect hopeless sets
        for (int64_t s = 0; s < p.nsamples; ++s) {
            const std::vector<int32_t>* ids = nullptr;
            for (int64_t attempts = 0;; ++attempts) {
                const int64_t i = rng.randint(0, int64_t(docs.size()) - 1);
                auto it = cache.find(i);
                if (it == cache.end()) {
                    it = cache.emplace(i, tok.encodeForModel(docs[size_t(i)])).first;
                }
                if (int64_t(it->second.size()) > p.seqlen) {
                    ids = &it->second;
                    break;
                }
                if (attempts == 2000 && longEnough < 0) {
                    longEnough = 0;
                    for (const auto& d : docs)
                        longEnough += int64_t(tok.encodeForModel(d).size()) > p.seqlen;
                    if (longEnough == 0)
                        throw SettingError("seqlen", set.sourcePath + ": no document is longer than " +
                                                         std::to_string(p.seqlen) +
                                                         " tokens; lower the window length (seqlen)");
                }
                ctx.checkCancelled();
            }
            const int64_t start = rng.randint(0, int64_t(ids->size()) - p.seqlen - 1);
            set.windows.emplace_back(ids->begin() + start, ids->begin() + start + p.seqlen);
            ctx.report(s + 1, p.nsamples, "windows");
        }
    } else {
        const std::string text = set.sourcePath.find("wiki.") != std::string::npos
                                     ? data::loadWikitext2(set.sourcePath)
                                     : data::readUtf8File(set.sourcePath);
        const std::vector<int32_t> ids = tok.encodeForModel(text);
        if (int64_t(ids.size()) <= p.seqlen)
            throw Error(set.sourcePath + ": " + std::to_string(ids.size()) +
                        " tokens are too few for calibration windows of " + std::to_string(p.seqlen));
        for (int64_t s = 0; s < p.nsamples; ++s) {
            const int64_t start = rng.randint(0, int64_t(ids.size()) - p.seqlen - 1);
            set.windows.emplace_back(ids.begin() + start, ids.begin() + start + p.seqlen);
        }
        ctx.report(p.nsamples, p.nsamples, "windows");
    }
    set.description = std::to_string(p.nsamples) + " x " + std::to_string(p.seqlen) + " tokens from " +
                      p.source + " (seed " + std::to_string(p.seed) + ")";
    return set;
}

void saveCalibrationTokens(const CalibrationSet& set, const std::string& path)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(path + ": cannot write");
    const int64_t n = int64_t(set.windows.size());
    const int64_t len = n ? int64_t(set.windows[0].size()) : 0;
    out.write("MPQCAL01", 8);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(reinterpret_cast<const char*>(&len), 8);
    for (const auto& w : set.windows)
        out.write(reinterpret_cast<const char*>(w.data()), std::streamsize(w.size() * 4));
    if (!out)
        throw Error(path + ": write failed");
}

CalibrationSet loadCalibrationTokens(const std::string& path, int32_t vocabSize)
{
    const std::string data = files::readAll(path);
    if (data.size() < 24 || data.compare(0, 8, "MPQCAL01") != 0)
        throw Error(path + ": not a calibration token file (expected the MPQCAL01 header)");
    int64_t n = 0, len = 0;
    std::memcpy(&n, data.data() + 8, 8);
    std::memcpy(&len, data.data() + 16, 8);
    if (n < 1 || len < 2 || n > (int64_t(1) << 24) || len > (int64_t(1) << 24) ||
        uint64_t(data.size()) != 24 + uint64_t(n) * uint64_t(len) * 4)
        throw Error(path + ": header (" + std::to_string(n) + " x " + std::to_string(len) +
                    ") does not match the file size");
    CalibrationSet set;
    set.sourcePath = path;
    set.description = std::to_string(n) + " x " + std::to_string(len) + " tokens from " + path;
    const auto* ids = reinterpret_cast<const int32_t*>(data.data() + 24);
    for (int64_t i = 0; i < n; ++i) {
        set.windows.emplace_back(ids + i * len, ids + (i + 1) * len);
        for (int32_t t : set.windows.back())
            if (t < 0 || t >= vocabSize)
                throw Error(path + ": token id " + std::to_string(t) + " outside the vocabulary");
    }
    return set;
}

} // namespace mpq
