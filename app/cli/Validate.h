#pragma once

// Checks a command's settings, files and data sets before any model is loaded or job started
// (docs/hardening.md, "Validate before working"): each failure is one line naming the option or
// file, with the figure when a limit is passed. Bad values of an option are UsageErrors (exit
// status 2); missing files and data sets are mpq::Errors (exit status 1).

#include "Args.h"

#include <cstdint>
#include <string>

namespace mpq::cli {

/// An integer option within [lo, hi]; the message names the option and the range.
int64_t intIn(const Args& args, const std::string& name, int64_t lo, int64_t hi);
/// A number option within [lo, hi] (lo excluded when `loOpen`).
double numberIn(const Args& args, const std::string& name, double lo, double hi, bool loOpen = false);

/// MODEL: a Hugging Face folder or llama2.c file that exists (its headers are read later).
void checkModelPath(const std::string& model);
/// A file named by an option (--tokenizer, --plan, --calib-tokens, ...) must exist.
void checkFileOption(const Args& args, const std::string& name);
/// Evaluation / calibration sets: a named set must be in the data directory (--data-dir, else
/// MPQ_DATA_DIR, else ../shared/data); any other name must be an existing file.
void checkEvalDataset(const std::string& nameOrPath, const std::string& dataDir, const std::string& option);
void checkCalibrationSet(const std::string& nameOrPath, const std::string& dataDir, const std::string& option);

/// Memory that activations of `elements` values of `bytesEach` would take on `device`, refused
/// when over the machine's memory (the host's RAM for cpu; 192 GiB, more than any one GPU, for
/// cuda). `what` says what they are, e.g. "--forward-batch 100000 x --seqlen 2048 logits".
void checkActivationBytes(double elements, double bytesEach, const std::string& device, const std::string& what);

/// "12.3 GB" style figure.
std::string bytesText(double bytes);

} // namespace mpq::cli
