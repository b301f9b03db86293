#pragma once

#include "core/Error.h"

#include <cstdint>
#include <string>

namespace mpq {

/// Limits a job plans within (docs/streaming.md). 0 means no limit. The host limit counts the
/// job's own data held in host memory (weights, activations, Hessians, logits, and on the CPU
/// everything computed); the process's fixed cost (code, LibTorch's runtime) is not counted.
/// The device limit counts the same on a CUDA device; it is ignored on the CPU, where the
/// host limit applies.
struct MemoryBudget {
    int64_t hostBytes = 0;
    int64_t deviceBytes = 0;
    bool limitsHost() const { return hostBytes > 0; }
    bool limitsDevice() const { return deviceBytes > 0; }
};

/// A job that cannot fit its memory budget, refused before it started. The message is one line
/// with the figures (what the smallest plan needs and the limit).
class MemoryBudgetError : public Error {
public:
    using Error::Error;
};

/// Peak resident set size of this process so far (Linux VmHWM), in bytes; -1 when unknown.
int64_t peakHostBytes();
/// Starts a new peak: VmHWM becomes the current RSS (Linux: "5" written to /proc/self/clear_refs).
/// Jobs call it when they start, so that a long-lived process (the GUI) reports each job's peak.
/// Returns false where the kernel does not allow it (the peak then stays the process's).
bool resetPeakHostBytes();
/// Under a host limit, makes the C allocator hand freed memory back to the system at once
/// (glibc: blocks from 128 KiB are mapped and unmapped on their own, the heap is trimmed from
/// 128 KiB of free space, and what is free now is trimmed). Without it, glibc keeps freed blocks
/// for reuse and raises its mapping threshold as tensors come and go, so the resident set grows
/// past the planned job data by what the heap holds free (mpq-llama-42m GPTQ: 211 MiB of growth
/// against a 97.9 MiB plan; with it, 95.7 MiB; docs/streaming.md). Costs page faults on every large
/// allocation, so jobs call it only when a host limit is set. Process-wide and not undone.
void returnFreedMemoryPromptly();
/// Resident set size of this process now (Linux VmRSS), in bytes; -1 when unknown.
int64_t currentHostBytes();
/// Peak bytes LibTorch's CUDA allocator held on `device` ("cuda", "cuda:N") since the process
/// started or the last job reset it; -1 for "cpu" and in builds without CUDA.
int64_t peakDeviceMemory(const std::string& device);

/// Physical memory of this machine, in bytes; -1 when unknown.
int64_t physicalHostBytes();
/// Total memory of a CUDA device; -1 for "cpu" and in builds without CUDA.
int64_t deviceTotalBytes(const std::string& device);

/// Parses a size: plain bytes, or a number with K, M, G, T (powers of 1024; "GiB", "GB" and
/// "G" all mean 2^30). Throws mpq::Error naming the text when malformed or not positive.
int64_t parseByteSize(const std::string& text);
/// "1.25 GiB", "310.4 MiB", "812 KiB" style figure.
std::string byteSizeText(int64_t bytes);

} // namespace mpq
