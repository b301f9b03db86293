#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace mpq::detail {

/// A training step recorded once as a CUDA graph and replayed: one launch per step instead of
/// the step's tens of kernel launches and autograd's host work (MG-PTQ's steps are small, so
/// host time, not GPU time, bounds them). Construction moves the calling thread's work on
/// `device` to a side stream (a graph cannot be captured on the default stream) until
/// destruction, which makes the caller's stream wait for it. On the CPU, or in builds without
/// CUDA, it does nothing and capture() declines.
///
/// The step must read everything that changes between steps from tensors whose storage stays
/// put (copy new values into them before replay()), must not synchronise with the host, and
/// must not draw random numbers. Capture uses the thread-local capture mode, so other threads
/// may use the device meanwhile. Not copyable; one object per thread.
class CapturedStep {
public:
    explicit CapturedStep(const at::Device& device);
    ~CapturedStep();
    CapturedStep(const CapturedStep&) = delete;
    CapturedStep& operator=(const CapturedStep&) = delete;

    /// Records `step` (it does not run). Returns false with the reason in `why` when the
    /// device is not CUDA or capture failed; the step's effects are then not applied and the
    /// caller runs its steps eagerly. Call after at least one eager step on this object's
    /// stream, so that libraries have set up their workspaces.
    bool capture(const std::function<void()>& step, std::string* why);
    /// Runs the recorded step on the side stream (asynchronously).
    void replay();
    /// Held around capture(): threads record one at a time (concurrent captures crashed), while
    /// replays run concurrently.
    static std::mutex& captureTurn();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Moves the calling thread's work on `device` to a stream of its own, from construction (after
/// everything the thread had queued on its current stream) to destruction (which makes that
/// stream wait for it). Threads that work on the device at once then do not queue behind each
/// other's kernels, and one thread's synchronisation does not wait for the others' work. On the
/// CPU, or in builds without CUDA, it does nothing. Not copyable; one object per thread.
class SideStream {
public:
    explicit SideStream(const at::Device& device);
    ~SideStream();
    SideStream(const SideStream&) = delete;
    SideStream& operator=(const SideStream&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace mpq::detail
