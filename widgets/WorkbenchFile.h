#pragma once

#include "Workbench.h"

#include <QString>
#include <QStringList>

namespace mpq::gui {

/// The workbench's old index of result folders (`.mpqwb`: JSON, format "mpq-workbench", version
/// 1; docs/gui.md): the model, the reference perplexities, the MXQ cost table and every run as a
/// result folder with its perplexities. The workbench now keeps its work in HDF5 sessions
/// (engine/session, read through SessionReader) and nothing writes this format any more; it is
/// read so that old workspaces open. Never touches the UI; thread-safe (no shared state).
struct WorkbenchFile {
    /// Throws mpq::Error naming the file when it is unreadable, not JSON, or of another format or a
    /// newer version. Runs whose result folder is missing or corrupt are skipped; one line per
    /// skipped run goes to `problems`.
    static Workbench load(const QString& path, QStringList* problems);
};

} // namespace mpq::gui
