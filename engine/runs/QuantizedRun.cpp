#include "runs/detail/QuantizedRun.h"

#include "core/Error.h"
#include "core/Files.h"
#include "export/detail/PackedFormat.h"
#include "runs/ResultFolder.h"
#include "runs/StoredRun.h"
#include "runs/detail/ResultFolderFiles.h"
#include "session/Session.h"
#include "session/detail/SessionRun.h"

#include <cstdio>

namespace mpq {

namespace detail {

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
        return openResultFolderRun(spec);
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
