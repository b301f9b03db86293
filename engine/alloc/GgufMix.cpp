// GGUF type mixes: costs of every llama.cpp type per matrix, MXQ's program over them, and
// llama.cpp's fixed presets for comparison (docs/gguf.md).
#include "alloc/GgufMix.h"

#include "alloc/detail/FpHessians.h"
#include "alloc/mxq/detail/MxqCosts.h"
#include "core/Device.h"
#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "core/detail/TorchDevice.h"
#include "eval/ModelSampler.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "quant/detail/GgmlWeight.h"

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>

namespace mpq {

using detail::jsonInt;
using detail::jsonIntOr;
using detail::jsonInts;
using detail::jsonValue;

using ggml::Type;

std::vector<Type> GgufCostParams::defaultTypes()
{
    return {Type::Q2_K, Type::Q3_K, Type::Q4_0, Type::Q4_1, Type::Q4_K, Type::Q5_0,
            Type::Q5_1, Type::Q5_K, Type::Q6_K, Type::Q8_0, Type::F16};
}

double ggufStorageBits(int64_t rows, int64_t cols, Type t)
{
    return 8.0 * double(rows) * double(ggml::rowBytes(t, cols));
}

GgufCostTable computeGgufCosts(const GgufCostParams& params, JobContext& ctx)
{
    const auto t0 = std::chrono::steady_clock::now();
    if (params.costKind != "fnorm" && params.costKind != "hessian")
        throw Error("GGUF costs: unknown cost \"" + params.costKind + "\" (fnorm or hessian)");
    if (params.types.empty())
        throw Error("GGUF costs: no candidate types");
    checkDevice(params.device);
    const ModelSource source = ModelSource::open(params.model, params.tokenizer);
    const ModelConfig& cfg = source.config();
    const at::Device device = detail::torchDevice(params.device);
    c10::InferenceMode guard;

    std::unique_ptr<detail::FpHessianPass> pass;
    CalibrationSet calib;
    if (params.costKind == "hessian") {
        calib = modelCalibration(source, params.calibration, params.device, ctx);
        const at::ScalarType act = device.is_cuda() ? at::kHalf : at::kFloat;
        const int64_t batch = params.batchSize > 0 ? params.batchSize : (device.is_cuda() ? 16 : 4);
        pass = std::make_unique<detail::FpHessianPass>(source, calib.windows, device, act, batch);
    }

    GgufCostTable table;
    table.model = source.path();
    table.costKind = params.costKind;
    table.types = params.types;
    table.nHeads = cfg.numHeads;
    table.nKvHeads = cfg.numKvHeads;
    table.nExperts = cfg.moe.numExperts;
    int64_t total = 0;
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer)
        total += int64_t(llama::layerLinears(cfg, layer).size());
    ctx.start("gguf costs");
    int64_t done = 0;
    for (int64_t layer = 0; layer < cfg.numLayers; ++layer) {
        for (const llama::LinearSpec& s : llama::layerLinears(cfg, layer)) {
            ctx.checkCancelled();
            GgufCostTable::Matrix m;
            m.tensor = s.tensor;
            m.layer = layer;
            m.linear = s.name;
            ctx.report(done, total, "matrices", m.tensor);
            const at::Tensor W = detail::loadTensor(source, m.tensor, at::kFloat, at::kCPU).contiguous();
            m.rows = W.size(0);
            m.cols = W.size(1);
            at::Tensor H;
            if (pass) {
                H = (*pass)(layer, s);
                const at::Tensor d = H.diagonal().to(at::kFloat).to(at::kCPU).contiguous();
                m.importance.assign(d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
                H = H.to(at::kFloat).to(at::kCPU);
            }
            for (Type t : params.types) {
                if (!ggml::fitsRow(t, m.cols) || !params.measure) {
                    m.cost.push_back(-1);
                    continue;
                }
                const detail::GgmlQuantized q = detail::ggmlQuantize(W, t, m.importance);
                m.cost.push_back(H.defined() ? detail::hessianCost(W, q.dequant, H)
                                             : detail::frobeniusCost(W, q.dequant));
            }
            table.matrices.push_back(std::move(m));
            ++done;
        }
    }
    ctx.report(total, total, "matrices", "");
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
}

MatrixPlan ggmlMatrixPlan(const GgufCostTable::Matrix& m, Type type, double cost)
{
    MatrixPlan p;
    p.tensor = m.tensor;
    p.layer = m.layer;
    p.linear = m.linear;
    p.rows = m.rows;
    p.cols = m.cols;
    p.columnBits.assign(size_t(m.cols), uint8_t(ggml::info(type).codeBits));
    p.groupSize = ggml::info(type).subBlock;
    p.quantizer = "ggml";
    p.predictedCost = cost;
    p.storageBits = ggufStorageBits(m.rows, m.cols, type);
    nlohmann::json d;
    d["ggml_type"] = ggml::typeName(type);
    if (!m.importance.empty())
        d["importance"] = m.importance;
    p.diagnostics = d.dump();
    return p;
}

GgmlMatrixSpec ggmlSpecOf(const MatrixPlan& plan)
{
    GgmlMatrixSpec s;
    try {
        const nlohmann::json d = nlohmann::json::parse(plan.diagnostics);
        const auto t = ggml::typeFromName(d.at("ggml_type").get<std::string>());
        if (!t)
            throw Error("matrix " + plan.tensor + ": unknown ggml type \"" + d.at("ggml_type").get<std::string>() + "\"");
        s.type = *t;
        if (d.contains("importance"))
            s.importance = d["importance"].get<std::vector<float>>();
    } catch (const nlohmann::json::exception& e) {
        throw Error("matrix " + plan.tensor + ": the plan's ggml settings are missing or malformed (" + e.what() + ")");
    }
    if (!s.importance.empty() && int64_t(s.importance.size()) != plan.cols)
        throw Error("matrix " + plan.tensor + ": the plan's importance has " + std::to_string(s.importance.size()) +
                    " values for " + std::to_string(plan.cols) + " columns");
    if (s.type == Type::F16 || s.type == Type::F32 || !ggml::fitsRow(s.type, plan.cols))
        throw Error("matrix " + plan.tensor + ": type " + ggml::typeName(s.type) + " cannot be a quantized matrix of " +
                    std::to_string(plan.cols) + " columns");
    return s;
}

namespace {

/// "experts.3.w2" → "down_proj", "shared_expert.up_proj" → "up_proj", "q_proj" → "q_proj".
std::string baseRole(const std::string& linear)
{
    std::string r = linear.substr(linear.rfind('.') + 1);
    if (r == "w1")
        return "gate_proj";
    if (r == "w3")
        return "up_proj";
    if (r == "w2")
        return "down_proj";
    return r;
}

bool isRoutedExpert(const std::string& linear) { return linear.rfind("experts.", 0) == 0; }

} // namespace

std::string ggufStackKey(const GgufCostTable::Matrix& m)
{
    if (isRoutedExpert(m.linear))
        return std::to_string(m.layer) + ":experts:" + baseRole(m.linear);
    return m.tensor;
}

namespace {

/// The plan of a type per matrix; F16 matrices are left out of the plan (they stay unquantized
/// in the run and the export writes them as F16).
AllocationPlan planOf(const GgufCostTable& table, const std::vector<Type>& chosen, const std::string& method)
{
    AllocationPlan plan;
    plan.method = method;
    for (size_t i = 0; i < table.matrices.size(); ++i) {
        if (chosen[i] == Type::F16 || chosen[i] == Type::F32)
            continue;
        size_t k = 0;
        while (k < table.types.size() && table.types[k] != chosen[i])
            ++k;
        const double cost = k < table.types.size() ? table.matrices[i].cost[k] : -1;
        plan.matrices.push_back(ggmlMatrixPlan(table.matrices[i], chosen[i], cost));
    }
    return plan;
}

} // namespace

AllocationPlan ggufMixPlan(const GgufCostTable& table, const MxqBudget& budget, const MxqSolveOptions& options,
                           JobContext* ctx, MxqSolution* solution)
{
    if (table.matrices.empty() || table.types.empty())
        throw Error("GGUF mix: the cost table is empty");
    // MXQ's solver works on a table of configurations. Each ggml type becomes one configuration;
    // MxqConfig's (bits, group) pair only names it here (group = 1000 + ggml type id keeps the
    // keys apart). A type a matrix cannot hold gets its F16 storage plus one bit and a cost above
    // every other, so it is dominated and dropped before the solve.
    // One program variable set per stack (a lone matrix is a stack of one).
    std::vector<std::vector<size_t>> stacks;
    {
        std::map<std::string, size_t> stackOf;
        for (size_t i = 0; i < table.matrices.size(); ++i) {
            const std::string key = ggufStackKey(table.matrices[i]);
            const auto it = stackOf.find(key);
            if (it == stackOf.end()) {
                stackOf[key] = stacks.size();
                stacks.push_back({i});
            } else {
                stacks[it->second].push_back(i);
            }
        }
    }
    MxqCostTable mt;
    mt.model = table.model;
    mt.costKind = table.costKind;
    for (Type t : table.types)
        mt.configs.push_back({std::min(8, ggml::info(t).codeBits), 1000 + int64_t(t)});
    double maxCost = 0;
    for (const auto& m : table.matrices)
        for (double c : m.cost)
            maxCost = std::max(maxCost, c);
    maxCost *= double(table.matrices.size()); // above any stack's summed cost
    for (const auto& stack : stacks) {
        const GgufCostTable::Matrix& m = table.matrices[stack.front()];
        MxqMatrixCosts mc;
        mc.tensor = m.tensor;
        mc.layer = m.layer;
        mc.linear = m.linear;
        mc.rows = m.rows * int64_t(stack.size());
        mc.cols = m.cols;
        bool any = false;
        for (size_t k = 0; k < table.types.size(); ++k) {
            double cost = 0;
            bool fits = true;
            for (size_t i : stack) {
                const auto& x = table.matrices[i];
                fits = fits && x.cost[k] >= 0 && x.cols == m.cols && x.rows == m.rows;
                cost += x.cost[k];
            }
            if (fits) {
                mc.cost.push_back(cost);
                mc.storageBits.push_back(ggufStorageBits(mc.rows, m.cols, table.types[k]));
                any = true;
            } else {
                mc.cost.push_back(2 * maxCost + 1);
                mc.storageBits.push_back(16.0 * double(mc.rows * m.cols) + 1);
            }
        }
        if (!any)
            throw Error("GGUF mix: no candidate type fits " + m.tensor + " (" + std::to_string(m.cols) +
                        " columns); add F16 to the types");
        mt.matrices.push_back(std::move(mc));
    }
    MxqSolution s = solveMxq(mt, budget, options, ctx);
    if (solution)
        *solution = s;
    if (!s.hasSolution())
        throw Error("GGUF mix: " + s.message);
    std::vector<Type> chosen(table.matrices.size(), Type::F16);
    for (size_t g = 0; g < stacks.size(); ++g) {
        const size_t k = size_t(s.choice[g]);
        for (size_t i : stacks[g]) {
            if (table.matrices[i].cost[k] < 0)
                throw Error("GGUF mix: the solver chose a type that does not fit " + table.matrices[i].tensor);
            chosen[i] = table.types[k];
        }
    }
    return planOf(table, chosen, "gguf-mxq");
}

std::vector<std::string> ggufPresetNames()
{
    return {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S",
            "Q5_K_M", "Q6_K", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"};
}

AllocationPlan ggufPresetPlan(const GgufCostTable& table, const std::string& presetName)
{
    std::string preset;
    for (char c : presetName)
        preset += char(std::toupper(static_cast<unsigned char>(c)));
    const auto names = ggufPresetNames();
    if (std::find(names.begin(), names.end(), preset) == names.end()) {
        std::string list;
        for (const auto& n : names)
            list += (list.empty() ? "" : ", ") + n;
        throw Error("unknown llama.cpp preset \"" + presetName + "\" (" + list + ")");
    }
    // The preset's default type (llama.cpp's ftype → base type).
    Type base = Type::Q4_K;
    if (preset == "Q2_K")
        base = Type::Q2_K;
    else if (preset.rfind("Q3_K", 0) == 0)
        base = Type::Q3_K;
    else if (preset.rfind("Q4_K", 0) == 0)
        base = Type::Q4_K;
    else if (preset.rfind("Q5_K", 0) == 0)
        base = Type::Q5_K;
    else
        base = *ggml::typeFromName(preset);
    const bool imatrix = table.costKind == "hessian";
    const int64_t nGqa = table.nKvHeads > 0 ? table.nHeads / table.nKvHeads : 1;

    int64_t nLayers = 0;
    for (const auto& m : table.matrices)
        nLayers = std::max(nLayers, m.layer + 1);
    // llama.cpp's ffn_down rules take n = the number of ffn_down tensors when the model has
    // experts (a stack counts once, a shared expert's too) and the layer from the name.
    int64_t nDown = nLayers;
    if (table.nExperts > 1) {
        std::map<std::string, int> downs;
        for (const auto& m : table.matrices)
            if (baseRole(m.linear) == "down_proj")
                downs[ggufStackKey(m)] = 1;
        nDown = int64_t(downs.size());
    }
    const bool eightExperts = table.nExperts == 8;
    // llama.cpp counts attn_v and ffn_down tensors in file order; for a dense model the count
    // is the layer index.
    auto useMoreBits = [](int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; };

    std::vector<Type> chosen;
    for (const auto& m : table.matrices) {
        Type t = base;
        const int64_t i = m.layer;
        const std::string role = baseRole(m.linear);
        const int64_t n = role == "down_proj" ? nDown : nLayers;
        if (role == "v_proj" && eightExperts) {
            t = Type::Q8_0; // "for the 8-expert model, bumping this to Q8_0 trades just ~128MB"
        } else if (role == "k_proj" && eightExperts) {
            t = Type::Q8_0;
        } else if (role == "o_proj" && eightExperts) {
            if (preset == "Q2_K" || preset == "Q3_K_S" || preset == "Q3_K_M" || preset == "Q4_K_S" || preset == "Q4_K_M")
                t = Type::Q5_K;
        } else if (role == "v_proj") {
            if (preset == "Q2_K")
                t = nGqa >= 4 ? Type::Q4_K : Type::Q3_K;
            else if (preset == "Q3_K_M")
                t = i < 2 ? Type::Q5_K : Type::Q4_K;
            else if (preset == "Q3_K_L")
                t = Type::Q5_K;
            else if ((preset == "Q4_K_M" || preset == "Q5_K_M") && useMoreBits(i, n))
                t = Type::Q6_K;
            else if (preset == "Q4_K_S" && i < 4)
                t = Type::Q5_K;
        } else if (role == "down_proj") {
            if (preset == "Q2_K")
                t = Type::Q3_K;
            else if (preset == "Q3_K_M")
                t = i < n / 16 ? Type::Q5_K : Type::Q4_K; // llama: use_more_bits() || not Falcon
            else if (preset == "Q3_K_L")
                t = Type::Q5_K;
            else if (preset == "Q4_K_M") {
                if (useMoreBits(i, n))
                    t = Type::Q6_K;
            } else if (preset == "Q5_K_M" && useMoreBits(i, n))
                t = Type::Q6_K;
            else if (preset == "Q4_K_S" && i < n / 8)
                t = Type::Q5_K;
            else if ((preset == "Q4_0" || preset == "Q5_0") && imatrix && i < n / 8)
                t = preset == "Q4_0" ? Type::Q4_1 : Type::Q5_1;
        } else if (role == "o_proj") {
            if (preset == "Q2_K")
                t = Type::Q3_K;
            else if (preset == "Q3_K_M")
                t = Type::Q4_K;
            else if (preset == "Q3_K_L")
                t = Type::Q5_K;
        }
        // llama.cpp's fallback for rows its blocks do not divide.
        if (!ggml::fitsRow(t, m.cols)) {
            switch (t) {
            case Type::Q2_K:
            case Type::Q3_K: t = Type::Q4_0; break;
            case Type::Q4_K: t = Type::Q5_0; break;
            case Type::Q5_K: t = Type::Q5_1; break;
            case Type::Q6_K: t = Type::Q8_0; break;
            default: break;
            }
            if (!ggml::fitsRow(t, m.cols))
                t = Type::F16;
        }
        chosen.push_back(t);
    }
    return planOf(table, chosen, "gguf-" + preset);
}

} // namespace mpq

namespace mpq {

std::string ggufCostTableToJson(const GgufCostTable& t)
{
    nlohmann::json j;
    j["format"] = "mpq-gguf-costs";
    j["version"] = 1;
    j["model"] = t.model;
    j["cost_kind"] = t.costKind;
    j["heads"] = t.nHeads;
    j["kv_heads"] = t.nKvHeads;
    j["experts"] = t.nExperts;
    j["seconds"] = t.seconds;
    for (ggml::Type ty : t.types)
        j["types"].push_back(ggml::typeName(ty));
    j["matrices"] = nlohmann::json::array();
    for (const auto& m : t.matrices)
        j["matrices"].push_back({{"tensor", m.tensor}, {"layer", m.layer}, {"linear", m.linear}, {"rows", m.rows},
                                 {"cols", m.cols}, {"cost", m.cost}, {"importance", m.importance}});
    return j.dump();
}

GgufCostTable ggufCostTableFromJson(const std::string& text, const std::string& source)
{
    GgufCostTable t;
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        if (j.value("format", std::string()) != "mpq-gguf-costs" || jsonIntOr<int>(j, "version", 0, source + ": field \"version\"") != 1)
            throw Error(source + ": not an mpq GGUF cost table (version 1)");
        t.model = j.at("model").get<std::string>();
        t.costKind = j.at("cost_kind").get<std::string>();
        t.nHeads = jsonInt<int64_t>(j.at("heads"), source + ": field \"heads\"");
        t.nKvHeads = jsonInt<int64_t>(j.at("kv_heads"), source + ": field \"kv_heads\"");
        t.nExperts = jsonIntOr<int64_t>(j, "experts", 0, source + ": field \"experts\"");
        t.seconds = j.value("seconds", 0.0);
        for (const auto& n : j.at("types")) {
            const auto ty = ggml::typeFromName(n.get<std::string>());
            if (!ty)
                throw Error(source + ": unknown type " + n.get<std::string>());
            t.types.push_back(*ty);
        }
        for (const auto& m : j.at("matrices")) {
            GgufCostTable::Matrix x;
            x.tensor = m.at("tensor").get<std::string>();
            x.layer = jsonInt<int64_t>(m.at("layer"), source + ": field \"layer\"");
            x.linear = m.at("linear").get<std::string>();
            x.rows = jsonInt<int64_t>(m.at("rows"), source + ": field \"rows\"");
            x.cols = jsonInt<int64_t>(m.at("cols"), source + ": field \"cols\"");
            x.cost = m.at("cost").get<std::vector<double>>();
            x.importance = m.at("importance").get<std::vector<float>>();
            if (x.cost.size() != t.types.size())
                throw Error(source + ": " + x.tensor + " needs one cost per type");
            t.matrices.push_back(std::move(x));
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": malformed GGUF cost table (" + e.what() + ")");
    }
    return t;
}

} // namespace mpq
