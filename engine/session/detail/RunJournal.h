#pragma once

// Writes one quantization run into a session, layer by layer, crash-safely
// (docs/session-format.md, "Crash safety"): every finished layer becomes an immutable file in
// the run's journal folder (written to a temporary name, synced, renamed); when the job stops —
// complete, cancelled or failed — the journal is merged into the session file, which is itself
// replaced by write-temporary, sync, rename. A kill at any moment leaves the old session file
// plus complete journal files, which readers overlay and `--resume` continues from.

#include "alloc/mgptq/MgptqOptions.h"
#include "core/JobContext.h"
#include "runs/detail/LayerRecord.h"
#include "session/detail/LayerSerializer.h"
#include "session/detail/Serializers.h"
#include "session/detail/SessionFile.h"

#include <map>
#include <memory>
#include <string>

namespace mpq::session::detail {

class RunJournal {
public:
    /// Starts a new run in `sessionPath` (created when absent). An empty header.name picks
    /// "<method>-<n>" with the smallest free n. Throws mpq::Error when the name is taken.
    static std::unique_ptr<RunJournal> start(const std::string& sessionPath, RunHeader header);
    /// Continues run `name` (empty: the newest run that is not complete): its header and the
    /// stored layers 0..k-1 (the longest prefix without gaps) go to `header` and `state`.
    /// Every stored layer's checksums are verified: from the first damaged layer on, layers are
    /// left out of `state` (recomputed by the job), with a warning to `ctx` naming it.
    /// Throws mpq::Error when the run is complete, running elsewhere, or missing.
    static std::unique_ptr<RunJournal> resume(const std::string& sessionPath, const std::string& name,
                                              RunHeader& header, mpq::detail::ResumeState& state,
                                              JobContext* ctx = nullptr);
    /// Starts a new run as start() does, whose decoder layers 0..fromLayer-1 are copies of run
    /// `base` of the same session (quantized weights, plans, figures, Hessian data): they are
    /// written to the new journal at once and go to `state`, so that the driver continues from
    /// fromLayer (an override run, pipeline/Override.h). Every copied layer's checksums are
    /// verified. Throws mpq::Error when `base` is missing, not complete or lacks one of them.
    static std::unique_ptr<RunJournal> startFrom(const std::string& sessionPath, RunHeader header,
                                                 const std::string& base, int64_t fromLayer,
                                                 mpq::detail::ResumeState& state);
    ~RunJournal();

    const std::string& name() const { return m_header.name; }
    const std::string& sessionPath() const { return m_session; }

    /// Keeps what the session stores of a group's Hessian: diagonal, the full matrix when it has
    /// at most `fullLimit` columns (-1: always, 0: never), the view adjacency with `topK` per row.
    void addHessian(int64_t layer, int group, const at::Tensor& H, const MgptqOptions& graph, int64_t fullLimit,
                    int64_t topK, JobContext& ctx);
    /// Writes a finished layer to the journal (temporary file, sync, rename).
    void addLayer(const mpq::detail::LayerRecord& record);
    /// Merges the journal into the session with the final status ("complete", "cancelled",
    /// "failed"), the report and the warnings (also appended to the session's log), then removes
    /// the journal.
    void finish(const std::string& status, const std::string& reportJson, const std::vector<std::string>& warnings);

private:
    RunJournal(std::string session, RunHeader header);
    void writeHeader();

    std::string m_session;
    std::string m_dir;
    RunHeader m_header;
    std::unique_ptr<FileLock> m_writerLock;
    std::map<int64_t, std::map<int, HessianExtras>> m_pending;
};

} // namespace mpq::session::detail
