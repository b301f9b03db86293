#pragma once

#include <QPalette>

namespace mpq::gui {

/// Light or dark, as the desktop asks. With Qt ≥ 6.5 the platform's colour scheme decides; before,
/// a dark platform palette or GTK_THEME ending in ":dark"/"-dark". MPQ_WORKBENCH_THEME=dark|light
/// overrides both. A dark choice switches to the Fusion style with dark(); the plots follow the
/// palette (PlotView::applyTheme). GUI thread only; call once, before the main window is shown.
struct Theme {
    enum class Choice { Light, Dark };
    /// What the environment asks for.
    static Choice fromEnvironment();
    /// Applies `choice` to the application (Dark: Fusion + dark(); Light: left as the platform has it).
    static void apply(Choice choice);
    /// fromEnvironment() then apply().
    static void followSystem() { apply(fromEnvironment()); }
    /// The dark palette used.
    static QPalette dark();
};

} // namespace mpq::gui
