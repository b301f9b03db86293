#pragma once

#include "data/Calibration.h"
#include "pipeline/QuantizeJob.h"

#include <cstdint>
#include <string>

namespace mpq::detail {

/// How an override run starts (pipeline/Override.h): a new run of the session whose decoder
/// layers before `fromLayer` are copied from run `base`, on the base's calibration windows.
struct OverrideStart {
    std::string base;
    int64_t fromLayer = 0;
    CalibrationSet calibration;  ///< the base run's windows (empty for data-free runs)
    std::string recordJson;      ///< stored as "override" in the new run's settings
};

/// quantizeModel, with an override start when `start` is not null (p.plan holds the overridden
/// plan, p.session the session, p.resume false).
QuantizeReport quantizeModelFrom(const QuantizeParams& params, JobContext& ctx, const OverrideStart* start);

} // namespace mpq::detail
