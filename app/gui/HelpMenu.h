#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

class QMainWindow;
class QMenu;
class QWidget;

namespace mpq::gui {

/// The Help menu of the main window: About, the list of keyboard shortcuts (every menu action
/// that has one, and the keys of the views), and the user guide (docs/gui.md). Kept out of
/// MainWindow so that the window only adds it. GUI thread only.
struct HelpMenu {
    /// Adds "&Help" to `window`'s menu bar (call after the other menus, so that the shortcuts list
    /// sees them); returns it.
    static QMenu* add(QMainWindow* window);
    /// One entry per shortcut: {where, what, keys}. Menu actions first (from `window`'s menu bar),
    /// then the keys of the views.
    struct Shortcut {
        QString where;
        QString what;
        QString keys;
    };
    static QList<Shortcut> shortcuts(const QMainWindow* window);
    /// The user guide: $MPQ_DOCS_DIR/gui.md, the installed share/doc/mpq-workbench/gui.md, else
    /// the source tree's docs/gui.md; empty when none exists.
    static QUrl documentationUrl();
    /// The About box's text (name, version, what it does, licence, Qt and QCustomPlot).
    static QString aboutText();
    /// A dialog listing shortcuts(); the caller owns it.
    static QWidget* shortcutsDialog(QMainWindow* window);
};

} // namespace mpq::gui
