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

QString JobRequest::describe() const
{
    switch (kind) {
    case Kind::Quantize: return QStringLiteral("%1: %2 point(s)").arg(method).arg(values.size());
    case Kind::Reference: return QStringLiteral("evaluate the unquantized model");
    case Kind::Evaluate: return QStringLiteral("evaluate %1 on %2").arg(run, evalDatasets.join(QStringLiteral(", ")));
    case Kind::Export: return QStringLiteral("export %1 as %2 to %3").arg(run, exportFormat, exportDir);
    case Kind::Resume: return QStringLiteral("resume %1").arg(run);
    case Kind::Rename: return QStringLiteral("rename %1 to %2").arg(run, newName);
    case Kind::Delete: return QStringLiteral("delete %1").arg(run);
    case Kind::Override: return QStringLiteral("override %1 as %2").arg(run, newName);
    }
    return {};
}

} // namespace mpq::gui
