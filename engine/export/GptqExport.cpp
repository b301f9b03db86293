// "gptq" export: GPTQ v1 checkpoint (AutoGPTQ / GPTQModel layout) with per-module overrides.
#include "export/detail/ExportFolder.h"
#include "export/detail/FormatWriters.h"
#include "export/detail/GptqPacking.h"
#include "export/detail/RunTensors.h"

#include "core/Error.h"
#include "model/detail/WeightLoader.h"

#include <nlohmann/json.hpp>

#include <map>
#include <tuple>

namespace mpq::detail {

namespace {

/// A module's GPTQ settings: what quantization_config (or a `dynamic` override) must say.
struct ModuleConfig {
    int bits;
    int64_t groupSize;
    bool descAct;
    bool sym;
    bool operator<(const ModuleConfig& o) const
    {
        return std::tie(bits, groupSize, descAct, sym) < std::tie(o.bits, o.groupSize, o.descAct, o.sym);
    }
    bool operator==(const ModuleConfig& o) const { return !(*this < o) && !(o < *this); }
};

/// GPTQModel's `dynamic` keys are regular expressions matched (re.match) against module names.
std::string moduleRegex(const std::string& module)
{
    std::string out;
    for (char ch : module) {
        if (ch == '.')
            out += '\\';
        out += ch;
    }
    return out;
}

std::string moduleOf(const std::string& tensor)
{
    return tensor.substr(0, tensor.size() - std::string(".weight").size());
}

} // namespace

void writeGptqExport(const QuantizedRun& run, const ModelSource& source, const ExportParams& params,
                     const std::string& dir, JobContext& ctx, ExportReport& report)
{
    const at::ScalarType dtype = parseExportDtype(params.dtype);
    const AllocationPlan plan = run.plan();
    ShardedWeights weights(dir, params.maxShardBytes);
    const at::Device cpu(at::kCPU);

    std::vector<std::pair<std::string, ModuleConfig>> modules; // quantized linears, in order
    std::map<ModuleConfig, int64_t> weightCount;               // parameters per configuration
    std::vector<std::string> unquantized;                      // linears left dense
    report.quantizedMatrices = visitRunTensors(
        run, source, ctx,
        [&](const std::string& name, const QuantizedWeight* q) {
            if (!q) {
                if (name.find("_proj.weight") != std::string::npos)
                    unquantized.push_back(moduleOf(name));
                weights.add(name, loadTensor(source, name, dtype, cpu));
                return;
            }
            const MatrixPlan* mp = plan.find(name);
            const GptqMatrix m = packGptq(*q, name, mp ? mp->groupSize : -1);
            const std::string module = moduleOf(name);
            weights.add(module + ".qweight", m.qweight);
            weights.add(module + ".qzeros", m.qzeros);
            weights.add(module + ".scales", m.scales);
            weights.add(module + ".g_idx", m.gIdx);
            const ModuleConfig mc{m.bits, m.groupSize, m.descAct, m.sym};
            modules.emplace_back(module, mc);
            weightCount[mc] += q->codes.numel();
        },
        report.warnings);
    if (modules.empty())
        throw Error(run.describe() + ": the run stores no quantized matrices; nothing to export as GPTQ");
    report.tensors = weights.tensors();
    report.files = weights.finish();

    // The most common configuration (by parameters) is the base; other modules get a positive
    // `dynamic` override, dense linears a negative one (GPTQModel then leaves them unquantized).
    ModuleConfig base = weightCount.begin()->first;
    for (const auto& [mc, n] : weightCount)
        if (n > weightCount[base])
            base = mc;
    nlohmann::ordered_json dynamic = nlohmann::ordered_json::object();
    for (const auto& [module, mc] : modules)
        if (!(mc == base))
            dynamic["+:" + moduleRegex(module)] = {
                {"bits", mc.bits}, {"group_size", mc.groupSize}, {"desc_act", mc.descAct}, {"sym", mc.sym}};
    for (const std::string& module : unquantized)
        dynamic["-:" + moduleRegex(module)] = nlohmann::ordered_json::object();

    nlohmann::ordered_json qc;
    qc["quant_method"] = "gptq";
    qc["bits"] = base.bits;
    qc["group_size"] = base.groupSize;
    qc["desc_act"] = base.descAct;
    qc["sym"] = base.sym;
    qc["lm_head"] = false;
    qc["true_sequential"] = true;
    qc["checkpoint_format"] = "gptq";
    if (!dynamic.empty())
        qc["dynamic"] = dynamic;
    qc["meta"] = {{"quantizer", {"mpq-workbench"}}, {"method", run.method()}, {"source_run", run.describe()}};

    writeTextFile(dir, "config.json", exportConfigJson(source, torchDtypeName(dtype), qc.dump()));
    writeTextFile(dir, "quantize_config.json", qc.dump(2) + "\n");
    report.files.push_back("config.json");
    report.files.push_back("quantize_config.json");
    for (const std::string& f : copyTokenizerFiles(source, dir, report.warnings))
        report.files.push_back(f);
}

} // namespace mpq::detail
