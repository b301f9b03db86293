#pragma once

class QMainWindow;
class QSettings;

namespace mpq::gui {

/// Saves and restores a main window's geometry and its dock and toolbar layout in QSettings
/// (keys "window/geometry" and "window/state", versioned so that a layout from an older set of
/// docks is ignored rather than misapplied). GUI thread only.
struct WindowState {
    /// Bump when docks are added or renamed.
    static constexpr int kVersion = 2; // 2: the Explain dock (issue 19)
    static void save(const QMainWindow* window);
    /// Restores what save() stored; false when nothing (or an older version) was stored.
    static bool restore(QMainWindow* window);
};

} // namespace mpq::gui
