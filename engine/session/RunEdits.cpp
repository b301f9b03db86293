// Run edits (rename, delete) of a session: atomic rewrites under the session's lock.
#include "session/RunEdits.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "session/Session.h"
#include "session/detail/Serializers.h"
#include "session/detail/SessionFile.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace mpq::session {

using namespace detail;

namespace {

bool hasRun(const h5::Id& file, const std::string& name)
{
    const h5::Id root = h5::openGroup(file, "/");
    return h5::exists(root, "runs") && h5::exists(h5::openGroup(root, "runs"), name);
}

/// Throws when a process is writing run `name` (its journal's writer lock is held).
void checkNotRunning(const std::string& path, const std::string& name)
{
    if (isLocked(files::join(journalDir(path, name), "writer.lock")))
        throw Error(path + "#" + name + ": the run is being written by a running job; wait for it or cancel it first");
}

std::string specOf(const std::string& path, const std::string& run) { return path + "#" + run; }

} // namespace

void renameRun(const std::string& path, const std::string& from, const std::string& to)
{
    checkRunName(to);
    if (from == to)
        return;
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    checkNotRunning(path, from);
    if (files::exists(journalDir(path, from)))
        throw SettingError("resume", specOf(path, from) + ": the run has unmerged layers in its journal "
                                     "(interrupted); resume it or delete it before renaming");
    if (files::exists(journalDir(path, to)))
        throw Error(specOf(path, to) + ": the name is taken by a journaled run");
    const h5::Id old = openSessionFile(path);
    if (!hasRun(old, from))
        throw Error(path + ": no run named \"" + from + "\"");
    if (hasRun(old, to))
        throw Error(path + ": there is already a run named \"" + to + "\"");

    const h5::Id oldRoot = h5::openGroup(old, "/");
    std::set<std::string> drop = {"/runs/" + from, "/sweeps"};
    const bool moveCosts = h5::exists(oldRoot, "mxq_costs") && h5::exists(h5::openGroup(oldRoot, "mxq_costs"), from) &&
                           !h5::exists(h5::openGroup(oldRoot, "mxq_costs"), to);
    if (moveCosts)
        drop.insert("/mxq_costs/" + from);
    rewriteSession(path, drop, [&](const h5::Id& fresh, const h5::Id* oldFile) {
        const h5::Id src = h5::openGroup(*oldFile, "/");
        const h5::Id dst = h5::openGroup(fresh, "/");
        const h5::Id runs = h5::openOrCreateGroup(dst, "runs");
        h5::copy(h5::openGroup(src, "runs"), from, runs, to);
        h5::setAttr(h5::openGroup(runs, to), "name", to);
        if (moveCosts)
            h5::copy(h5::openGroup(src, "mxq_costs"), from, h5::openOrCreateGroup(dst, "mxq_costs"), to);
        // Evaluations were copied whole: rename the run in those of this run.
        if (h5::exists(dst, "evaluations")) {
            const h5::Id evals = h5::openGroup(dst, "evaluations");
            for (const std::string& id : h5::children(evals)) {
                const h5::Id e = h5::openGroup(evals, id);
                if (h5::attrString(e, "run") != from)
                    continue;
                h5::setAttr(e, "run", to);
                const std::string model = h5::attrString(e, "model");
                const std::string suffix = "#" + from;
                if (model.size() >= suffix.size() && model.compare(model.size() - suffix.size(), suffix.size(), suffix) == 0)
                    h5::setAttr(e, "model", model.substr(0, model.size() - suffix.size()) + "#" + to);
            }
        }
        if (h5::exists(src, "sweeps")) {
            const h5::Id oldSweeps = h5::openGroup(src, "sweeps");
            const h5::Id sweeps = h5::createGroup(dst, "sweeps");
            for (const std::string& name : h5::children(oldSweeps)) {
                Sweep s = readSweep(h5::openGroup(oldSweeps, name));
                for (SweepPoint& p : s.points)
                    if (p.run == from)
                        p.run = to;
                writeSweep(h5::createGroup(sweeps, name), s);
            }
        }
    });
}

void deleteRun(const std::string& path, const std::string& name)
{
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    checkNotRunning(path, name);
    const std::string journal = journalDir(path, name);
    const bool journaled = files::exists(journal);
    const h5::Id old = openSessionFile(path);
    const bool stored = hasRun(old, name);
    if (!stored && !journaled)
        throw Error(path + ": no run named \"" + name + "\"");
    if (stored) {
        const h5::Id oldRoot = h5::openGroup(old, "/");
        std::set<std::string> drop = {"/runs/" + name, "/sweeps"};
        if (h5::exists(oldRoot, "evaluations")) {
            const h5::Id evals = h5::openGroup(oldRoot, "evaluations");
            for (const std::string& id : h5::children(evals))
                if (h5::attrString(h5::openGroup(evals, id), "run") == name)
                    drop.insert("/evaluations/" + id);
        }
        rewriteSession(path, drop, [&](const h5::Id& fresh, const h5::Id* oldFile) {
            const h5::Id src = h5::openGroup(*oldFile, "/");
            if (!h5::exists(src, "sweeps"))
                return;
            const h5::Id oldSweeps = h5::openGroup(src, "sweeps");
            std::vector<Sweep> kept;
            for (const std::string& sweep : h5::children(oldSweeps)) {
                Sweep s = readSweep(h5::openGroup(oldSweeps, sweep));
                s.points.erase(std::remove_if(s.points.begin(), s.points.end(),
                                              [&](const SweepPoint& p) { return p.run == name; }),
                               s.points.end());
                if (s.name.empty())
                    s.name = sweep;
                if (!s.points.empty())
                    kept.push_back(std::move(s));
            }
            if (kept.empty())
                return;
            const h5::Id sweeps = h5::createGroup(h5::openGroup(fresh, "/"), "sweeps");
            for (const Sweep& s : kept)
                writeSweep(h5::createGroup(sweeps, s.name), s);
        });
    }
    if (journaled) {
        if (std::string why; !files::removeAll(journal, &why))
            throw Error(journal + ": cannot remove the run's journal (" + why + ")");
    }
}

} // namespace mpq::session
