#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace mpq {

/// One progress report of a long job.
struct Progress {
    std::string stage;      ///< what is being done, e.g. "eval wikitext2" or "layer 3/8"
    std::string detail;     ///< finer position, e.g. the matrix name; may be empty
    int64_t done = 0;       ///< units finished
    int64_t total = 0;      ///< units in all (0 when unknown)
    std::string unit;       ///< what a unit is ("tokens", "layers")
    double elapsedSeconds = 0;
    double etaSeconds = -1; ///< estimated seconds left; negative when unknown
};

/// The small context every long engine job takes: progress, cancellation and warnings.
///
/// Threading: report() and warn() are called from the job's thread; the handlers run there too,
/// so a GUI adapter must forward them to its own thread. requestCancel() may be called from any
/// thread (and from a signal handler: it only stores to an atomic flag). The engine checks
/// cancellation only at natural boundaries (window, layer, block, epoch), never mid-kernel.
class JobContext {
public:
    using ProgressHandler = std::function<void(const Progress&)>;
    using WarningHandler = std::function<void(const std::string&)>;
    /// Decoder layer `layer` (0-based) of `layers` is stored where a reader can find it while the
    /// job runs: journaled into the session, or written to the result's .partial folder.
    using LayerHandler = std::function<void(int64_t layer, int64_t layers)>;

    JobContext();

    void setProgressHandler(ProgressHandler handler) { m_onProgress = std::move(handler); }
    void setWarningHandler(WarningHandler handler) { m_onWarning = std::move(handler); }
    void setLayerHandler(LayerHandler handler) { m_onLayer = std::move(handler); }

    /// Asks the job to stop at its next boundary. Async-signal-safe.
    void requestCancel() noexcept { m_cancel.store(true, std::memory_order_relaxed); }
    bool isCancelled() const noexcept { return m_cancel.load(std::memory_order_relaxed); }
    /// Throws mpq::Cancelled if cancellation was requested.
    void checkCancelled() const;

    /// Restarts the clock used for elapsed time and ETA; a job calls it when it begins.
    void start(std::string stage);
    /// Reports progress; elapsed time and a linear ETA are filled in from the clock.
    void report(int64_t done, int64_t total, std::string unit, std::string detail = {});
    /// Records a warning and passes it to the handler.
    void warn(const std::string& message);
    std::vector<std::string> warnings() const;
    /// Tells the layer handler (if any) that a decoder layer is stored; called by the pipeline.
    void layerStored(int64_t layer, int64_t layers) const
    {
        if (m_onLayer)
            m_onLayer(layer, layers);
    }

private:
    std::atomic<bool> m_cancel{false};
    ProgressHandler m_onProgress;
    WarningHandler m_onWarning;
    LayerHandler m_onLayer;
    std::string m_stage;
    std::chrono::steady_clock::time_point m_start;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_warnings;
};

} // namespace mpq
