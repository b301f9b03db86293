#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq::data {

/// The shared data directory: the MPQ_DATA_DIR environment variable, else "../shared/data"
/// (relative to the working directory). The CLI's --data-dir sets MPQ_DATA_DIR.
std::string dataDirectory();

/// Named evaluation sets: "wikitext2" (test split) and "c4" (validation excerpt, GPTQ's c4-new).
/// Any other name is taken as a path. Returns the file to read; throws mpq::Error naming what
/// was looked for when it is missing.
std::string resolveEvalSet(const std::string& nameOrPath, const std::string& dataDir);
/// Named calibration sets: "c4" (train excerpt), "wikitext2" (train split if present, else the
/// test text); any other name is a path.
std::string resolveCalibrationSet(const std::string& nameOrPath, const std::string& dataDir);

/// A file's bytes; throws mpq::Error if it is missing or not valid UTF-8.
std::string readUtf8File(const std::string& path);

/// WikiText-2 as GPTQ evaluates it: "\n\n".join of the dataset's rows. A pre-joined file
/// (name ends in ".joined.txt") is returned as is; a raw file (wiki.test.raw, CRLF or LF) is
/// converted row by row. See docs/data.md for how blank rows are restored and its limits.
std::string loadWikitext2(const std::string& path);

/// The "text" field of each line of a JSON-lines file, plain or gzip-compressed (.gz).
/// Reads at most `maxDocuments` documents (all when negative). Throws mpq::Error naming the
/// file and line on malformed input.
std::vector<std::string> readJsonLinesTexts(const std::string& path, int64_t maxDocuments = -1);

/// Splits on `separator`, strips surrounding whitespace, drops empty pieces.
std::vector<std::string> splitDocuments(const std::string& text,
                                        const std::string& separator = "<|endoftext|>");

/// True when `path` looks like a JSON-lines file (.jsonl, .json, .jsonl.gz, .json.gz).
bool isJsonLines(const std::string& path);

} // namespace mpq::data
