#pragma once

#include "runs/detail/QuantizedRun.h"

#include <memory>
#include <string>

namespace mpq::session::detail {

/// Run `run` of session `file` as a detail::QuantizedRun (what openQuantizedRun("FILE#RUN")
/// returns). The session is read once, as a snapshot. Throws mpq::Error for a bad file or an
/// unknown run (the message lists the runs there are).
std::unique_ptr<mpq::detail::QuantizedRun> openSessionRun(const std::string& file, const std::string& run);

} // namespace mpq::session::detail
