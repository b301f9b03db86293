#pragma once

#include <string>
#include <vector>

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

/// A device a job can run on, as a device picker lists it.
struct DeviceChoice {
    std::string id;          ///< "cpu" or "cuda:N": what QuantizeParams::device / EvalParams::device take
    std::string description; ///< deviceDescription(id), e.g. "GPU: NVIDIA H200"
};
/// "cpu", then every visible CUDA device as cuda:0, cuda:1, … (only "cpu" with a CPU-only
/// LibTorch or without a GPU). Cheap; call from any thread.
std::vector<DeviceChoice> availableDevices();

} // namespace mpq
