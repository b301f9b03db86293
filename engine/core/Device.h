#pragma once

#include <string>

namespace mpq {

/// Compute precision of a job.
enum class DType { F32, F16, BF16 };

/// Parses "fp32"/"float32", "fp16"/"float16"/"half", "bf16"/"bfloat16". Throws mpq::Error.
DType parseDType(const std::string& text);
const char* dtypeName(DType t);

/// Where a job runs: "cpu", "cuda" or "cuda:N". Throws mpq::Error if CUDA is asked for but the
/// LibTorch this was built with has none, or no GPU is present.
void checkDevice(const std::string& device);
bool cudaAvailable();
/// Sets the number of CPU threads LibTorch uses; 0 = one per hardware thread. (Debian's
/// LibTorch starts with one.)
void configureThreads(int threads = 0);
int cpuThreads();

/// Name of the GPU (or "CPU") for reports.
std::string deviceDescription(const std::string& device);

} // namespace mpq
