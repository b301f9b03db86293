#pragma once

#include <QString>

namespace mpq::gui {

/// Where the workbench keeps its files: a new workspace folder per opened model (runs and the
/// session file go there) under $MPQ_WORKBENCH_HOME, else the user's application data folder;
/// and the shared data directory ($MPQ_DATA_DIR, else ../shared/data as the CLI looks it up).
struct WorkspaceFolders {
    /// A fresh folder name (named after the model and the time) that does not exist yet; it is
    /// not created: the first job that writes the session creates it.
    static QString newWorkspace(const QString& modelPath);
    /// The shared data directory, or empty when there is none.
    static QString dataDirectory();
    /// The session file inside a workspace folder.
    static QString sessionFile(const QString& workspace);
};

} // namespace mpq::gui
