#include "MemoryOptions.h"
#include "AllocatorOptions.h"
#include "Args.h"
#include "Commands.h"
#include "Terminal.h"
#include "Validate.h"

#include "pipeline/QuantizeBench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mpq::cli {

int runBenchQuantize(const std::vector<std::string>& argv)
{
    Args args("bench-quantize",
              "Times the sequential quantization pipeline on a synthetic model generated on the device\n"
              "(random weights and calibration tokens, nothing read from disk): total wall time, the\n"
              "split into Hessian collection / quantization / forward, and peak GPU memory.");
    args.option("preset", "NAME", "model shape: llama-7b (32 layers, hidden 4096, intermediate 11008, 32 "
                                  "heads), llama-70b (80 layers, hidden 8192, intermediate 28672, 64 heads / 8 KV "
                                  "heads, vocab 128256) or tiny", "llama-7b");
    args.option("layers", "N", "override the number of decoder layers (0 = the preset's)", "0");
    args.option("method", "M", "rtn, gptq or mgptq (MG-PTQ's allocator, then GPTQ; allocator options below)",
                "gptq");
    args.option("bits", "B", "bit-width", "4");
    args.option("group-size", "G", "group size (-1 = per channel)", "-1");
    args.flag("act-order", "GPTQ act-order");
    args.option("nsamples", "N", "calibration windows", "128");
    args.option("seqlen", "L", "tokens per window", "2048");
    args.option("device", "D", "cpu, cuda or cuda:N", "cuda");
    args.option("dtype", "T", "activation precision (default fp16 on CUDA, fp32 on CPU)");
    args.option("batch-size", "N", "windows per forward pass (0 = automatic)", "0");
    args.flag("json", "print one JSON object on stdout");
    addAllocatorOptions(args);
    if (!args.parse(argv))
        return 0;

    SyntheticModelSpec spec = SyntheticModelSpec::preset(args.get("preset"));
    if (intIn(args, "layers", 0, 1000) > 0)
        spec.layers = args.getInt("layers");
    QuantizeParams p;
    const std::string method = args.get("method");
    if (method != "rtn" && method != "gptq" && method != "mgptq")
        throw UsageError("--method must be rtn, gptq or mgptq");
    p.method = method;
    p.bits = int(intIn(args, "bits", 1, 8));
    p.groupSize = args.getInt("group-size");
    if (p.groupSize == 0 || p.groupSize < -1)
        throw UsageError("--group-size must be -1 or a positive number of columns, got " + std::to_string(p.groupSize));
    p.actOrder = args.has("act-order");
    p.nsamples = intIn(args, "nsamples", 1, 1000000);
    p.seqlen = intIn(args, "seqlen", 1, 1 << 20);
    p.device = args.get("device");
    checkDeviceOption(p.device);
    if (args.has("dtype"))
        p.dtype = parseDTypeOption(args.get("dtype"));
    p.batchSize = intIn(args, "batch-size", 0, 1000000);
    if (method == "mgptq")
        checkAllocatorOptions(args, method);
    const bool cuda = p.device.rfind("cuda", 0) == 0;
    checkActivationBytes(2.0 * double(p.nsamples) * double(p.seqlen) * double(spec.hidden),
                         p.dtype ? (*p.dtype == DType::F32 ? 4 : 2) : (cuda ? 2 : 4), p.device,
                         "--nsamples " + std::to_string(p.nsamples) + " x --seqlen " + std::to_string(p.seqlen) +
                             " calibration activations (hidden size " + std::to_string(spec.hidden) + ")");

    JobContext ctx;
    attachToTerminal(ctx);
    if (method == "mgptq") {
        MxqCostCache unused;
        applyAllocatorOptions(args, method, nullptr, unused, p, ctx);
    }
    const QuantizeReport r = benchmarkQuantization(spec, p, ctx);
    endProgressLine();
    // Allocation time per matrix, from the allocators' own records in the applied plan.
    nlohmann::json allocation = nlohmann::json::array();
    double allocationSeconds = 0;
    for (const MatrixPlan& m : r.appliedPlan.matrices) {
        if (m.diagnostics.empty())
            continue;
        const auto d = nlohmann::json::parse(m.diagnostics);
        const double sec = d.contains("seconds") ? d["seconds"].value("total", 0.0) : 0.0;
        allocationSeconds += sec;
        allocation.push_back({{"tensor", m.tensor}, {"rows", m.rows}, {"cols", m.cols}, {"seconds", d.value("seconds", nlohmann::json::object())},
                              {"code_bits", d.value("code_bits", 0.0)}, {"cuda_graph", d.value("cuda_graph", false)},
                              {"polish_moves", d.value("polish_moves", int64_t(0))},
                              {"predicted_cost", d.value("predicted_cost", 0.0)}});
        if (d.contains("relax"))
            allocation.back()["relax"] = d["relax"];
        if (d.contains("device_bytes"))
            allocation.back()["device_gib"] = d["device_bytes"].get<double>() / 1073741824.0;
        if (d.contains("cuda_graph_failure"))
            allocation.back()["cuda_graph_failure"] = d["cuda_graph_failure"];
    }
    const double L = double(std::max<size_t>(1, r.layers.size()));
    nlohmann::json j = {{"device", r.deviceName},
                        {"preset", args.get("preset")},
                        {"layers", spec.layers},
                        {"method", method},
                        {"bits", p.bits},
                        {"group_size", p.groupSize},
                        {"act_order", p.actOrder},
                        {"calibration", std::to_string(p.nsamples) + "x" + std::to_string(p.seqlen)},
                        {"seconds", r.seconds},
                        {"split_seconds", {{"hessian", r.hessianSeconds}, {"quantize", r.quantizeSeconds},
                                           {"forward", r.forwardSeconds}, {"load", r.loadSeconds},
                                           {"output", r.outputSeconds}}},
                        {"per_layer_seconds", {{"hessian", r.hessianSeconds / L}, {"quantize", r.quantizeSeconds / L},
                                               {"forward", r.forwardSeconds / L}}},
                        {"peak_device_gib", r.peakDeviceBytes >= 0 ? r.peakDeviceBytes / 1073741824.0 : -1.0},
                        {"avg_bits", r.avgBits},
                        {"avg_bits_with_overhead", r.avgBitsWithOverhead}};
    if (!allocation.empty()) {
        j["allocator"] = p.allocator;
        j["allocation_seconds"] = allocationSeconds;
        j["allocation"] = allocation;
    }
    if (args.has("json")) {
        std::cout << withMemory(j, p.device).dump() << std::endl;
    } else {
        std::printf("%s at %.3f code bits on synthetic %s (%lld layers), %s\n", method.c_str(), r.avgBits,
                    args.get("preset").c_str(), (long long)spec.layers, r.deviceName.c_str());
        std::printf("total %.1f s; per layer: Hessians %.2f s, quantization %.2f s, forward %.2f s\n", r.seconds,
                    r.hessianSeconds / L, r.quantizeSeconds / L, r.forwardSeconds / L);
        if (!allocation.empty())
            std::printf("allocation (%s): %.1f s in all, %.3f s per matrix on average (%zu matrices)\n",
                        p.allocator.c_str(), allocationSeconds, allocationSeconds / double(allocation.size()),
                        allocation.size());
        if (r.peakDeviceBytes >= 0)
            std::printf("peak GPU memory %.2f GiB\n", r.peakDeviceBytes / 1073741824.0);
    }
    return 0;
}

} // namespace mpq::cli
