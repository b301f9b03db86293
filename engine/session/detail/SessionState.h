#pragma once

// What Session::open() reads: the main file plus the journals of unmerged runs, as one view.
// Shared by the reader (Session), the QuantizedRun adapter and the run writer.

#include "session/Session.h"
#include "session/detail/H5.h"
#include "session/detail/Serializers.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mpq::session {

/// Where one stored decoder layer is: a group of the main file or of a journal layer file.
struct LayerLocation {
    h5::Id file;
    std::string group;       ///< "/runs/<run>/layers/NNN" or "/layer"
};

/// One run as the reader sees it.
struct RunState {
    detail::RunHeader header;
    RunStatus status = RunStatus::Interrupted;
    std::map<int64_t, LayerLocation> layers;
    /// Layers whose group could not be opened (damaged metadata), with the reason.
    std::map<int64_t, std::string> damaged;
    bool inMainFile = false; ///< /runs/<name> exists in the main file
    bool liveJournal = false; ///< a journal with data not yet merged exists
};

struct Session::Impl {
    SessionInfo info;
    h5::Id file;
    std::vector<RunState> runs;

    /// Throws mpq::Error naming the run and listing the existing ones.
    const RunState& run(const std::string& name) const;
    /// nullptr when absent.
    const RunState* find(const std::string& name) const;
};

namespace detail {

/// Opens the main file and the journals beside it. Throws mpq::Error (Session::open's cases).
std::shared_ptr<const Session::Impl> loadSession(const std::string& path);
/// The journal file of one layer ("layer-NNN.h5") and its group name inside.
std::string journalLayerFile(const std::string& journalDir, int64_t layer);
/// Matrix group names of a layer group, in the order the driver produced them.
std::vector<std::string> matrixGroups(const h5::Id& layerGroup);
/// "NNN" for layer groups of the main file.
std::string layerGroupName(int64_t layer);

} // namespace detail
} // namespace mpq::session
