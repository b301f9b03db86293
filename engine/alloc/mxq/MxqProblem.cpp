#include "alloc/mxq/MxqProblem.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "core/Files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mpq {

using detail::jsonInt;
using detail::jsonIntOr;
using detail::jsonInts;
using detail::jsonValue;

namespace {

constexpr const char* kFormat = "mpq-mxq-costs";
constexpr int kVersion = 1;

std::vector<std::string> split(const std::string& text, char sep)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, sep)) {
        const auto b = part.find_first_not_of(" \t");
        const auto e = part.find_last_not_of(" \t");
        out.push_back(b == std::string::npos ? std::string() : part.substr(b, e - b + 1));
    }
    return out;
}

int64_t parseInt(const std::string& s, const std::string& what)
{
    try {
        size_t used = 0;
        const long long v = std::stoll(s, &used);
        if (used == s.size())
            return v;
    } catch (const std::exception&) {
    }
    throw Error("MXQ configurations: \"" + s + "\" is not a valid " + what);
}

void checkConfig(const MxqConfig& c, const std::string& where)
{
    if (c.bits < 1 || c.bits > 8)
        throw Error(where + ": bit-width " + std::to_string(c.bits) + " is outside 1..8");
    if (c.groupSize <= 0)
        throw Error(where + ": group size " + std::to_string(c.groupSize) + " must be positive");
}

} // namespace

std::string MxqConfig::label() const
{
    return "b" + std::to_string(bits) + "g" + std::to_string(groupSize);
}

double MxqConfig::bitsPerWeight() const
{
    const double g = double(groupSize);
    return double(bits) + 2.0 * 8.0 / g + 32.0 / (128.0 * g);
}

std::vector<MxqConfig> defaultMxqConfigs()
{
    std::vector<MxqConfig> out;
    for (int b : {2, 3, 4, 8})
        for (int64_t g : {32, 64, 128})
            out.push_back({b, g});
    return out;
}

std::vector<MxqConfig> parseMxqConfigs(const std::string& text)
{
    std::vector<MxqConfig> out;
    auto add = [&](const MxqConfig& c) {
        checkConfig(c, "MXQ configuration " + c.label());
        for (const auto& o : out)
            if (o == c)
                throw Error("MXQ configurations: " + c.label() + " is listed twice");
        out.push_back(c);
    };
    const auto x = text.find('x');
    if (x != std::string::npos && text.find('b') == std::string::npos) {
        // "2,3,4,8x32,64,128": every bit-width with every group size
        const auto bits = split(text.substr(0, x), ',');
        const auto groups = split(text.substr(x + 1), ',');
        for (const auto& b : bits)
            for (const auto& g : groups)
                add({int(parseInt(b, "bit-width")), parseInt(g, "group size")});
    } else {
        // "b4g64,b3g128"
        for (const auto& item : split(text, ',')) {
            const auto gpos = item.find('g');
            if (item.size() < 4 || item[0] != 'b' || gpos == std::string::npos)
                throw Error("MXQ configurations: \"" + item +
                            "\" is neither BITSxGROUPS (2,3,4x32,64) nor a label like b4g64");
            add({int(parseInt(item.substr(1, gpos - 1), "bit-width")),
                 parseInt(item.substr(gpos + 1), "group size")});
        }
    }
    if (out.empty())
        throw Error("MXQ configurations: \"" + text + "\" names none");
    return out;
}

double mxqStorageBits(int64_t rows, int64_t cols, const MxqConfig& c)
{
    const int64_t groupsPerRow = (cols + c.groupSize - 1) / c.groupSize;
    const int64_t groups = rows * groupsPerRow;
    const int64_t metaGroups = (groups + 127) / 128;
    return double(rows) * double(cols) * double(c.bits) + double(groups) * 16.0 +
           double(metaGroups) * 32.0;
}

int64_t MxqCostTable::totalParameters() const
{
    int64_t n = 0;
    for (const auto& m : matrices)
        n += m.parameters();
    return n;
}

void MxqCostTable::validate(const std::string& source) const
{
    if (configs.empty())
        throw Error(source + ": the MXQ cost table has no configurations");
    for (const auto& c : configs)
        checkConfig(c, source + ": configuration " + c.label());
    for (const auto& m : matrices) {
        const std::string where = source + ": matrix " + m.tensor + ": ";
        if (m.rows <= 0 || m.cols <= 0)
            throw Error(where + "needs a positive shape");
        if (m.cost.size() != configs.size() || m.storageBits.size() != configs.size())
            throw Error(where + "needs one cost and one storage figure per configuration (" +
                        std::to_string(configs.size()) + ")");
        for (size_t k = 0; k < configs.size(); ++k)
            if (!std::isfinite(m.cost[k]) || m.cost[k] < 0 || !std::isfinite(m.storageBits[k]) ||
                m.storageBits[k] <= 0)
                throw Error(where + "configuration " + configs[k].label() +
                            " has a negative or non-finite cost or storage");
    }
    // The probed kind's extras: every candidate's costs and every selection's plans are per
    // matrix and configuration of this table.
    for (const auto& [kind, costs] : candidateCosts) {
        if (costs.size() != matrices.size())
            throw Error(source + ": the " + kind + " candidate costs need one row per matrix (" +
                        std::to_string(matrices.size()) + ")");
        for (const auto& row : costs) {
            if (row.size() != configs.size())
                throw Error(source + ": the " + kind + " candidate costs need one per configuration");
            for (double c : row)
                if (!std::isfinite(c) || c < 0)
                    throw Error(source + ": the " + kind + " candidate costs hold a negative or non-finite value");
        }
    }
    for (const auto& sel : selections) {
        const std::string where = source + ": the probed selection at " + std::to_string(sel.budgetBitsPerParameter) +
                                  " bits/parameter: ";
        if (sel.chosen < 0 || size_t(sel.chosen) >= sel.candidates.size())
            throw Error(where + "the kept candidate is not one of its " + std::to_string(sel.candidates.size()));
        for (const auto& c : sel.candidates) {
            if (c.choice.size() != matrices.size())
                throw Error(where + "candidate " + c.name + " needs one configuration per matrix");
            for (int k : c.choice)
                if (k < 0 || size_t(k) >= configs.size())
                    throw Error(where + "candidate " + c.name + " names a configuration out of range");
            if (!std::isfinite(c.loss))
                throw Error(where + "candidate " + c.name + " has a non-finite loss");
        }
    }
}

const MxqProbedSelection* MxqCostTable::selectionFor(double budgetBits) const
{
    for (const auto& s : selections)
        if (std::abs(s.budgetBits - budgetBits) <= 1e-9 * std::abs(budgetBits))
            return &s;
    return nullptr;
}

std::string MxqCostTable::toJson() const
{
    nlohmann::json j;
    j["format"] = kFormat;
    j["version"] = kVersion;
    j["model"] = model;
    j["cost_kind"] = costKind;
    j["device"] = device;
    j["seconds"] = seconds;
    if (!costChoice.empty())
        j["cost_choice"] = costChoice;
    j["hqq"] = {{"lp_norm", hqq.lpNorm},         {"beta", hqq.beta},
                {"kappa", hqq.kappa},            {"iterations", hqq.iterations},
                {"early_stop", hqq.earlyStop},   {"meta_bits", hqq.metaBits},
                {"meta_group_size", hqq.metaGroupSize}};
    j["configs"] = nlohmann::json::array();
    for (const auto& c : configs)
        j["configs"].push_back({{"bits", c.bits}, {"group_size", c.groupSize}});
    j["matrices"] = nlohmann::json::array();
    for (const auto& m : matrices)
        j["matrices"].push_back({{"tensor", m.tensor},
                                 {"layer", m.layer},
                                 {"linear", m.linear},
                                 {"rows", m.rows},
                                 {"cols", m.cols},
                                 {"cost", m.cost},
                                 {"storage_bits", m.storageBits}});
    if (!candidateCosts.empty()) {
        j["candidate_costs"] = nlohmann::json::object();
        for (const auto& [kind, costs] : candidateCosts)
            j["candidate_costs"][kind] = costs;
    }
    if (!selections.empty()) {
        j["selections"] = nlohmann::json::array();
        for (const auto& sel : selections) {
            nlohmann::json cands = nlohmann::json::array();
            for (const auto& c : sel.candidates) {
                cands.push_back({{"name", c.name},
                                 {"choice", c.choice},
                                 {"bits_per_parameter", c.bitsPerParameter},
                                 {"loss", c.loss}});
                if (std::isfinite(c.kl))
                    cands.back()["kl"] = c.kl;
            }
            j["selections"].push_back({{"budget_bits", sel.budgetBits},
                                       {"budget_bits_per_parameter", sel.budgetBitsPerParameter},
                                       {"baseline_loss", sel.baselineLoss},
                                       {"chosen", sel.chosen},
                                       {"candidates", cands}});
        }
    }
    // nlohmann writes the shortest form that reads back to the same double: costs round-trip
    // bit for bit.
    return j.dump(1);
}

MxqCostTable MxqCostTable::fromJson(const std::string& text, const std::string& source)
{
    MxqCostTable t;
    try {
        const auto j = nlohmann::json::parse(text);
        if (j.value("format", std::string()) != kFormat)
            throw Error(source + ": not an MXQ cost table (format \"" +
                        j.value("format", std::string()) + "\")");
        const int version = jsonIntOr<int>(j, "version", 0, source + ": field \"version\"");
        if (version != kVersion)
            throw Error(source + ": MXQ cost table version " + std::to_string(version) +
                        " is not supported (this build reads version " + std::to_string(kVersion) + ")");
        t.model = j.value("model", std::string());
        t.costKind = j.value("cost_kind", std::string("fnorm"));
        t.device = j.value("device", std::string());
        t.seconds = j.value("seconds", 0.0);
        if (const auto c = j.find("cost_choice"); c != j.end()) {
            if (!c->is_string())
                throw Error(source + ": \"cost_choice\" is not a string");
            t.costChoice = c->get<std::string>();
        }
        if (j.contains("hqq")) {
            const auto& h = j.at("hqq");
            t.hqq.lpNorm = jsonValue(h, "lp_norm", t.hqq.lpNorm, source);
            t.hqq.beta = jsonValue(h, "beta", t.hqq.beta, source);
            t.hqq.kappa = jsonValue(h, "kappa", t.hqq.kappa, source);
            t.hqq.iterations = jsonValue(h, "iterations", t.hqq.iterations, source);
            t.hqq.earlyStop = h.value("early_stop", t.hqq.earlyStop);
            t.hqq.metaBits = jsonValue(h, "meta_bits", t.hqq.metaBits, source);
            t.hqq.metaGroupSize = jsonValue(h, "meta_group_size", t.hqq.metaGroupSize, source);
        }
        for (const auto& c : j.at("configs"))
            t.configs.push_back({jsonInt<int>(c.at("bits"), source + ": a configuration's \"bits\""),
                                 jsonInt<int64_t>(c.at("group_size"), source + ": a configuration's \"group_size\"")});
        for (const auto& e : j.at("matrices")) {
            MxqMatrixCosts m;
            m.tensor = e.at("tensor").get<std::string>();
            m.layer = jsonIntOr<int64_t>(e, "layer", 0, source + ": field \"layer\"");
            m.linear = e.value("linear", std::string());
            m.rows = jsonInt<int64_t>(e.at("rows"), source + ": field \"rows\"");
            m.cols = jsonInt<int64_t>(e.at("cols"), source + ": field \"cols\"");
            m.cost = e.at("cost").get<std::vector<double>>();
            m.storageBits = e.at("storage_bits").get<std::vector<double>>();
            t.matrices.push_back(std::move(m));
        }
        if (j.contains("candidate_costs"))
            for (const auto& [kind, costs] : j.at("candidate_costs").items())
                t.candidateCosts[kind] = costs.get<std::vector<std::vector<double>>>();
        if (j.contains("selections"))
            for (const auto& e : j.at("selections")) {
                MxqProbedSelection sel;
                sel.budgetBits = e.at("budget_bits").get<double>();
                sel.budgetBitsPerParameter = e.at("budget_bits_per_parameter").get<double>();
                sel.baselineLoss = e.value("baseline_loss", 0.0);
                sel.chosen = jsonInt<int>(e.at("chosen"), source + ": a selection's \"chosen\"");
                for (const auto& c : e.at("candidates")) {
                    MxqProbedCandidate k;
                    k.name = c.at("name").get<std::string>();
                    k.choice = jsonInts<int>(c.at("choice"), source + ": a candidate's \"choice\"");
                    k.bitsPerParameter = c.value("bits_per_parameter", 0.0);
                    k.loss = c.at("loss").get<double>();
                    if (c.contains("kl"))
                        k.kl = c.at("kl").get<double>();
                    sel.candidates.push_back(std::move(k));
                }
                t.selections.push_back(std::move(sel));
            }
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": malformed MXQ cost table (" + e.what() + ")");
    }
    if (t.costKind != "fnorm" && t.costKind != "relative" && t.costKind != "relative-mse" &&
        t.costKind != "hessian" && t.costKind != "relative-hessian" && t.costKind != "sensitivity" &&
        t.costKind != "probed")
        throw Error(source + ": unknown MXQ cost kind \"" + t.costKind +
                    "\" (fnorm, relative, relative-mse, hessian, relative-hessian, sensitivity or probed)");
    t.validate(source);
    return t;
}

void MxqCostTable::save(const std::string& path) const
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error("cannot write MXQ cost table " + tmp);
        out << toJson();
        out.close();
        if (!out)
            throw Error("cannot write MXQ cost table " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        throw Error("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

MxqCostTable MxqCostTable::load(const std::string& path)
{
    return fromJson(files::readAll(path), path);
}

} // namespace mpq
