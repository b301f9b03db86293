#pragma once

#include "core/JobContext.h"

namespace mpq::cli {

/// Draws progress on stderr: a bar with rate and ETA on a terminal, a line every few seconds
/// otherwise. Warnings go to stderr as "warning: ...".
void attachTerminalReporter(JobContext& ctx);

/// Routes SIGINT/SIGTERM to ctx.requestCancel(): the job stops at its next boundary. A second
/// Ctrl-C exits at once with status 130.
void installInterruptHandler(JobContext& ctx);

/// Finishes a progress line (newline) if one is open.
void endProgressLine();

} // namespace mpq::cli
