#include "MatrixResult.h"

namespace mpq::gui {

double MatrixResult::averageBits() const
{
    if (columnBits.empty())
        return 0;
    double sum = 0;
    for (uint8_t b : columnBits)
        sum += b;
    return sum / double(columnBits.size());
}

QString MatrixResult::label() const
{
    return QStringLiteral("layer %1 · %2").arg(layer).arg(linear);
}

} // namespace mpq::gui
