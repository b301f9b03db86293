#pragma once

#include "pipeline/QuantizeJob.h"

#include <string>

namespace mpq {

/// Every setting of a job as a JSON object (the session's run "settings"; enough to resume the
/// run exactly). The plan and extraJson are not included (sessions store them separately).
std::string quantizeParamsToJson(const QuantizeParams& params);
/// The inverse; missing keys keep QuantizeParams' defaults. Throws mpq::Error naming `source`.
QuantizeParams quantizeParamsFromJson(const std::string& json, const std::string& source);

} // namespace mpq
