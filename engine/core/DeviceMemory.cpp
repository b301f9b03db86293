#include "core/detail/DeviceMemory.h"

#ifdef MPQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>

namespace mpq::detail {

namespace {

#ifdef MPQ_WITH_CUDA
int deviceIndex(const at::Device& device) { return device.has_index() ? device.index() : 0; }

struct Allocated {
    int64_t current = 0;
    int64_t peak = 0;
};

Allocated allocatedStat(const at::Device& device)
{
    (void)at::empty({1}, at::TensorOptions().device(device)); // sizes the allocator's tables
    const auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(deviceIndex(device)).allocated_bytes[0]; // AGGREGATE
    return {s.current, s.peak};
}

/// Peaks seen before a DevicePeakScope reset the allocator's, per device; cleared by resetPeakDeviceBytes.
std::array<std::atomic<int64_t>, 64> g_peakFloor{};
#endif

} // namespace

int64_t peakDeviceBytes(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda())
        return std::max<int64_t>(allocatedStat(device).peak, g_peakFloor[size_t(deviceIndex(device)) % 64].load());
#endif
    (void)device;
    return -1;
}

DevicePeakScope::DevicePeakScope(const at::Device& device) : m_device(device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        const auto stat = allocatedStat(device);
        auto& floor = g_peakFloor[size_t(deviceIndex(device)) % 64];
        int64_t seen = floor.load();
        while (stat.peak > seen && !floor.compare_exchange_weak(seen, stat.peak)) {
        }
        m_startAllocated = stat.current;
        c10::cuda::CUDACachingAllocator::resetPeakStats(deviceIndex(device));
    }
#endif
}

int64_t DevicePeakScope::bytes() const
{
#ifdef MPQ_WITH_CUDA
    if (m_device.is_cuda() && m_startAllocated >= 0)
        return allocatedStat(m_device).peak - m_startAllocated;
#endif
    return -1;
}

void resetPeakDeviceBytes(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        // The allocator sizes its per-device tables on first use; allocate once to be sure.
        (void)at::empty({1}, at::TensorOptions().device(device));
        c10::cuda::CUDACachingAllocator::resetPeakStats(deviceIndex(device));
        g_peakFloor[size_t(deviceIndex(device)) % 64] = 0;
    }
#endif
    (void)device;
}

int64_t deviceTotalBytes(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        const c10::cuda::CUDAGuard guard(device.has_index() ? device.index() : 0);
        size_t freeBytes = 0, totalBytes = 0;
        if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess)
            return int64_t(totalBytes);
        return -1;
    }
#endif
    (void)device;
    return -1;
}

void releaseCachedMemory(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        (void)at::empty({1}, at::TensorOptions().device(device));
        c10::cuda::CUDACachingAllocator::emptyCache();
    }
#endif
    (void)device;
}

} // namespace mpq::detail
