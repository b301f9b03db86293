#pragma once

#include "eval/Perplexity.h"
#include "session/Session.h"

#include <string>

namespace mpq::session {

/// The session's record of one evaluation: `run` (empty for a base model), what was evaluated
/// (`model`: "s.h5#run" or a path), the result's figures and its whole JSON (EvalResult::toJson).
/// The one place that fills an Evaluation from an EvalResult (`mpq eval`, `mpq sweep`, the GUI).
Evaluation evaluationRecord(const std::string& run, const std::string& model, const EvalResult& r);

} // namespace mpq::session
