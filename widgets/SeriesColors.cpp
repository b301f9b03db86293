#include "SeriesColors.h"

namespace mpq::gui {

QColor SeriesColors::color(const QString& family)
{
    if (family.startsWith(QLatin1String("MG-PTQ (GCN)")))
        return QColor(0xd5, 0x5e, 0x00);
    if (family.startsWith(QLatin1String("MG-PTQ (MLP)")))
        return QColor(0xcc, 0x79, 0xa7);
    if (family == QLatin1String("MXQ"))
        return QColor(0x00, 0x72, 0xb2);
    if (family == QLatin1String("GPTQ"))
        return QColor(0x00, 0x9e, 0x73);
    if (family == QLatin1String("Hessian-greedy"))
        return QColor(0x99, 0x99, 0x99);
    if (family == QLatin1String("HQQ"))
        return QColor(0x56, 0xb4, 0xe9);
    if (family == QLatin1String("RTN"))
        return QColor(0x80, 0x80, 0x00);
    // Anything else: a stable colour from the name.
    return QColor::fromHsv(int(qHash(family) % 360), 160, 180);
}

} // namespace mpq::gui
