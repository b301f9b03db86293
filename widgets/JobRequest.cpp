#include "JobRequest.h"

namespace mpq::gui {

QString JobRequest::pointName(size_t i) const
{
    const double v = i < values.size() ? values[i] : 0.0;
    if (kind == Kind::Reference)
        return QStringLiteral("reference");
    if (axis == QLatin1String("alpha"))
        return QStringLiteral("%1-alpha%2").arg(method).arg(v, 0, 'g', 4);
    if (axis == QLatin1String("target-bits"))
        return QStringLiteral("%1-target%2").arg(method).arg(v, 0, 'g', 4);
    if (axis == QLatin1String("budget"))
        return QStringLiteral("%1-%2bits").arg(method).arg(v, 0, 'g', 4);
    return QStringLiteral("%1-%2bit").arg(method).arg(v, 0, 'g', 3);
}

} // namespace mpq::gui
