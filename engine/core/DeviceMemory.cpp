#include "core/detail/DeviceMemory.h"

#ifdef MPQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace mpq::detail {

int64_t peakDeviceBytes(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        (void)at::empty({1}, at::TensorOptions().device(device));
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
        return stats.allocated_bytes[0].peak; // StatType::AGGREGATE
    }
#endif
    (void)device;
    return -1;
}

void resetPeakDeviceBytes(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda()) {
        // The allocator sizes its per-device tables on first use; allocate once to be sure.
        (void)at::empty({1}, at::TensorOptions().device(device));
        c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
    }
#endif
    (void)device;
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
