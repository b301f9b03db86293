#include "core/detail/DeviceMemory.h"

#ifdef MPQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
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
