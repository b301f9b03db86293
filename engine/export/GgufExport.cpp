// `mpq export RUN --format gguf`: a GGUF v3 file llama.cpp loads (docs/gguf.md).
#include "alloc/GgufMix.h"
#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "export/detail/FormatWriters.h"
#include "export/detail/GgufArch.h"
#include "export/detail/GgufWriter.h"
#include "model/LlamaArch.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/GgmlWeight.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

namespace mpq::detail {

namespace {

std::vector<uint8_t> denseBytes(const at::Tensor& W, ggml::Type t)
{
    const at::Tensor f = W.to(at::kCPU, at::kFloat).contiguous();
    const int64_t cols = f.dim() == 2 ? f.size(1) : f.numel();
    return ggml::quantize(t, f.data_ptr<float>(), f.numel() / cols, cols, nullptr);
}

} // namespace

ExportReport exportGguf(const ExportParams& params, JobContext& ctx)
{
    namespace fs = std::filesystem;
    const auto t0 = std::chrono::steady_clock::now();
    if (params.input.empty())
        throw Error("export: no input run given");
    if (params.outDir.empty())
        throw Error("export: no output file given");
    const std::string out = files::absolute(params.outDir);
    if (files::isDirectory(out))
        throw Error(out + ": is a folder; the GGUF export writes one file (e.g. model.gguf)");
    if (files::exists(out) && !params.force)
        throw SettingError("force", out + ": exists (replacing it needs the force setting)");
    ggml::Type dense = ggml::Type::F16;
    if (params.dtype == "fp32")
        dense = ggml::Type::F32;
    else if (params.dtype != "fp16")
        throw SettingError("dtype", "GGUF export: the dtype of the unquantized tensors must be fp16 or fp32, not \"" +
                                        params.dtype + "\"");

    const auto run = openQuantizedRun(params.input);
    const ModelSource source = ModelSource::open(run->modelPath());
    const ModelConfig& cfg = source.config();
    const GgufFamily& family = ggufFamily(hfModelType(source));
    const AllocationPlan plan = run->plan();
    const std::vector<int64_t> stored = run->layers();
    for (int64_t i = 0; i < cfg.numLayers; ++i)
        for (const llama::LinearSpec& s : llama::layerLinears(cfg, i))
            if (plan.find(s.tensor) &&
                std::find(stored.begin(), stored.end(), i) == stored.end())
                throw Error(run->describe() + ": decoder layer " + std::to_string(i) +
                            " is not stored (an unfinished run cannot be exported)");

    ExportReport report;
    report.format = "gguf";
    report.baseModel = source.path();
    ctx.start("export gguf");

    GgufWriter w;
    w.setString("general.architecture", family.arch);
    w.setString("general.name", fs::path(source.path()).filename().replace_extension().string());
    w.setU32("general.quantization_version", 2);
    w.setAlignment(32);
    for (const std::string& warning : checkGgufSupport(family, cfg))
        report.warnings.push_back(warning);
    writeArchMetadata(w, family, cfg);
    const std::string tokWarning = writeTokenizerMetadata(w, family, source);
    if (!tokWarning.empty())
        report.warnings.push_back(tokWarning);

    // The run's matrices, one decoder layer at a time, as the writer asks for them in order.
    int64_t cachedLayer = -1;
    QuantizedLayer cached;
    auto runMatrix = [&](int64_t layer, const std::string& name) -> at::Tensor {
        if (layer != cachedLayer) {
            cached = run->layer(layer);
            cachedLayer = layer;
        }
        for (const auto& [n, q] : cached)
            if (n == name)
                return q.dequant;
        throw Error(run->describe() + ": matrix " + name + " is in the plan but not stored");
    };

    // llama3-type rope scaling: llama.cpp divides each rotary frequency by rope_freqs.
    const std::vector<float> ropeFactors = llama3RopeFactors(cfg);
    if (!ropeFactors.empty()) {
        w.addTensor("rope_freqs.weight", {int64_t(ropeFactors.size())}, ggml::Type::F32, [ropeFactors]() {
            std::vector<uint8_t> b(ropeFactors.size() * sizeof(float));
            std::memcpy(b.data(), ropeFactors.data(), b.size());
            return b;
        });
        ++report.tensors;
    }

    // One GGUF tensor per Hugging Face tensor, except the routed experts: llama.cpp stacks the E
    // experts' [rows, cols] matrices of a layer and role into one [E, rows, cols] tensor
    // (ne = {cols, rows, E}) of one type, expert e's rows at e·rows.
    struct Part {
        std::string name;
        const MatrixPlan* plan = nullptr;
    };
    struct Entry {
        std::string name;
        std::vector<int64_t> shape; ///< of one part, Hugging Face order
        std::vector<Part> parts;
        int64_t layer = -1;
        int64_t permuteHeads = 0;
        bool f32 = false;          ///< norms, biases, routers: F32 as llama.cpp's converter writes them
    };
    std::vector<Entry> entries;
    std::map<std::string, size_t> entryOf;
    for (const auto& e : llama::expectedTensors(cfg)) {
        const std::string gname = ggufTensorName(e.name);
        const auto it = entryOf.find(gname);
        if (it != entryOf.end()) {
            Entry& x = entries[it->second];
            if (x.shape != e.shape)
                throw Error("GGUF export: the experts of " + gname + " differ in shape");
            x.parts.push_back({e.name, plan.find(e.name)});
            continue;
        }
        Entry x;
        x.name = gname;
        x.shape = e.shape;
        x.parts.push_back({e.name, plan.find(e.name)});
        std::sscanf(e.name.c_str(), "model.layers.%lld.", reinterpret_cast<long long*>(&x.layer));
        const bool isQ = e.name.find(".q_proj.") != std::string::npos;
        const bool isK = e.name.find(".k_proj.") != std::string::npos;
        x.permuteHeads = family.permuteQK ? (isQ ? cfg.numHeads : isK ? cfg.numKvHeads : 0) : 0;
        x.f32 = e.shape.size() == 1 || gname.find(".ffn_gate_inp") != std::string::npos;
        entryOf[gname] = entries.size();
        entries.push_back(std::move(x));
    }

    for (const Entry& x : entries) {
        // Every part of a tensor must be stored alike: one ggml type, or all dense.
        auto kindOf = [](const Part& p) -> std::string {
            if (!p.plan)
                return "unquantized";
            if (p.plan->quantizer != "ggml")
                return "dense " + p.plan->quantizer;
            return ggml::typeName(ggmlSpecOf(*p.plan).type);
        };
        const std::string kind = kindOf(x.parts.front());
        for (const Part& p : x.parts)
            if (kindOf(p) != kind)
                throw Error("GGUF export: llama.cpp holds the experts of " + x.name + " in one tensor of one type, but the run has " +
                            x.parts.front().name + " " + kind + " and " + p.name + " " + kindOf(p) +
                            " (a gguf-mxq mix chooses one type per stacked tensor; docs/gguf.md)");
        std::vector<int64_t> ne(x.shape.rbegin(), x.shape.rend()); // ggml order: contiguous dimension first
        if (x.parts.size() > 1)
            ne.push_back(int64_t(x.parts.size()));
        const MatrixPlan* mp0 = x.parts.front().plan;
        ggml::Type type = x.f32 ? ggml::Type::F32 : dense;
        std::vector<GgmlMatrixSpec> specs;
        for (const Part& p : x.parts) {
            if (p.plan && p.plan->quantizer == "ggml") {
                specs.push_back(ggmlSpecOf(*p.plan));
                type = specs.back().type;
            }
            if (p.plan)
                ++report.quantizedMatrices; // another quantizer's Ŵ is stored densely
        }
        const Entry* xp = &x;
        w.addTensor(x.name, ne, type, [&, xp, type, specs, mp0]() {
            c10::InferenceMode guard;
            std::vector<uint8_t> all;
            for (size_t k = 0; k < xp->parts.size(); ++k) {
                const Part& part = xp->parts[k];
                const std::string& name = part.name;
                const int64_t rows = xp->shape[0];
                std::vector<uint8_t> bytes;
                if (mp0 && mp0->quantizer == "ggml") {
                    const at::Tensor W = loadTensor(source, name, at::kFloat, at::kCPU);
                    const GgmlQuantized q = ggmlQuantize(W, type, specs[k].importance);
                    // The run must hold exactly these weights (same base model, same quantizer).
                    const at::Tensor stored = runMatrix(xp->layer, name).to(at::kFloat);
                    const double scale = q.dequant.abs().max().item<double>();
                    const double diff = (stored - q.dequant).abs().max().item<double>();
                    if (!(diff <= 1e-5 * scale + 1e-12))
                        throw Error(run->describe() + ": " + name + " differs from a fresh " + ggml::typeName(type) +
                                    " quantization of the base model (max |ΔŴ| " + std::to_string(diff) +
                                    "); was the base model changed?");
                    bytes = q.bytes;
                } else if (mp0) {
                    bytes = denseBytes(runMatrix(xp->layer, name), type);
                } else {
                    bytes = denseBytes(loadTensor(source, name, at::kFloat, at::kCPU), type);
                }
                if (xp->permuteHeads > 0)
                    bytes = permuteRopeRows(bytes, rows, int64_t(bytes.size()) / rows, xp->permuteHeads);
                all.insert(all.end(), bytes.begin(), bytes.end());
            }
            return all;
        });
        ++report.tensors;
    }

    const std::string partial = out + ".partial";
    w.write(partial, [&](size_t i, size_t n) {
        ctx.checkCancelled();
        ctx.report(int64_t(i), int64_t(n), "tensors", "");
    });
    std::error_code ec;
    fs::rename(partial, out, ec);
    if (ec) {
        fs::remove(partial, ec);
        throw Error(out + ": cannot move the finished file into place");
    }
    report.outDir = out;
    report.files = {fs::path(out).filename().string()};
    report.bytes = int64_t(fs::file_size(out));
    for (const std::string& warning : report.warnings)
        ctx.warn(warning);
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

} // namespace mpq::detail
