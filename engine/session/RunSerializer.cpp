// Serializer of a run's header: /runs/<name> without its layers.
#include "session/detail/Serializers.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq::session::detail {

void writeRunHeader(const h5::Id& g, const RunHeader& h)
{
    h5::setAttr(g, "name", h.name);
    h5::setAttr(g, "method", h.method);
    h5::setAttr(g, "status", h.status);
    h5::setAttr(g, "created", h.created);
    h5::setAttr(g, "updated", h.updated);
    h5::setAttr(g, "journal_id", h.journalId);
    h5::setAttr(g, "merged_journal", h.mergedJournal);
    h5::setAttr(g, "layers_total", h.layersTotal);
    h5::writeText(g, "settings", h.settingsJson);
    if (!h.inputPlanJson.empty())
        h5::writeText(g, "input_plan", h.inputPlanJson);
    if (!h.solver.empty())
        h5::writeText(g, "extra", h.solver.toJson());
    h5::writeText(g, "report", h.reportJson);
    h5::writeText(g, "warnings", nlohmann::json(h.warnings).dump());

    const h5::Id m = h5::createGroup(g, "model");
    h5::setAttr(m, "path", h.model.path);
    h5::writeText(m, "config", h.model.configJson);
    nlohmann::json sha = nlohmann::json::object();
    for (const auto& [file, hex] : h.model.sha256)
        sha[file] = hex;
    h5::writeText(m, "sha256", sha.dump());

    const h5::Id c = h5::createGroup(g, "calibration");
    h5::setAttr(c, "source", h.calibrationSource);
    h5::setAttr(c, "description", h.calibrationDescription);
    if (h.windows > 0)
        h5::writeArray<int32_t>(c, "tokens", h.tokens.data(), {h.windows, h.length});
}

RunHeader readRunHeader(const h5::Id& g)
{
    RunHeader h;
    h.name = h5::attrString(g, "name");
    h.method = h5::attrString(g, "method");
    h.status = h5::attrString(g, "status", "running");
    h.created = h5::attrString(g, "created");
    h.updated = h5::attrString(g, "updated", h.created);
    h.journalId = h5::attrString(g, "journal_id");
    h.mergedJournal = h5::attrString(g, "merged_journal");
    h.layersTotal = h5::attrInt(g, "layers_total", 0);
    h.settingsJson = h5::readText(g, "settings", "{}");
    h.inputPlanJson = h5::readText(g, "input_plan");
    h.reportJson = h5::readText(g, "report", "{}");
    try {
        for (const auto& w : nlohmann::json::parse(h5::readText(g, "warnings", "[]")))
            h.warnings.push_back(w.get<std::string>());
    } catch (const nlohmann::json::exception& e) {
        throw Error(g.file() + ": run " + h.name + ": malformed warnings (" + e.what() + ")");
    }
    h.solver = SolverRecord::fromJson(h5::readText(g, "extra"), g.file() + ": run " + h.name);
    if (h5::exists(g, "model")) {
        const h5::Id m = h5::openGroup(g, "model");
        h.model.path = h5::attrString(m, "path");
        h.model.configJson = h5::readText(m, "config", "{}");
        try {
            const auto sha = nlohmann::json::parse(h5::readText(m, "sha256", "{}"));
            for (auto it = sha.begin(); it != sha.end(); ++it)
                h.model.sha256.emplace_back(it.key(), it.value().get<std::string>());
        } catch (const nlohmann::json::exception& e) {
            throw Error(g.file() + ": run " + h.name + ": malformed model hashes (" + e.what() + ")");
        }
    }
    if (h5::exists(g, "calibration")) {
        const h5::Id c = h5::openGroup(g, "calibration");
        h.calibrationSource = h5::attrString(c, "source");
        h.calibrationDescription = h5::attrString(c, "description");
        if (h5::exists(c, "tokens")) {
            std::vector<int64_t> dims;
            h.tokens = h5::readArray<int32_t>(c, "tokens", &dims);
            if (dims.size() != 2)
                throw Error(g.file() + ": run " + h.name + ": calibration tokens are not a [windows, length] table");
            h.windows = dims[0];
            h.length = dims[1];
        }
    }
    return h;
}

} // namespace mpq::session::detail

namespace mpq::session {

bool ModelReference::sameArchitecture(const std::string& currentConfigJson) const
{
    const auto stored = nlohmann::json::parse(configJson, nullptr, false);
    if (stored.is_discarded() || !stored.is_object())
        return false;
    auto now = nlohmann::json::parse(currentConfigJson);
    if (stored == now)
        return true;
    // Builds before ModelConfig::toJson() was the one form stored LLaMA-2's fields for every
    // family: toJson() without the keys it writes only where a feature is on.
    for (const char* key : {"model_type", "rope_scaling", "qkv_bias", "o_bias", "mlp_bias", "qk_norm",
                            "sliding_window", "sliding_layers", "moe"})
        now.erase(key);
    return stored == now;
}

} // namespace mpq::session
