// Override runs (docs/override.md): the file format, applying it to a plan, and the job.
#include "pipeline/Override.h"

#include "alloc/mxq/MxqProblem.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/Error.h"
#include "core/Files.h"
#include "pipeline/QuantizeParamsJson.h"
#include "pipeline/detail/OverrideStart.h"
#include "session/Session.h"
#include "session/detail/SessionState.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>

namespace mpq {

namespace {

constexpr const char* kFormat = "mpq-override";
constexpr int kVersion = 1;

std::string entryWhere(const std::string& source, size_t index, const OverrideEntry* e)
{
    std::string w = source + ": override " + std::to_string(index + 1);
    if (e && (!e->tensor.empty() || e->layer >= 0))
        w += " (" + e->describe() + ")";
    return w;
}

int64_t integer(const nlohmann::json& v, const std::string& where, const char* key)
{
    if (!v.is_number_integer())
        throw Error(where + ": \"" + key + "\" must be a whole number");
    return v.get<int64_t>();
}

OverrideEntry parseEntry(const nlohmann::json& j, const std::string& source, size_t index)
{
    OverrideEntry e;
    if (!j.is_object())
        throw Error(entryWhere(source, index, nullptr) + ": must be an object like {\"tensor\": …, \"bits\": 4}");
    // What it applies to first, so that later messages can name it.
    if (j.contains("tensor")) {
        if (!j["tensor"].is_string() || j["tensor"].get<std::string>().empty())
            throw Error(entryWhere(source, index, nullptr) + ": \"tensor\" must be a tensor name");
        e.tensor = j["tensor"].get<std::string>();
    }
    if (j.contains("layer")) {
        const int64_t layer = integer(j["layer"], entryWhere(source, index, nullptr), "layer");
        if (layer < 0)
            throw Error(entryWhere(source, index, nullptr) + ": \"layer\" must be 0 or more");
        e.layer = layer;
    }
    if (e.tensor.empty() == (e.layer < 0))
        throw Error(entryWhere(source, index, &e) + ": give exactly one of \"tensor\" and \"layer\"");
    const std::string where = entryWhere(source, index, &e);
    for (const auto& [key, value] : j.items())
        if (key != "tensor" && key != "layer" && key != "columns" && key != "bits" && key != "mxq")
            throw Error(where + ": unknown key \"" + key + "\" (tensor, layer, columns, bits, mxq)");
    if (j.contains("columns")) {
        if (e.tensor.empty())
            throw Error(where + ": \"columns\" needs a \"tensor\"");
        const auto& c = j["columns"];
        if (!c.is_array() || c.size() != 2)
            throw Error(where + ": \"columns\" must be [first, last] (inclusive)");
        e.firstColumn = integer(c[0], where, "columns");
        e.lastColumn = integer(c[1], where, "columns");
        if (e.firstColumn < 0 || e.lastColumn < e.firstColumn)
            throw Error(where + ": \"columns\" [" + std::to_string(e.firstColumn) + ", " +
                        std::to_string(e.lastColumn) + "] is not a range of columns (0 ≤ first ≤ last)");
    }
    if (j.contains("bits") == j.contains("mxq"))
        throw Error(where + ": give exactly one of \"bits\" and \"mxq\"");
    if (j.contains("bits")) {
        const int64_t b = integer(j["bits"], where, "bits");
        if (b < 1 || b > 8)
            throw Error(where + ": \"bits\" " + std::to_string(b) + " is outside 1..8");
        e.bits = int(b);
    } else {
        if (!j["mxq"].is_string())
            throw Error(where + ": \"mxq\" must be a configuration label like \"b4g64\"");
        e.mxq = j["mxq"].get<std::string>();
        std::vector<MxqConfig> c;
        try {
            c = parseMxqConfigs(e.mxq);
        } catch (const Error& x) {
            throw Error(where + ": " + x.what());
        }
        if (c.size() != 1)
            throw Error(where + ": \"mxq\" must name one configuration, like \"b4g64\"");
        if (e.firstColumn >= 0)
            throw Error(where + ": an MXQ configuration applies to a whole matrix, not to \"columns\"");
    }
    return e;
}

/// The matrices of `plan` an entry applies to.
std::vector<MatrixPlan*> targets(AllocationPlan& plan, const OverrideEntry& e, const std::string& where)
{
    std::vector<MatrixPlan*> out;
    for (auto& m : plan.matrices)
        if (e.tensor.empty() ? m.layer == e.layer : m.tensor == e.tensor)
            out.push_back(&m);
    if (out.empty())
        throw Error(where + (e.tensor.empty() ? ": the run has no decoder layer " + std::to_string(e.layer)
                                              : ": the run has no matrix named " + e.tensor));
    return out;
}

/// The plan a stored run applied: every stored matrix with its per-column widths.
AllocationPlan storedPlan(const session::Session& s, const session::RunInfo& run)
{
    AllocationPlan plan;
    plan.method = "override";
    for (const auto& summary : s.matrices(run.name)) {
        const session::MatrixDetail d = s.matrix(run.name, summary.tensor);
        MatrixPlan m;
        m.tensor = summary.tensor;
        m.layer = summary.layer;
        m.linear = summary.linear;
        m.rows = summary.rows;
        m.cols = summary.cols;
        m.columnBits = d.columnBits;
        m.groupSize = summary.groupSize;
        m.quantizer = summary.quantizer;
        m.predictedCost = summary.predictedCost;
        m.storageBits = summary.storageBits;
        plan.matrices.push_back(std::move(m));
    }
    return plan;
}

bool samePlan(const MatrixPlan& a, const MatrixPlan& b)
{
    return a.columnBits == b.columnBits && a.groupSize == b.groupSize && a.quantizer == b.quantizer;
}

/// MXQ: re-solves the base's program with the pinned matrices fixed to their configuration.
/// Returns a note for the record.
std::string resolveMxq(AllocationPlan& plan, const session::Session& s, const std::string& base,
                       const SolverRecord& solver, const std::set<std::string>& pinned, const std::string& source)
{
    const auto names = s.mxqCostTableNames();
    if (std::find(names.begin(), names.end(), base) == names.end())
        return "not re-solved: the session stores no cost table for " + base;
    MxqCostTable table = s.mxqCostTable(base);
    if (!solver.budget)
        return "not re-solved: run " + base + " records no budget";
    const MxqBudget budget = *solver.budget;
    // A pinned matrix keeps only its configuration: every other one gets a cost no solution
    // within the budget can prefer (checked below).
    constexpr double kExcluded = 1e30;
    for (auto& m : table.matrices) {
        if (!pinned.count(m.tensor))
            continue;
        const MatrixPlan* p = plan.find(m.tensor);
        bool found = false;
        for (size_t k = 0; k < table.configs.size(); ++k) {
            const bool mine = p && table.configs[k].groupSize == p->groupSize && table.configs[k].bits == p->uniformBits();
            found = found || mine;
            if (!mine)
                m.cost[k] = kExcluded;
        }
        if (!found)
            throw Error(source + ": the pin of " + m.tensor + " is not one of the cost table's configurations");
    }
    const MxqSolution sol = solveMxq(table, budget);
    if (!sol.hasSolution() || sol.objective >= kExcluded)
        throw Error(source + ": the pinned configurations do not fit run " + base + "'s budget (" + budget.describe() +
                    ")" + (sol.message.empty() ? "" : ": " + sol.message));
    AllocationPlan solved = toPlan(s.mxqCostTable(base), sol); // the true costs
    for (auto& m : plan.matrices)
        if (const MatrixPlan* n = solved.find(m.tensor)) {
            m.columnBits = n->columnBits;
            m.groupSize = n->groupSize;
            m.predictedCost = n->predictedCost;
            m.storageBits = n->storageBits;
        }
    return "re-solved at " + budget.describe() + ": " + std::string(mxqStatusName(sol.status)) + ", " +
           std::to_string(sol.bitsPerParameter) + " bits/parameter";
}

} // namespace

std::string OverrideEntry::describe() const
{
    std::string d = tensor.empty() ? "layer " + std::to_string(layer) : "tensor " + tensor;
    if (firstColumn >= 0)
        d += " columns " + std::to_string(firstColumn) + "-" + std::to_string(lastColumn);
    return d;
}

OverrideSpec OverrideSpec::fromJson(const std::string& text, const std::string& source)
{
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        throw Error(source + ": not valid JSON");
    if (!j.is_object())
        throw Error(source + ": must be a JSON object with \"format\": \"mpq-override\"");
    if (j.value("format", std::string()) != kFormat)
        throw Error(source + ": \"format\" must be \"" + kFormat + "\"");
    if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != kVersion)
        throw Error(source + ": \"version\" must be " + std::to_string(kVersion));
    for (const auto& [key, value] : j.items())
        if (key != "format" && key != "version" && key != "base" && key != "overrides" && key != "comment")
            throw Error(source + ": unknown key \"" + key + "\" (format, version, base, overrides, comment)");
    OverrideSpec spec;
    if (!j.contains("base") || !j["base"].is_string() || j["base"].get<std::string>().empty())
        throw Error(source + ": \"base\" must name the run to start from");
    spec.base = j["base"].get<std::string>();
    if (!j.contains("overrides") || !j["overrides"].is_array() || j["overrides"].empty())
        throw Error(source + ": \"overrides\" must be a non-empty list");
    for (size_t i = 0; i < j["overrides"].size(); ++i)
        spec.entries.push_back(parseEntry(j["overrides"][i], source, i));
    return spec;
}

OverrideSpec OverrideSpec::load(const std::string& path)
{
    if (!files::exists(path))
        throw Error(path + ": no such override file");
    return fromJson(files::readAll(path), path);
}

std::string OverrideSpec::toJson() const
{
    nlohmann::json j;
    j["format"] = kFormat;
    j["version"] = kVersion;
    j["base"] = base;
    j["overrides"] = nlohmann::json::array();
    for (const auto& e : entries) {
        nlohmann::json o;
        if (!e.tensor.empty())
            o["tensor"] = e.tensor;
        else
            o["layer"] = e.layer;
        if (e.firstColumn >= 0)
            o["columns"] = {e.firstColumn, e.lastColumn};
        if (!e.mxq.empty())
            o["mxq"] = e.mxq;
        else
            o["bits"] = e.bits;
        j["overrides"].push_back(o);
    }
    return j.dump();
}

int64_t applyOverrides(AllocationPlan& plan, const OverrideSpec& spec, const std::string& source)
{
    const AllocationPlan before = plan;
    for (size_t i = 0; i < spec.entries.size(); ++i) {
        const OverrideEntry& e = spec.entries[i];
        const std::string where = entryWhere(source, i, &e);
        for (MatrixPlan* m : targets(plan, e, where)) {
            const bool whole = m->quantizer == "hqq" || m->quantizer == "ggml";
            if (!e.mxq.empty()) {
                if (m->quantizer != "hqq")
                    throw Error(where + ": pins an MXQ configuration, but " + m->tensor + " is quantized with " +
                                m->quantizer + " (pin MXQ configurations in MXQ runs; set \"bits\" otherwise)");
                const MxqConfig c = parseMxqConfigs(e.mxq).front();
                m->columnBits.assign(size_t(m->cols), uint8_t(c.bits));
                m->groupSize = c.groupSize;
                continue;
            }
            if (m->quantizer == "ggml")
                throw Error(where + ": " + m->tensor + " holds a llama.cpp type; GGUF runs cannot be overridden");
            if (e.firstColumn >= 0) {
                if (whole)
                    throw Error(where + ": " + m->tensor + " is quantized whole (" + m->quantizer +
                                "): no column ranges, set the whole matrix");
                if (e.lastColumn >= m->cols)
                    throw Error(where + ": " + m->tensor + " has " + std::to_string(m->cols) + " columns; column " +
                                std::to_string(e.lastColumn) + " is not one of them");
                std::fill(m->columnBits.begin() + e.firstColumn, m->columnBits.begin() + e.lastColumn + 1,
                          uint8_t(e.bits));
            } else {
                std::fill(m->columnBits.begin(), m->columnBits.end(), uint8_t(e.bits));
            }
        }
    }
    int64_t first = -1;
    for (size_t i = 0; i < plan.matrices.size(); ++i)
        if (!samePlan(plan.matrices[i], before.matrices[i]) && (first < 0 || plan.matrices[i].layer < first))
            first = plan.matrices[i].layer;
    return first;
}

QuantizeReport quantizeOverride(const OverrideParams& params, JobContext& ctx)
{
    const std::string source = params.source.empty() ? "override" : params.source;
    if (params.session.empty())
        throw Error(source + ": an override needs the session that holds run " + params.spec.base);
    const session::Session s = session::Session::open(params.session);
    session::RunInfo base;
    try {
        base = s.run(params.spec.base);
    } catch (const Error& e) {
        throw Error(source + ": \"base\": " + e.what());
    }
    if (base.status != session::RunStatus::Complete)
        throw Error(source + ": run " + base.name + " is " + session::statusName(base.status) +
                    "; an override starts from a complete run");
    const AllocationPlan stored = storedPlan(s, base);
    AllocationPlan plan = stored;
    applyOverrides(plan, params.spec, source);

    SolverRecord extra;
    std::string note;
    detail::OverrideStart start;
    start.base = base.name;
    {
        std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
        const auto state = session::detail::loadSession(params.session);
        const auto& h = state->run(base.name).header;
        extra = h.solver;
        for (int64_t i = 0; i < h.windows; ++i)
            start.calibration.windows.emplace_back(h.tokens.begin() + long(i * h.length),
                                                   h.tokens.begin() + long((i + 1) * h.length));
        start.calibration.sourcePath = h.calibrationSource;
        start.calibration.description = h.calibrationDescription;
    }
    if (base.method == "mxq") {
        std::set<std::string> pinned;
        for (const auto& e : params.spec.entries)
            for (const auto& m : plan.matrices)
                if (e.tensor.empty() ? m.layer == e.layer : m.tensor == e.tensor)
                    pinned.insert(m.tensor);
        note = resolveMxq(plan, s, base.name, extra, pinned, source);
    }
    int64_t from = -1;
    for (size_t i = 0; i < plan.matrices.size(); ++i)
        if (!samePlan(plan.matrices[i], stored.matrices[i]) && (from < 0 || plan.matrices[i].layer < from))
            from = plan.matrices[i].layer;
    if (from < 0)
        throw Error(source + ": the overrides change nothing in run " + base.name + " (every width is already so)");
    start.fromLayer = from;

    QuantizeParams p = quantizeParamsFromJson(base.settingsJson, params.session + "#" + base.name);
    p.plan = plan;
    p.allocator.clear(); // the widths are fixed now: the base's allocator's and the overrides'
    p.calibTokens.clear();
    p.session = params.session;
    p.runName = params.runName;
    p.out = params.out;
    p.resume = false;
    p.solver = extra;
    if (p.runName.empty()) {
        std::set<std::string> taken;
        for (const auto& r : s.runs())
            taken.insert(r.name);
        for (int n = 1;; ++n) {
            const std::string name = base.name.substr(0, 50) + "-override-" + std::to_string(n);
            if (!taken.count(name)) {
                p.runName = name;
                break;
            }
        }
    }
    nlohmann::json record;
    record["base"] = base.name;
    record["from_layer"] = from;
    record["entries"] = nlohmann::json::parse(params.spec.toJson())["overrides"];
    record["file"] = params.source;
    if (!note.empty())
        record["mxq"] = note;
    int64_t changed = 0;
    for (size_t i = 0; i < plan.matrices.size(); ++i)
        changed += !samePlan(plan.matrices[i], stored.matrices[i]);
    record["matrices_changed"] = changed;
    start.recordJson = record.dump();
    return detail::quantizeModelFrom(p, ctx, &start);
}

} // namespace mpq
