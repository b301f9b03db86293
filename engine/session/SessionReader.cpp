// Session::open(): the main file plus the journals of unmerged runs, as one read-only snapshot.
#include "session/detail/SessionState.h"

#include "core/Error.h"
#include "core/Files.h"
#include "session/detail/SessionFile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mpq::session {

namespace detail {

std::string layerGroupName(int64_t layer)
{
    char name[24];
    std::snprintf(name, sizeof name, "%03lld", (long long)layer);
    return name;
}

std::string journalLayerFile(const std::string& dir, int64_t layer)
{
    return files::join(dir, "layer-" + layerGroupName(layer) + ".h5");
}

std::vector<std::string> matrixGroups(const h5::Id& layerGroup)
{
    std::vector<std::pair<int64_t, std::string>> order;
    for (const auto& name : h5::children(layerGroup))
        order.emplace_back(h5::attrInt(h5::openGroup(layerGroup, name), "order"), name);
    std::sort(order.begin(), order.end());
    std::vector<std::string> out;
    for (auto& [i, n] : order)
        out.push_back(n);
    return out;
}

namespace {

RunStatus storedStatus(const std::string& s)
{
    if (s == "complete")
        return RunStatus::Complete;
    if (s == "cancelled")
        return RunStatus::Cancelled;
    if (s == "failed")
        return RunStatus::Failed;
    return RunStatus::Interrupted;
}

/// Layer groups of a run in the main file.
void addMainLayers(RunState& r, const h5::Id& file, const h5::Id& runGroup, const std::string& runPath)
{
    if (!h5::exists(runGroup, "layers"))
        return;
    const h5::Id layers = h5::openGroup(runGroup, "layers");
    for (const auto& name : h5::children(layers)) {
        int64_t index = -1;
        try {
            index = h5::attrInt(h5::openGroup(layers, name), "layer", -1);
        } catch (const h5::ChecksumError& e) {
            // Damaged metadata of one layer: the rest of the run stays readable; the layer is
            // known by its group name ("NNN").
            char* end = nullptr;
            const long long fromName = std::strtoll(name.c_str(), &end, 10);
            if (end == name.c_str() || *end != '\0' || fromName < 0)
                throw;
            r.damaged[fromName] = "run " + r.header.name + ", decoder layer " + name + ": " + e.what();
            continue;
        }
        if (index < 0)
            throw Error(file.file() + ": run " + r.header.name + ": layer group " + name + " has no layer index");
        r.layers[index] = {file, runPath + "/layers/" + name};
    }
}

/// Overlays one run's journal folder (docs/session-format.md, "Crash safety").
void addJournal(Session::Impl& s, const std::string& dir)
{
    const std::string headerFile = files::join(dir, "header.h5");
    if (!files::exists(headerFile))
        return; // a name reserved by a writer that died before writing anything
    h5::Id hf;
    try {
        hf = h5::openFile(headerFile);
    } catch (const Error&) {
        return; // cannot happen for renamed files; ignore rather than fail the whole session
    }
    RunHeader header = readRunHeader(h5::openGroup(hf, "/run"));
    RunState* r = nullptr;
    for (auto& x : s.runs)
        if (x.header.name == header.name)
            r = &x;
    // A journal already merged into the main file is a leftover of a merge that was killed
    // before it could delete it: the main file has everything.
    if (r && r->header.mergedJournal == header.journalId)
        return;
    if (!r) {
        s.runs.emplace_back();
        r = &s.runs.back();
    }
    r->header = header;
    r->liveJournal = true;
    r->status = isLocked(files::join(dir, "writer.lock")) ? RunStatus::Running : RunStatus::Interrupted;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        long long index = -1;
        char tail[4] = {};
        if (std::sscanf(name.c_str(), "layer-%lld.h%2s", &index, tail) != 2 || std::string(tail) != "5" || index < 0)
            continue;
        try {
            r->layers[index] = {h5::openFile(entry.path().string()), "/layer"};
            r->damaged.erase(index);
        } catch (const Error& e) {
            r->layers.erase(index); // the journal's copy is the newer one: do not fall back to an older
            r->damaged[index] = "run " + r->header.name + ", decoder layer " + std::to_string(index) +
                                " (journal): " + e.what();
        }
    }
}

} // namespace

std::shared_ptr<const Session::Impl> loadSession(const std::string& path)
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    auto s = std::make_shared<Session::Impl>();
    s->file = openSessionFile(path);
    const h5::Id root = h5::openGroup(s->file, "/");
    s->info.path = path;
    s->info.version = int(h5::attrInt(root, "version"));
    s->info.created = h5::attrString(root, "created");
    s->info.writer = h5::attrString(root, "writer");
    if (h5::exists(root, "runs")) {
        const h5::Id runs = h5::openGroup(root, "runs");
        for (const auto& name : h5::children(runs)) {
            const h5::Id g = h5::openGroup(runs, name);
            RunState r;
            r.header = readRunHeader(g);
            if (r.header.name.empty())
                r.header.name = name;
            r.status = storedStatus(r.header.status);
            r.inMainFile = true;
            addMainLayers(r, s->file, g, "/runs/" + name);
            s->runs.push_back(std::move(r));
        }
    }
    const std::string jroot = journalRoot(path);
    if (files::isDirectory(jroot)) {
        std::vector<std::string> dirs;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(jroot, ec))
            if (entry.is_directory())
                dirs.push_back(entry.path().string());
        std::sort(dirs.begin(), dirs.end());
        for (const auto& d : dirs)
            addJournal(*s, d);
    }
    std::stable_sort(s->runs.begin(), s->runs.end(),
                     [](const RunState& a, const RunState& b) { return a.header.created < b.header.created; });
    return s;
}

} // namespace detail

const RunState* Session::Impl::find(const std::string& name) const
{
    for (const auto& r : runs)
        if (r.header.name == name)
            return &r;
    return nullptr;
}

const RunState& Session::Impl::run(const std::string& name) const
{
    if (const RunState* r = find(name))
        return *r;
    std::string known;
    for (const auto& r : runs)
        known += (known.empty() ? "" : ", ") + r.header.name;
    throw Error(info.path + ": no run named \"" + name + "\" (runs: " + (known.empty() ? "none" : known) + ")");
}

Session::Session(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

Session Session::open(const std::string& path)
{
    return Session(detail::loadSession(path));
}

const SessionInfo& Session::info() const
{
    return m_impl->info;
}

std::vector<RunInfo> Session::runs() const
{
    std::vector<RunInfo> out;
    for (const auto& r : m_impl->runs)
        out.push_back(run(r.header.name));
    return out;
}

std::vector<MatrixSummary> Session::matrices(const std::string& name) const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    const RunState& r = m_impl->run(name);
    std::vector<MatrixSummary> out;
    for (const auto& [index, loc] : r.layers) try {
        const h5::Id g = h5::openGroup(loc.file, loc.group);
        for (const auto& m : detail::matrixGroups(g))
            out.push_back(detail::readMatrixSummary(h5::openGroup(g, m)));
    } catch (const Error& e) {
        h5::rethrowIn(e, loc.file.file(), "run " + name + ", decoder layer " + std::to_string(index));
    }
    return out;
}

RunInfo Session::run(const std::string& name) const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    const RunState& r = m_impl->run(name);
    const auto& h = r.header;
    RunInfo info;
    info.name = h.name;
    info.method = h.method;
    info.status = r.status;
    info.settingsJson = h.settingsJson;
    info.model = h.model;
    info.created = h.created;
    info.updated = h.updated;
    info.layersTotal = h.layersTotal;
    for (const auto& [index, loc] : r.layers)
        info.layersDone.push_back(index);
    for (const auto& [index, why] : r.damaged)
        if (!r.layers.count(index))
            info.damagedLayers.emplace_back(index, why);
    info.calibrationWindows = h.windows;
    info.calibrationLength = h.length;
    info.calibrationDescription = h.calibrationDescription;
    info.reportJson = h.reportJson;
    info.solver = h.solver;
    info.warnings = h.warnings;
    double bits = 0, bitsOv = 0, weights = 0;
    for (const auto& m : matrices(name)) {
        const double n = double(m.rows) * double(m.cols);
        bits += m.codeBits * n;
        bitsOv += m.bitsWithOverhead * n;
        weights += n;
    }
    info.avgBits = weights > 0 ? bits / weights : 0;
    info.avgBitsWithOverhead = weights > 0 ? bitsOv / weights : 0;
    return info;
}

MatrixDetail Session::matrix(const std::string& name, const std::string& tensor) const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    const RunState& r = m_impl->run(name);
    for (const auto& [index, loc] : r.layers) try {
        const h5::Id g = h5::openGroup(loc.file, loc.group);
        for (const auto& m : detail::matrixGroups(g)) {
            const h5::Id mg = h5::openGroup(g, m);
            if (h5::attrString(mg, "tensor") == tensor)
                return detail::readMatrixDetail(mg);
        }
    } catch (const Error& e) {
        h5::rethrowIn(e, loc.file.file(), "run " + name + ", decoder layer " + std::to_string(index));
    }
    throw Error(m_impl->info.path + ": run " + name + " has no stored matrix " + tensor);
}

std::vector<Evaluation> Session::evaluations() const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    std::vector<Evaluation> out;
    if (h5::exists(m_impl->file, "evaluations")) {
        const h5::Id g = h5::openGroup(m_impl->file, "evaluations");
        for (const auto& n : h5::children(g))
            out.push_back(detail::readEvaluation(h5::openGroup(g, n)));
    }
    std::sort(out.begin(), out.end(), [](const Evaluation& a, const Evaluation& b) { return a.id < b.id; });
    return out;
}

std::vector<Sweep> Session::sweeps() const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    std::vector<Sweep> out;
    if (h5::exists(m_impl->file, "sweeps")) {
        const h5::Id g = h5::openGroup(m_impl->file, "sweeps");
        for (const auto& n : h5::children(g))
            out.push_back(detail::readSweep(h5::openGroup(g, n)));
    }
    std::sort(out.begin(), out.end(), [](const Sweep& a, const Sweep& b) { return a.created < b.created; });
    return out;
}

std::vector<std::string> Session::mxqCostTableNames() const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    if (!h5::exists(m_impl->file, "mxq_costs"))
        return {};
    return h5::children(h5::openGroup(m_impl->file, "mxq_costs"));
}

MxqCostTable Session::mxqCostTable(const std::string& name) const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    if (!h5::exists(m_impl->file, "mxq_costs/" + name))
        throw Error(m_impl->info.path + ": no MXQ cost table named \"" + name + "\"");
    return detail::readMxqCosts(h5::openGroup(m_impl->file, "mxq_costs/" + name));
}

std::vector<LogEntry> Session::log() const
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    return detail::readLog(h5::openGroup(m_impl->file, "/"));
}

} // namespace mpq::session
