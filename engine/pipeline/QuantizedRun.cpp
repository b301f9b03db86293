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
class ResultFolderRun final : public FolderRun {
public:
    explicit ResultFolderRun(std::string dir) : FolderRun(std::move(dir))
    {
        m_model = resultModelPath(m_dir); // checks format and version
        m_planSource = files::join(m_dir, "result.json");
        try {
            const nlohmann::json j = nlohmann::json::parse(readResultJson(m_dir));
            m_method = j.value("method", std::string());
            if (j.contains("plan"))
                m_planJson = j["plan"].dump();
            if (j.contains("settings"))
                m_settings = j["settings"].dump();
        } catch (const nlohmann::json::exception& e) {
            throw Error(m_planSource + ": malformed result description (" + e.what() + ")");
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

    QuantizedLayer layer(int64_t index) const override
    {
        const std::string file = files::join(files::join(m_dir, "layers"), layerFileName(index));
        if (!files::exists(file))
            throw Error(m_dir + ": decoder layer " + std::to_string(index) + " is not stored");
        return readLayerResult(file);
    }
};

} // namespace

AllocationPlan FolderRun::plan() const
{
    return m_planJson.empty() ? AllocationPlan() : AllocationPlan::fromJson(m_planJson, m_planSource);
}

std::string layerFileName(int64_t layer)
{
    char name[40];
    std::snprintf(name, sizeof name, "layer-%03lld.safetensors", (long long)layer);
    return name;
}

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

WeightOverrides layerOverrides(const QuantizedRun& run, int64_t layer)
{
    WeightOverrides overrides;
    for (auto& [name, q] : run.layer(layer)) {
        if (!at::isfinite(q.dequant).all().item<bool>())
            throw Error(run.describe() + ": the stored quantized weights of " + name +
                        " hold NaN or Inf (its scales or zeros are not finite numbers)");
        overrides[name] = q.dequant;
    }
    return overrides;
}

WeightOverrides runOverrides(const QuantizedRun& run)
{
    WeightOverrides overrides;
    for (int64_t i : run.layers())
        overrides.merge(layerOverrides(run, i));
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
