// The crash-safe, incremental writer of one run (detail/RunJournal.h, docs/session-format.md).
#include "session/detail/RunJournal.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "session/detail/SessionState.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

namespace mpq::session::detail {

namespace {

std::string randomId()
{
    std::random_device rd;
    char buf[20];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

/// Layer files of a journal folder, by layer index.
std::map<int64_t, std::string> journalLayers(const std::string& dir)
{
    std::map<int64_t, std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        long long index = -1;
        char tail[4] = {};
        if (std::sscanf(name.c_str(), "layer-%lld.h%2s", &index, tail) == 2 && std::string(tail) == "5" && index >= 0)
            out[index] = entry.path().string();
    }
    return out;
}

void removeJournal(const std::string& dir)
{
    files::removeAll(dir);
    syncFolder(files::parent(dir));
}

/// Temporaries of a writer that died mid-write (never renamed, so never read).
void removeTemporaries(const std::string& dir)
{
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().filename().string().find(".tmp-") != std::string::npos)
            std::filesystem::remove(entry.path(), ec);
}

} // namespace

RunJournal::RunJournal(std::string session, RunHeader header)
    : m_session(std::move(session)), m_header(std::move(header))
{
    m_dir = journalDir(m_session, m_header.name);
}

RunJournal::~RunJournal() = default;

void RunJournal::writeHeader()
{
    m_header.updated = nowIso();
    writeFileAtomically(files::join(m_dir, "header.h5"),
                        [&](const h5::Id& f) { writeRunHeader(h5::createGroup(f, "run"), m_header); });
}

std::unique_ptr<RunJournal> RunJournal::start(const std::string& sessionPath, RunHeader header)
{
    if (!header.name.empty())
        checkRunName(header.name);
    FileLock lock(sessionLockPath(sessionPath));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    if (!files::exists(sessionPath))
        rewriteSession(sessionPath, {}, [](const h5::Id&, const h5::Id*) {}); // an empty session
    std::set<std::string> taken;
    {
        const auto s = loadSession(sessionPath);
        for (const auto& r : s->runs)
            taken.insert(r.header.name);
    }
    auto isTaken = [&](const std::string& name) {
        const std::string dir = journalDir(sessionPath, name);
        return taken.count(name) ||
               (files::isDirectory(dir) && (files::exists(files::join(dir, "header.h5")) ||
                                            isLocked(files::join(dir, "writer.lock"))));
    };
    if (header.name.empty()) {
        for (int n = 1;; ++n)
            if (!isTaken(header.name = header.method + "-" + std::to_string(n)))
                break;
        checkRunName(header.name);
    } else if (isTaken(header.name)) {
        throw SettingError({"runName", "resume"}, sessionPath + ": a run named \"" + header.name +
                                                      "\" already exists; choose another run name, or resume " +
                                                      sessionPath + "#" + header.name);
    }
    std::unique_ptr<RunJournal> j(new RunJournal(sessionPath, std::move(header)));
    std::filesystem::create_directories(j->m_dir);
    j->m_writerLock = std::make_unique<FileLock>(files::join(j->m_dir, "writer.lock"), false);
    if (!j->m_writerLock->held())
        throw Error(sessionPath + ": run " + j->name() + " is being written by another process");
    removeTemporaries(j->m_dir);
    j->m_header.journalId = randomId();
    j->m_header.status = "running";
    j->m_header.created = nowIso();
    j->writeHeader();
    return j;
}

std::unique_ptr<RunJournal> RunJournal::resume(const std::string& sessionPath, const std::string& name,
                                               RunHeader& header, mpq::detail::ResumeState& state, JobContext* ctx)
{
    FileLock lock(sessionLockPath(sessionPath));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    const auto s = loadSession(sessionPath);
    const RunState* run = nullptr;
    if (name.empty()) {
        for (const auto& r : s->runs)
            if (r.status != RunStatus::Complete)
                run = &r; // the newest unfinished one (runs are in creation order)
        if (!run)
            throw Error(sessionPath + ": no unfinished run to resume (every run is complete)");
    } else {
        run = &s->run(name);
    }
    if (run->status == RunStatus::Complete)
        throw Error(sessionPath + ": run " + run->header.name + " is complete; nothing to resume");
    if (run->status == RunStatus::Running)
        throw Error(sessionPath + ": run " + run->header.name + " is being written by another process right now");

    std::unique_ptr<RunJournal> j(new RunJournal(sessionPath, run->header));
    if (!run->liveJournal)
        removeJournal(j->m_dir); // a merged leftover, or nothing
    std::filesystem::create_directories(j->m_dir);
    j->m_writerLock = std::make_unique<FileLock>(files::join(j->m_dir, "writer.lock"), false);
    if (!j->m_writerLock->held())
        throw Error(sessionPath + ": run " + j->name() + " is being written by another process right now");
    removeTemporaries(j->m_dir);
    if (!run->liveJournal)
        j->m_header.journalId = randomId(); // a new journal on top of the merged run
    j->m_header.status = "running";
    j->writeHeader();

    // Every stored layer is read in full (Hessians and viewing arrays too) so that each checksum
    // is verified: the first damaged layer and all after it are recomputed, never trusted (the
    // inputs of layer k+1 are the outputs of the quantized layer k).
    state.layers.clear();
    for (int64_t k = 0; run->layers.count(k) || run->damaged.count(k); ++k) {
        if (!run->layers.count(k)) {
            if (ctx)
                ctx->warn("resume: " + run->damaged.at(k) + "; recomputing it and the layers after it");
            break;
        }
        const LayerLocation& loc = run->layers.at(k);
        try {
            const h5::Id g = h5::openGroup(loc.file, loc.group);
            verifyLayer(g);
            state.layers.push_back(readLayer(g));
        } catch (const h5::ChecksumError& e) {
            if (ctx)
                ctx->warn(std::string("resume: damaged: ") + e.what() + "; recomputing it and the layers after it");
            break;
        }
        if (state.layers.back().layer != k)
            throw Error(loc.file.file() + ": layer group of decoder layer " + std::to_string(k) + " says it is layer " +
                        std::to_string(state.layers.back().layer));
    }
    header = j->m_header;
    return j;
}

std::unique_ptr<RunJournal> RunJournal::startFrom(const std::string& sessionPath, RunHeader header,
                                                  const std::string& base, int64_t fromLayer,
                                                  mpq::detail::ResumeState& state)
{
    // Read the base's layers first (a snapshot), then start the new run and copy them in.
    state.layers.clear();
    std::vector<std::map<int, HessianExtras>> extras;
    {
        std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
        const auto s = loadSession(sessionPath);
        const RunState& run = s->run(base);
        if (run.status != RunStatus::Complete)
            throw Error(sessionPath + ": run " + base + " is " + statusName(run.status) +
                        "; an override starts from a complete run");
        for (int64_t k = 0; k < fromLayer; ++k) {
            const auto at = run.layers.find(k);
            if (at == run.layers.end())
                throw Error(sessionPath + ": run " + base + " has no readable decoder layer " + std::to_string(k));
            const h5::Id g = h5::openGroup(at->second.file, at->second.group);
            verifyLayer(g);
            state.layers.push_back(readLayer(g));
            // The groups are not stored: matrices whose stored diag H is the same (hard links of
            // one true-sequential group) share one group again, so the copy links them as well.
            std::map<int, HessianExtras> x;
            std::vector<std::vector<float>> diagonals;
            const auto names = matrixGroups(g);
            for (size_t i = 0; i < names.size() && i < state.layers.back().matrices.size(); ++i) {
                const MatrixDetail d = readMatrixDetail(h5::openGroup(g, names[i]));
                if (d.hessianDiagonal.empty())
                    continue; // data-free
                const auto same = std::find(diagonals.begin(), diagonals.end(), d.hessianDiagonal);
                const int group = int(same - diagonals.begin());
                state.layers.back().matrices[i].group = group;
                if (same != diagonals.end())
                    continue;
                diagonals.push_back(d.hessianDiagonal);
                HessianExtras e;
                const int64_t n = d.summary.cols;
                if (!d.hessianDiagonal.empty())
                    e.diagonal = at::tensor(d.hessianDiagonal);
                if (!d.hessian.empty())
                    e.full = at::tensor(d.hessian).view({n, n});
                e.adjacency = d.adjacency;
                x[group] = std::move(e);
            }
            extras.push_back(std::move(x));
        }
    }
    std::unique_ptr<RunJournal> j = start(sessionPath, std::move(header));
    for (size_t k = 0; k < state.layers.size(); ++k) {
        j->m_pending[state.layers[k].layer] = extras[k];
        j->addLayer(state.layers[k]);
    }
    return j;
}

void RunJournal::addHessian(int64_t layer, int group, const at::Tensor& H, const MgptqOptions& graph,
                            int64_t fullLimit, int64_t topK, JobContext& ctx)
{
    HessianExtras x;
    x.diagonal = H.diagonal().to(at::kFloat).cpu().clone();
    if (fullLimit < 0 || H.size(0) <= fullLimit)
        x.full = H.to(at::kFloat).cpu().clone();
    try {
        x.adjacency = viewAdjacency(H, graph, topK);
    } catch (const Error& e) {
        ctx.warn("layer " + std::to_string(layer) + ": no adjacency stored for viewing (" + e.what() + ")");
    }
    m_pending[layer][group] = std::move(x);
}

void RunJournal::addLayer(const mpq::detail::LayerRecord& record)
{
    const auto extras = m_pending[record.layer];
    writeFileAtomically(journalLayerFile(m_dir, record.layer), [&](const h5::Id& f) {
        writeLayer(h5::openGroup(f, "/"), "layer", record, extras);
    });
    m_pending.erase(record.layer);
}

void RunJournal::finish(const std::string& status, const std::string& reportJson,
                        const std::vector<std::string>& warnings)
{
    FileLock lock(sessionLockPath(m_session));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    RunHeader h = m_header;
    h.status = status;
    h.updated = nowIso();
    h.reportJson = reportJson.empty() ? "{}" : reportJson;
    h.warnings.insert(h.warnings.end(), warnings.begin(), warnings.end()); // after earlier stops' warnings
    h.mergedJournal = h.journalId;
    const std::string runPath = "/runs/" + h.name;
    rewriteSession(m_session, {runPath, "/log"}, [&](const h5::Id& fresh, const h5::Id* old) {
        const h5::Id g = h5::createGroup(h5::openOrCreateGroup(fresh, "runs"), h.name);
        writeRunHeader(g, h);
        const h5::Id layers = h5::createGroup(g, "layers");
        std::set<int64_t> have;
        for (const auto& [index, file] : journalLayers(m_dir)) {
            const h5::Id f = h5::openFile(file);
            h5::copy(f, "/layer", layers, layerGroupName(index));
            have.insert(index);
        }
        if (old && h5::exists(*old, "runs/" + h.name + "/layers")) {
            const h5::Id oldLayers = h5::openGroup(*old, runPath + "/layers");
            for (const auto& child : h5::children(oldLayers)) {
                int64_t index = -1;
                try {
                    index = h5::attrInt(h5::openGroup(oldLayers, child), "layer", -1);
                } catch (const h5::ChecksumError&) {
                    continue; // damaged beyond reading its index: dropped (resume recomputed it)
                }
                if (index >= 0 && !have.count(index))
                    h5::copy(oldLayers, child, layers, layerGroupName(index));
            }
        }
        std::vector<LogEntry> log = old ? readLog(h5::openGroup(*old, "/")) : std::vector<LogEntry>();
        const std::string now = nowIso();
        for (const auto& w : warnings)
            log.push_back({now, h.name, w});
        writeLog(h5::openGroup(fresh, "/"), log);
    });
    m_header = h;
    // The session now holds everything; the journal is a leftover that readers ignore
    // (merged_journal == its id) until it is gone.
    m_writerLock.reset();
    removeJournal(m_dir);
}

} // namespace mpq::session::detail
