#pragma once

#include "Args.h"

namespace mpq::cli {

/// What --demo fills in for a command.
enum class DemoUse {
    Model,     ///< only MODEL (info)
    Eval,      ///< MODEL, --dataset demo-valid.txt, --seqlen 128
    Quantize,  ///< MODEL, --calib demo-calib.txt, --seqlen 128
    Sweep,     ///< Quantize's, and --eval-datasets demo-valid.txt
};

/// Declares --demo on a command whose first positional is MODEL.
void addDemoFlag(Args& args, DemoUse use);

/// After parse(): when --demo was given, sets MODEL to the embedded demo model
/// (mpq::findDemoModel) unless a MODEL was given (e.g. a result folder of the demo model to
/// evaluate), and the demo's text and window length for the options not given on the command line.
/// Throws mpq::Error when the demo model cannot be found.
void applyDemo(Args& args, DemoUse use);

} // namespace mpq::cli
