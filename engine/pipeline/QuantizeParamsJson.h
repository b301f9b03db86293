#pragma once

#include "pipeline/QuantizeJob.h"

#include <string>

namespace mpq {

/// Every setting of a job as a JSON object (the session's run "settings"; enough to resume the
/// run exactly). The plan and the solver record are not included (sessions store them separately).
std::string quantizeParamsToJson(const QuantizeParams& params);
/// The inverse; missing keys keep QuantizeParams' defaults. Throws mpq::Error naming `source`.
QuantizeParams quantizeParamsFromJson(const std::string& json, const std::string& source);

/// The figures of a finished job as a JSON object: avg_bits, avg_bits_with_overhead, seconds,
/// seconds_split, peak_device_bytes, device, matrices. One source for the session's run report
/// and `mpq quantize --json`, which each add their own keys.
std::string quantizeReportFiguresJson(const QuantizeReport& report);

} // namespace mpq
