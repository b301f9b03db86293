#include "MemoryOptions.h"
#include "Args.h"
#include "Commands.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/ModelSource.h"
#include "tokenizer/ModelTokenizer.h"
#include "tokenizer/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace mpq::cli {

namespace {

/// A tokenizer file (tokenizer.json or a SentencePiece .model), a folder holding one (a model
/// folder: as the model would load it, with its config's bos_token_id), or a llama2.c .bin.
std::shared_ptr<const Tokenizer> openFromArgument(const std::string& path)
{
    if (!files::exists(path))
        throw Error(path + ": no such file or folder");
    const bool folder = files::isDirectory(path);
    const bool checkpoint = !folder && (path.size() > 4 && (path.compare(path.size() - 4, 4, ".bin") == 0 ||
                                                            path.find(".safetensors") != std::string::npos));
    if (checkpoint || (folder && files::exists(files::join(path, "config.json"))))
        return openModelTokenizer(ModelSource::open(path));
    if (folder) {
        const std::string file = findTokenizerFile(path);
        if (file.empty())
            throw Error(path + ": no tokenizer.json or tokenizer.model in this folder");
        return openTokenizer(file);
    }
    return openTokenizer(path);
}

double cpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

} // namespace

int runTokenize(const std::vector<std::string>& argv)
{
    Args args("tokenize",
              "Tokenizes a text file and prints a fingerprint of the ids, to compare with another\n"
              "implementation (e.g. Hugging Face tokenizers: tokenizer(text)[\"input_ids\"]):\n"
              "  count   number of ids\n"
              "  first   the first 24 ids\n"
              "  sha256  SHA-256 of the ids as little-endian int32\n"
              "By default the ids are as the model sees them, with the post-processor's special\n"
              "tokens (transformers' add_special_tokens=True: Llama 3's <|begin_of_text|>, LLaMA-2's\n"
              "BOS, nothing for Qwen). The file's bytes are used as they are (no line-end changes);\n"
              "ill-formed UTF-8 is read as U+FFFD.");
    args.positional("MODEL|TOKENIZER", "a model folder or checkpoint (its tokenizer as the model loads it: "
                                       "tokenizer.json before tokenizer.model), a tokenizer.json, a "
                                       "SentencePiece .model, or a folder holding one of them");
    args.positional("TEXT_FILE", "the text to tokenize");
    args.flag("no-special", "ids without the special tokens (add_special_tokens=False)");
    args.flag("json", "print one JSON object (tokenizer, kind, special, count, first, sha256) instead of text");
    args.flag("ids", "also print every id (text: one line; JSON: an \"ids\" list)");
    if (!args.parse(argv))
        return 0;

    const auto tok = openFromArgument(args.get("MODEL|TOKENIZER"));
    const std::string text = files::readAll(args.get("TEXT_FILE"));
    const bool special = !args.has("no-special");
    const std::vector<int32_t> ids = special ? tok->encodeForModel(text) : tok->encode(text);
    const std::vector<int32_t> first(ids.begin(), ids.begin() + long(std::min<size_t>(24, ids.size())));
    const std::string sha = tokenIdsSha256(ids);

    if (args.has("json")) {
        nlohmann::json j;
        j["tokenizer"] = tok->path();
        j["kind"] = tok->kind();
        j["special"] = special;
        j["count"] = ids.size();
        j["first"] = first;
        j["sha256"] = sha;
        if (args.has("ids"))
            j["ids"] = ids;
        std::cout << withMemory(j).dump() << "\n";
        return 0;
    }
    std::printf("tokenizer  %s (%s, %d ids)\n", tok->path().c_str(), tok->kind().c_str(), tok->vocabSize());
    std::printf("special    %s\n", special ? "yes (as the model sees the text)" : "no (--no-special)");
    std::printf("count      %zu\n", ids.size());
    std::printf("first     ");
    for (int32_t id : first)
        std::printf(" %d", id);
    std::printf("\nsha256     %s\n", sha.c_str());
    if (args.has("ids")) {
        std::printf("ids       ");
        for (int32_t id : ids)
            std::printf(" %d", id);
        std::printf("\n");
    }
    return 0;
}

int runBenchTokenize(const std::vector<std::string>& argv)
{
    Args args("bench-tokenize",
              "Times tokenization of a whole text file (e.g. WikiText-2's wiki.test.joined.txt): the\n"
              "load of the tokenizer, then --repeat encodings of the file; prints the fastest\n"
              "encoding's wall-clock and CPU seconds (CPU time is what a busy shared machine cannot\n"
              "inflate). For the single-core figure run it under `taskset -c 0`.");
    args.positional("MODEL|TOKENIZER", "a model folder, a tokenizer.json, a SentencePiece .model, or a "
                                       "folder holding one of them");
    args.positional("TEXT_FILE", "the text to tokenize");
    args.option("repeat", "N", "encodings to time (the fastest is reported)", "5");
    args.flag("json", "print one JSON object instead of text");
    if (!args.parse(argv))
        return 0;
    const int64_t repeat = args.getInt("repeat");
    if (repeat < 1 || repeat > 1000)
        throw UsageError("--repeat must be between 1 and 1000");

    using Clock = std::chrono::steady_clock;
    const auto l0 = Clock::now();
    const double lc0 = cpuSeconds();
    const auto tok = openFromArgument(args.get("MODEL|TOKENIZER"));
    const double loadCpu = cpuSeconds() - lc0;
    const double loadWall = std::chrono::duration<double>(Clock::now() - l0).count();
    const std::string text = files::readAll(args.get("TEXT_FILE"));

    double bestWall = 1e30, bestCpu = 1e30;
    size_t count = 0;
    for (int64_t r = 0; r < repeat; ++r) {
        const auto t0 = Clock::now();
        const double c0 = cpuSeconds();
        count = tok->encode(text).size();
        bestCpu = std::min(bestCpu, cpuSeconds() - c0);
        bestWall = std::min(bestWall, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    if (args.has("json")) {
        nlohmann::json j;
        j["tokenizer"] = tok->path();
        j["kind"] = tok->kind();
        j["bytes"] = text.size();
        j["tokens"] = count;
        j["repeat"] = repeat;
        j["encode_wall_seconds"] = bestWall;
        j["encode_cpu_seconds"] = bestCpu;
        j["load_wall_seconds"] = loadWall;
        j["load_cpu_seconds"] = loadCpu;
        std::cout << withMemory(j).dump() << "\n";
        return 0;
    }
    std::printf("tokenizer  %s (%s)\n", tok->path().c_str(), tok->kind().c_str());
    std::printf("text       %s: %zu bytes -> %zu tokens\n", args.get("TEXT_FILE").c_str(), text.size(), count);
    std::printf("load       %.3f s wall, %.3f s CPU\n", loadWall, loadCpu);
    std::printf("encode     %.3f s wall, %.3f s CPU (fastest of %lld; %.1f MB/s)\n", bestWall, bestCpu,
                (long long)repeat, text.size() / 1e6 / std::max(bestWall, 1e-9));
    return 0;
}

} // namespace mpq::cli
