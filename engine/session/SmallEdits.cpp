// Small edits of a session (evaluations, sweeps, MXQ cost tables, the warning log): each one
// rewrites the file atomically under the session's lock.
#include "session/Session.h"

#include "core/Error.h"
#include "session/detail/Serializers.h"
#include "session/detail/SessionFile.h"

#include <cstdio>

namespace mpq::session {

using namespace detail;

int64_t addEvaluation(const std::string& path, Evaluation e)
{
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    rewriteSession(path, {}, [&](const h5::Id& fresh, const h5::Id*) {
        const h5::Id g = h5::openOrCreateGroup(fresh, "evaluations");
        int64_t last = 0;
        for (const auto& n : h5::children(g))
            last = std::max(last, h5::attrInt(h5::openGroup(g, n), "id"));
        e.id = last + 1;
        if (e.created.empty())
            e.created = nowIso();
        char name[24];
        std::snprintf(name, sizeof name, "%06lld", (long long)e.id);
        writeEvaluation(h5::createGroup(g, name), e);
    });
    return e.id;
}

void saveSweep(const std::string& path, const Sweep& s)
{
    checkRunName(s.name);
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    rewriteSession(path, {"/sweeps/" + s.name}, [&](const h5::Id& fresh, const h5::Id*) {
        Sweep copy = s;
        if (copy.created.empty())
            copy.created = nowIso();
        writeSweep(h5::createGroup(h5::openOrCreateGroup(fresh, "sweeps"), s.name), copy);
    });
}

void saveMxqCostTable(const std::string& path, const std::string& name, const MxqCostTable& table)
{
    checkRunName(name);
    table.validate("MXQ cost table " + name);
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    rewriteSession(path, {"/mxq_costs/" + name}, [&](const h5::Id& fresh, const h5::Id*) {
        writeMxqCosts(h5::createGroup(h5::openOrCreateGroup(fresh, "mxq_costs"), name), table);
    });
}

void appendLog(const std::string& path, const std::vector<LogEntry>& entries)
{
    FileLock lock(sessionLockPath(path));
    std::lock_guard<std::recursive_mutex> h5lock(h5::libraryMutex());
    rewriteSession(path, {"/log"}, [&](const h5::Id& fresh, const h5::Id* old) {
        std::vector<LogEntry> all = old ? readLog(h5::openGroup(*old, "/")) : std::vector<LogEntry>();
        all.insert(all.end(), entries.begin(), entries.end());
        writeLog(h5::openGroup(fresh, "/"), all);
    });
}

} // namespace mpq::session
