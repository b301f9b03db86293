#pragma once

#include "core/JobContext.h"

namespace mpq::cli {

/// Connects a command's job to the terminal: progress is drawn on stderr (a bar with rate and
/// ETA on a terminal, a line every few seconds otherwise; warnings as "warning: ..."), and
/// SIGINT/SIGTERM call ctx.requestCancel(), so the job stops at its next boundary (a second
/// Ctrl-C exits at once with status 130).
void attachToTerminal(JobContext& ctx);

/// Finishes a progress line (newline) if one is open.
void endProgressLine();

} // namespace mpq::cli
