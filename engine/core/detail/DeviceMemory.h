#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace mpq::detail {

/// Peak bytes allocated through LibTorch's CUDA allocator since the last reset; -1 on the CPU or
/// in builds without CUDA headers. Scoped measurements (DevicePeakScope) inside a job do not lower it.
int64_t peakDeviceBytes(const at::Device& device);
void resetPeakDeviceBytes(const at::Device& device);

/// The device memory one step of a job needs above what was already allocated when it began
/// (e.g. MG-PTQ's allocation of one matrix): the allocator's peak is reset at construction and
/// read by bytes(); the peak from before the scope is kept, so peakDeviceBytes() still reports the
/// whole job's. bytes() is -1 on the CPU.
class DevicePeakScope {
public:
    explicit DevicePeakScope(const at::Device& device);
    int64_t bytes() const;

private:
    at::Device m_device;
    int64_t m_startAllocated = -1;
};
/// Total memory of a CUDA device (cudaMemGetInfo); -1 on the CPU or without CUDA.
int64_t deviceTotalBytes(const at::Device& device);
/// Returns cached, unused blocks to the driver (CUDA only).
void releaseCachedMemory(const at::Device& device);

} // namespace mpq::detail
