#include "pipeline/detail/QuantizedRun.h"

#include "core/Error.h"
#include "core/Files.h"
#include "export/detail/PackedFormat.h"
#include "pipeline/ResultFolder.h"
#include "pipeline/detail/ResultStore.h"
#include "session/Session.h"
#include "session/detail/SessionRun.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace mpq {

namespace detail {

namespace {

/// A result folder (docs/result-folder.md).
class ResultFolderRun final : public QuantizedRun {
public:
    explicit ResultFolderRun(std::string dir) : m_dir(std::move(dir))
    {
        m_model = resultModelPath(m_dir); // checks format and version
        const std::string file = files::join(m_dir, "result.json");
        try {
            m_json = nlohmann::json::parse(readResultJson(m_dir));
        } catch (const nlohmann::json::exception& e) {
            throw Error(file + ": malformed result description (" + e.what() + ")");
        }
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(files::join(m_dir, "layers"), ec)) {
            const std::string name = entry.path().filename().string();
            long long index = -1;
            char tail[2] = {};
            if (std::sscanf(name.c_str(), "layer-%lld.safetensor%1s", &index, tail) == 2 && tail[0] == 's' &&
                index >= 0)
                m_layers.push_back(index);
        }
        if (ec || m_layers.empty())
            throw Error(m_dir + ": no quantized layers (layers/*.safetensors)");
        std::sort(m_layers.begin(), m_layers.end());
    }

    std::string describe() const override { return m_dir; }
    std::string modelPath() const override { return m_model; }
    std::string method() const override { return m_json.value("method", std::string()); }
    AllocationPlan plan() const override
    {
        if (!m_json.contains("plan"))
            return {};
        return AllocationPlan::fromJson(m_json["plan"].dump(), files::join(m_dir, "result.json"));
    }
    std::string settingsJson() const override
    {
        return m_json.contains("settings") ? m_json["settings"].dump() : "{}";
    }
    std::vector<int64_t> layers() const override { return m_layers; }
    QuantizedLayer layer(int64_t index) const override
    {
        char name[32];
        std::snprintf(name, sizeof name, "layer-%03lld.safetensors", (long long)index);
        const std::string file = files::join(files::join(m_dir, "layers"), name);
        if (!files::exists(file))
            throw Error(m_dir + ": decoder layer " + std::to_string(index) + " is not stored");
        return readLayerResult(file);
    }

private:
    std::string m_dir;
    std::string m_model;
    nlohmann::json m_json;
    std::vector<int64_t> m_layers;
};

} // namespace

std::unique_ptr<QuantizedRun> openQuantizedRun(const std::string& spec)
{
    if (isResultFolder(spec))
        return std::make_unique<ResultFolderRun>(spec);
    if (isPackedExport(spec))
        return openPackedRun(spec);
    // "SESSION#RUN" (docs/session-format.md); a bare session file asks for the run's name.
    if (const auto [file, run] = session::splitRunSpec(spec); session::isHdf5File(file))
        return session::detail::openSessionRun(file, run);
    throw Error(spec + ": not a quantization result (a result folder with result.json, SESSION#RUN or a packed export was expected)");
}

WeightOverrides runOverrides(const QuantizedRun& run)
{
    WeightOverrides overrides;
    for (int64_t i : run.layers())
        for (auto& [name, q] : run.layer(i))
            overrides[name] = q.dequant;
    return overrides;
}

} // namespace detail

bool isQuantizedRun(const std::string& spec)
{
    return isResultFolder(spec) || detail::isPackedExport(spec) || session::isHdf5File(session::splitRunSpec(spec).first);
}

std::string quantizedRunModelPath(const std::string& spec)
{
    return detail::openQuantizedRun(spec)->modelPath();
}

} // namespace mpq
