#include "MemoryOptions.h"
#include "Args.h"
#include "Commands.h"
#include "Terminal.h"
#include "Validate.h"

#include "export/Export.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mpq::cli {

int runExport(const std::vector<std::string>& argv)
{
    Args args("export",
              "Writes a stored quantization run as a checkpoint other tools load (docs/export-formats.md).\n"
              "\n"
              "formats:\n"
              "  hf          Hugging Face LLaMA folder: config.json, tokenizer files and every tensor of the\n"
              "              model in --dtype (fp16 by default), quantized matrices dequantized (W^). Loads in\n"
              "              transformers' LlamaForCausalLM. Any run can be exported this way.\n"
              "  gptq        GPTQ v1 checkpoint (AutoGPTQ / GPTQModel layout): qweight, qzeros (zero - 1),\n"
              "              scales (fp16), g_idx per linear, quantization_config in config.json; matrices\n"
              "              whose bits or group size differ from the most common get a `dynamic` override.\n"
              "              Needs one bit-width per matrix (2, 3, 4 or 8) and integer zero points: runs with\n"
              "              per-column bits (MG-PTQ) or HQQ zeros (HQQ, MXQ) are refused.\n"
              "  mpq-packed  This workbench's packed format: per-column bit-widths kept, columns of equal\n"
              "              width stored together and bit-packed densely, exact fp32 scales and zeros; the\n"
              "              unquantized tensors stay in the base model, which the export references.\n"
              "              `mpq eval DIR` and the GUI read it back.\n"
              "  gguf        One GGUF v3 file for llama.cpp (--out FILE.gguf): llama.cpp tensor names and\n"
              "              metadata, the tokenizer vocabulary, q/k rows in llama.cpp's rotary order. Matrices\n"
              "              of a `--method gguf` / `gguf-mxq` run keep their llama.cpp type (re-quantized from\n"
              "              the base model, checked against the run); other tensors are written in --dtype\n"
              "              (fp16 or fp32), norms in fp32 (docs/gguf.md).\n"
              "\n"
              "The export is written to OUT.partial and renamed to OUT when complete; a failure or Ctrl-C\n"
              "leaves nothing under OUT. Progress goes to stderr.");
    args.positional("RUN", "result folder, SESSION#RUN or an mpq-packed export");
    args.option("format", "F", "hf, gptq, mpq-packed or gguf", "hf");
    args.option("out", "DIR", "output folder (must not exist or be empty, unless --force); gguf: the output file");
    args.option("dtype", "T", "hf/gptq/gguf: precision of the dense tensors, fp16, bf16 or fp32 (gguf: fp16 or fp32)", "fp16");
    args.option("shard-size", "MB", "hf/gptq: largest weight shard in MiB", "2048");
    args.flag("force", "replace OUT if it exists and is not empty");
    args.flag("json", "print one JSON object on stdout (out, format, files, bytes, ...)");
    if (!args.parse(argv))
        return 0;

    ExportParams p;
    p.input = args.get("RUN");
    if (!args.has("out"))
        throw UsageError("--out DIR is required");
    p.outDir = args.get("out");
    try {
        p.format = parseExportFormat(args.get("format"));
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    p.dtype = args.get("dtype");
    if (p.dtype != "fp16" && p.dtype != "bf16" && p.dtype != "fp32")
        throw UsageError("--dtype must be fp16, bf16 or fp32, not \"" + p.dtype + "\"");
    const int64_t shardMb = intIn(args, "shard-size", 1, 1 << 24);
    p.maxShardBytes = shardMb << 20;
    p.force = args.has("force");

    JobContext ctx;
    attachToTerminal(ctx);
    const ExportReport r = exportRun(p, ctx);
    endProgressLine();
    if (args.has("json")) {
        std::cout << withMemory(nlohmann::json{{"out", r.outDir},
                                    {"format", r.format},
                                    {"base_model", r.baseModel},
                                    {"quantized_matrices", r.quantizedMatrices},
                                    {"tensors", r.tensors},
                                    {"bytes", r.bytes},
                                    {"files", r.files},
                                    {"seconds", r.seconds},
                                    {"warnings", r.warnings}})
                         .dump()
                  << std::endl;
    } else {
        std::printf("%s export: %s (%lld quantized matrices, %lld tensors, %.1f MiB in %zu files, %.1fs)\n",
                    r.format.c_str(), r.outDir.c_str(), (long long)r.quantizedMatrices, (long long)r.tensors,
                    double(r.bytes) / (1 << 20), r.files.size(), r.seconds);
    }
    return 0;
}

} // namespace mpq::cli
