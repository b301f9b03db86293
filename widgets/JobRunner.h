#pragma once

#include "JobRequest.h"
#include "RunData.h"

#include <QObject>

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace mpq {
class JobContext;
}

namespace mpq::gui {

/// Runs quantization and evaluation jobs of the engine. Move it to a worker QThread and start
/// jobs with run() through a queued call (or a queued connection): the engine then runs on that
/// thread and every result comes back as a typed signal, delivered on the receivers' thread.
/// cancel() may be called from any thread. Every engine error ends the job with failed(message);
/// a cancelled job ends with cancelled(). Finished points of a multi-point job are kept when a
/// later point fails or is cancelled. With JobRequest::session set, every point is a run of that
/// HDF5 session, written layer by layer by the engine (a cancelled point keeps its finished
/// layers, resumable with `mpq quantize --resume`), layers are read back from the session's
/// journal as they land, and evaluations, sweeps and MXQ cost tables are stored in it too.
class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject* parent = nullptr);

    /// Asks the running job to stop at its next boundary (layer, block, epoch, window). Thread-safe.
    void cancel();

public Q_SLOTS:
    /// Runs `request` to the end on the calling (worker) thread.
    void run(const mpq::gui::JobRequest& request);

Q_SIGNALS:
    void started(const QString& description);
    void progress(const mpq::gui::JobProgress& progress);
    void warning(const QString& message);
    /// A line for the log that is not a warning (e.g. which cost MXQ's --cost auto chose, and why).
    void note(const QString& message);
    /// A point's quantization began; `run` has its name, method and knob, no matrices yet.
    void runStarted(const mpq::gui::RunData& run);
    /// One decoder layer of the running point was written: its matrices' per-column bits.
    void layerReady(const QString& run, const std::vector<mpq::gui::MatrixResult>& matrices);
    /// A point's result folder is complete (read back from disk).
    void runFinished(const mpq::gui::RunData& run);
    /// A perplexity was measured; `run` is empty for the unquantized reference.
    void evaluated(const QString& run, const QString& dataset, double perplexity);
    /// The MXQ cost table is at this path (computed or loaded).
    void costsReady(const QString& path);
    /// The MXQ cost table was stored in the request's session under this name.
    void costTableStored(const QString& name);
    /// A run menu job changed the session's runs (resume, rename, delete, evaluate): re-read it.
    void sessionChanged();
    /// An export finished: the folder and a one-line summary.
    void exported(const QString& folder, const QString& summary);
    void finished();
    void failed(const QString& message);
    void cancelled();

private:
    void runQuantize(const JobRequest& request, JobContext& ctx);
    void runReference(const JobRequest& request, JobContext& ctx);
    /// The run menu's jobs on one stored run.
    void runOnRun(const JobRequest& request, JobContext& ctx);
    /// Evaluates `model` on the request's data sets (stored in the session when there is one);
    /// returns (data set, perplexity) pairs.
    std::vector<std::pair<QString, double>> evaluate(const JobRequest& request, const QString& model, const QString& run,
                                                     JobContext& ctx, int point);
    void attach(JobContext& ctx, int point, int points, const QString& partialDir, const QString& run,
                const QString& session);

    std::mutex m_mutex;
    JobContext* m_ctx = nullptr;  ///< the running job's context, guarded by m_mutex
    std::atomic<bool> m_cancel{false};
};

} // namespace mpq::gui

Q_DECLARE_METATYPE(std::vector<mpq::gui::MatrixResult>)
Q_DECLARE_METATYPE(mpq::gui::RunData)
