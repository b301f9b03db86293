#include "core/detail/CudaGraph.h"

#ifdef MPQ_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <optional>
#endif

namespace mpq::detail {

#ifdef MPQ_WITH_CUDA
/// The calling thread's work on `device` on a pool stream, from construction (after what the
/// caller's stream had queued) to destruction (which makes the caller's stream wait for it).
struct StreamSwitch {
    explicit StreamSwitch(const at::Device& device)
        : caller(c10::cuda::getCurrentCUDAStream(device.index())),
          side(c10::cuda::getStreamFromPool(false, device.index())), guard(side)
    {
        at::cuda::CUDAEvent ready;
        ready.record(caller);
        ready.block(side);
    }
    ~StreamSwitch()
    {
        at::cuda::CUDAEvent done;
        done.record(side);
        done.block(caller);
    }
    c10::cuda::CUDAStream caller, side;
    c10::cuda::CUDAStreamGuard guard;
};

struct CapturedStep::Impl {
    explicit Impl(const at::Device& device) : streams(device) {}
    std::optional<at::cuda::CUDAGraph> graph; // declared first: outlives the switch back
    StreamSwitch streams;
};

struct SideStream::Impl {
    explicit Impl(const at::Device& device) : streams(device) {}
    StreamSwitch streams;
};
#else
struct CapturedStep::Impl {};
struct SideStream::Impl {};
#endif

SideStream::SideStream(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda())
        m_impl = std::make_unique<Impl>(device);
#else
    (void)device;
#endif
}

SideStream::~SideStream() = default;

CapturedStep::CapturedStep(const at::Device& device)
{
#ifdef MPQ_WITH_CUDA
    if (device.is_cuda())
        m_impl = std::make_unique<Impl>(device);
#else
    (void)device;
#endif
}

CapturedStep::~CapturedStep() = default;

bool CapturedStep::capture(const std::function<void()>& step, std::string* why)
{
#ifdef MPQ_WITH_CUDA
    if (!m_impl) {
        if (why)
            *why = "not a CUDA device";
        return false;
    }
    m_impl->graph.emplace();
    try {
        m_impl->graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
    } catch (const std::exception& e) {
        m_impl->graph.reset();
        if (why)
            *why = e.what();
        return false;
    }
    try {
        step();
    } catch (const std::exception& e) {
        // End the capture whatever happened, so that the stream is usable again.
        try {
            m_impl->graph->capture_end();
        } catch (...) {
        }
        (void)cudaGetLastError();
        m_impl->graph.reset();
        if (why)
            *why = e.what();
        return false;
    }
    try {
        m_impl->graph->capture_end();
    } catch (const std::exception& e) {
        (void)cudaGetLastError();
        m_impl->graph.reset();
        if (why)
            *why = e.what();
        return false;
    }
    return true;
#else
    (void)step;
    if (why)
        *why = "built without CUDA";
    return false;
#endif
}

std::mutex& CapturedStep::captureTurn()
{
    static std::mutex m;
    return m;
}

void CapturedStep::replay()
{
#ifdef MPQ_WITH_CUDA
    TORCH_CHECK(m_impl && m_impl->graph, "CapturedStep::replay() without a captured step");
    m_impl->graph->replay();
#endif
}

} // namespace mpq::detail
