#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace mpq::detail {

/// Peak bytes allocated through LibTorch's CUDA allocator since the last reset; -1 on the CPU or
/// in builds without CUDA headers.
int64_t peakDeviceBytes(const at::Device& device);
void resetPeakDeviceBytes(const at::Device& device);
/// Total memory of a CUDA device (cudaMemGetInfo); -1 on the CPU or without CUDA.
int64_t deviceTotalBytes(const at::Device& device);
/// Returns cached, unused blocks to the driver (CUDA only).
void releaseCachedMemory(const at::Device& device);

} // namespace mpq::detail
