// Serializer of the warning log: /log, three parallel columns as one JSON text per column
// would hide the structure from h5py users, so each entry is a row of a JSON array instead.
#include "session/detail/Serializers.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq::session::detail {

void writeLog(const h5::Id& root, const std::vector<LogEntry>& entries)
{
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : entries)
        j.push_back({{"time", e.time}, {"run", e.run}, {"message", e.message}});
    const h5::Id g = h5::createGroup(root, "log");
    h5::setAttr(g, "entries", int64_t(entries.size()));
    h5::writeText(g, "entries", j.dump(1));
}

std::vector<LogEntry> readLog(const h5::Id& root)
{
    std::vector<LogEntry> out;
    if (!h5::exists(root, "log"))
        return out;
    const h5::Id g = h5::openGroup(root, "log");
    const auto j = nlohmann::json::parse(h5::readText(g, "entries", "[]"), nullptr, false);
    if (!j.is_array())
        throw Error(root.file() + ": the warning log is malformed");
    for (const auto& e : j)
        out.push_back({e.value("time", ""), e.value("run", ""), e.value("message", "")});
    return out;
}

} // namespace mpq::session::detail
