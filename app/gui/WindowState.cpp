#include "WindowState.h"

#include <QMainWindow>
#include <QSettings>

namespace mpq::gui {

void WindowState::save(const QMainWindow* window)
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), window->saveGeometry());
    s.setValue(QStringLiteral("window/state"), window->saveState(kVersion));
}

bool WindowState::restore(QMainWindow* window)
{
    QSettings s;
    const QByteArray geometry = s.value(QStringLiteral("window/geometry")).toByteArray();
    const QByteArray state = s.value(QStringLiteral("window/state")).toByteArray();
    bool ok = false;
    if (!geometry.isEmpty())
        ok = window->restoreGeometry(geometry);
    if (!state.isEmpty())
        ok = window->restoreState(state, kVersion) && ok;
    return ok;
}

} // namespace mpq::gui
