#include "MatrixResult.h"

#include "alloc/AllocationPlan.h"

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

QStringList MatrixResult::notes() const
{
    QStringList out;
    if (!fallback.isEmpty())
        out << QStringLiteral("Hessian not positive definite: %1").arg(fallback);
    if (hessianSource == QLatin1String("all-tokens"))
        out << (calibrationTokens >= 0
                    ? QStringLiteral("too few tokens were routed to this expert: its Hessian uses all %1 calibration tokens")
                          .arg(calibrationTokens)
                    : QStringLiteral("too few tokens were routed to this expert: its Hessian uses all calibration tokens"));
    return out;
}

MatrixResult MatrixResult::fromPlan(const MatrixPlan& plan)
{
    MatrixResult m;
    m.tensor = QString::fromStdString(plan.tensor);
    m.layer = int(plan.layer);
    m.linear = QString::fromStdString(plan.linear);
    m.rows = plan.rows;
    m.cols = plan.cols;
    m.columnBits = plan.columnBits;
    m.groupSize = plan.groupSize;
    m.quantizer = QString::fromStdString(plan.quantizer);
    return m;
}

} // namespace mpq::gui
