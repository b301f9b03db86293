#pragma once

#include "Workbench.h"

#include <QString>
#include <QStringList>

namespace mpq::gui {

/// The workbench's session file (JSON, format "mpq-workbench", version 1; docs/gui.md): the model,
/// the reference perplexities, the MXQ cost table and every run as a result folder with its
/// perplexities. The runs' numbers stay in their result folders and are re-read on open. Written
/// to a temporary file and renamed, so a crash never leaves half a session. Serializers never
/// touch the UI; thread-safe (no shared state).
///
/// The old index format: the workbench now keeps its work in HDF5 sessions (engine/session,
/// read through SessionReader) and opens `.mpqwb` files only for compatibility. save() is left
/// for the synthetic workspace (SyntheticRuns::writeWorkspace) and the round-trip test; the app
/// itself no longer writes one.
struct WorkbenchFile {
    /// Throws mpq::Error naming the file on a write failure.
    static void save(const Workbench& wb, const QString& path);
    /// Throws mpq::Error naming the file when it is unreadable, not JSON, or of another format or a
    /// newer version. Runs whose result folder is missing or corrupt are skipped; one line per
    /// skipped run goes to `problems`.
    static Workbench load(const QString& path, QStringList* problems);
};

} // namespace mpq::gui
