// mpq — the command-line face of MPQ Workbench: every job the GUI runs, for scripts and servers.
#include "Args.h"
#include "Commands.h"
#include "SettingFlags.h"
#include "Terminal.h"

#include "core/Device.h"
#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Version.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

const char* kUsage =
    "usage: mpq <command> [arguments] [options]\n"
    "\n"
    "Mixed-precision post-training quantization of LLaMA-family models.\n"
    "\n"
    "commands:\n"
    "  info MODEL          architecture, parameter counts and the tensor table of a model\n"
    "  eval MODEL|RESULT   perplexity on WikiText-2, C4 or a text file (protocols gptq,\n"
    "                      sliding, documents)\n"
    "  quantize MODEL      RTN, GPTQ, HQQ, MG-PTQ or MXQ into a result folder or a session\n"
    "  sweep MODEL         quantize + evaluate along alpha, target bits, budget or bits\n"
    "  session ls FILE     runs, settings, figures, evaluations and sweeps of a session file\n"
    "  session verify FILE reads all a session stores back and checks every checksum\n"
    "  export RUN          a run as a Hugging Face (fp16), GPTQ, mpq-packed or GGUF checkpoint\n"
    "  tokenize MODEL FILE ids of a text file as the model sees them: count, first ids, sha256\n"
    "  bench MODEL         forward-pass throughput and evaluation wall time\n"
    "  bench-quantize      quantization pipeline speed on a synthetic LLaMA-7B-shaped model\n"
    "  bench-mxq           MXQ speed (HQQ passes + solve) on a synthetic LLaMA-7B- or 70B-shaped model\n"
    "  bench-tokenize      tokenizer speed on a whole text file\n"
    "\n"
    "RESULT is a result folder or SESSION#RUN (a run of an HDF5 session file).\n"
    "MODEL is a Hugging Face LLaMA folder (config.json + safetensors, single or sharded) or a\n"
    "llama2.c .bin checkpoint. Pickled checkpoints are never read.\n"
    "\n"
    "Data sets are found by name (wikitext2, c4) in the data directory: --data-dir DIR, else the\n"
    "environment variable MPQ_DATA_DIR, else ../shared/data.\n"
    "\n"
    "--demo (info, eval, quantize, sweep) uses the embedded demo model, a 0.33 M-parameter LLaMA\n"
    "with its tokenizer and texts, so every job runs without a data directory:\n"
    "  mpq eval --demo\n"
    "  mpq quantize --demo --method gptq --bits 3 --out demo-gptq3 && mpq eval --demo demo-gptq3\n"
    "It is looked for in $MPQ_DEMO_DIR, else share/mpq-workbench/demo beside the program's bin/,\n"
    "else where the build was configured to install it, else the source tree.\n"
    "\n"
    "Run 'mpq <command> --help' for a command's options, 'mpq --version' for the version.\n"
    "Exit status: 0 success, 1 error, 2 bad usage, 130 interrupted.\n";

/// What bad usage prints: one line (the full text is `mpq --help`'s).
const char* kShortUsage = "usage: mpq <command> [arguments] [options]; commands: info eval quantize sweep session "
                          "export tokenize bench bench-quantize bench-mxq bench-tokenize ('mpq --help' explains them)\n";

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fputs(kShortUsage, stderr);
        return 2;
    }
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-V")) {
        std::printf("mpq (MPQ Workbench) %s\n", mpq::version());
        return 0;
    }
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
        const char* threads = std::getenv("MPQ_THREADS");
        mpq::configureThreads(threads ? std::atoi(threads) : 0);
        if (command == "info")
            return mpq::cli::runInfo(args);
        if (command == "eval")
            return mpq::cli::runEval(args);
        if (command == "quantize")
            return mpq::cli::runQuantize(args);
        if (command == "sweep")
            return mpq::cli::runSweep(args);
        if (command == "session")
            return mpq::cli::runSession(args);
        if (command == "export")
            return mpq::cli::runExport(args);
        if (command == "tokenize")
            return mpq::cli::runTokenize(args);
        if (command == "bench-tokenize")
            return mpq::cli::runBenchTokenize(args);
        if (command == "bench-mxq")
            return mpq::cli::runBenchMxq(args);
        if (command == "bench-quantize")
            return mpq::cli::runBenchQuantize(args);
        if (command == "bench")
            return mpq::cli::runBench(args);
        std::fprintf(stderr, "mpq: unknown command \"%s\"; %s", command.c_str(), kShortUsage + 7);
        return 2;
    } catch (const mpq::cli::UsageError& e) {
        std::fprintf(stderr, "mpq %s: %s\n", command.c_str(), e.what());
        return 2;
    } catch (const mpq::Cancelled&) {
        mpq::cli::endProgressLine();
        std::fprintf(stderr, "mpq %s: cancelled; nothing was written\n", command.c_str());
        return 130;
    } catch (const mpq::SettingError& e) {
        // The engine speaks of settings; the report names the options that set them.
        mpq::cli::endProgressLine();
        std::fprintf(stderr, "mpq %s: error: %s%s\n", command.c_str(), e.what(),
                     mpq::cli::flagsSuffix(e.settings()).c_str());
        return 1;
    } catch (const mpq::Error& e) {
        mpq::cli::endProgressLine();
        std::fprintf(stderr, "mpq %s: error: %s\n", command.c_str(), e.what());
        return 1;
    } catch (const std::exception& e) {
        // LibTorch reports device and memory failures as c10::Error (a std::exception).
        mpq::cli::endProgressLine();
        std::string what = e.what();
        const auto cut = what.find("\nException raised from");
        if (cut != std::string::npos)
            what.resize(cut);
        std::fprintf(stderr, "mpq %s: internal error: %s\n", command.c_str(), what.c_str());
        return 1;
    }
}
