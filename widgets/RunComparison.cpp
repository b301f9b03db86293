#include "RunComparison.h"

#include "Workbench.h"

#include <QMap>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpq::gui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

std::vector<MatrixComparison> RunComparison::matrices(const std::vector<const RunData*>& runs)
{
    std::vector<MatrixComparison> out;
    QMap<QString, size_t> row;
    const size_t n = runs.size();
    for (size_t i = 0; i < n; ++i)
        for (const MatrixResult& m : runs[i]->matrices) {
            if (row.contains(m.tensor))
                continue;
            MatrixComparison c;
            c.tensor = m.tensor;
            c.layer = m.layer;
            c.linear = m.linear;
            c.cols = int64_t(m.columnBits.size());
            c.avgBits.assign(n, kNaN);
            c.error.assign(n, kNaN);
            row.insert(m.tensor, out.size());
            out.push_back(std::move(c));
        }
    for (MatrixComparison& c : out) {
        std::vector<const MatrixResult*> have(n, nullptr);
        double lo = kNaN, hi = kNaN;
        for (size_t i = 0; i < n; ++i) {
            have[i] = runs[i]->find(c.tensor);
            if (!have[i]) {
                c.inAll = false;
                continue;
            }
            const double avg = have[i]->averageBits();
            c.avgBits[i] = avg;
            lo = std::isnan(lo) ? avg : std::min(lo, avg);
            hi = std::isnan(hi) ? avg : std::max(hi, avg);
            const double e = have[i]->outputError >= 0 ? have[i]->outputError : have[i]->frobeniusError;
            c.error[i] = e >= 0 ? e : kNaN;
        }
        c.spread = std::isnan(lo) ? 0 : hi - lo;
        const MatrixResult* first = nullptr;
        for (const MatrixResult* m : have)
            if (m && !first)
                first = m;
        for (int64_t j = 0; first && j < int64_t(first->columnBits.size()); ++j) {
            for (const MatrixResult* m : have)
                if (m && (j >= int64_t(m->columnBits.size()) || m->columnBits[size_t(j)] != first->columnBits[size_t(j)])) {
                    ++c.changedColumns;
                    break;
                }
        }
    }
    return out;
}

ColumnGrid RunComparison::difference(const RunData& a, const RunData& b, QStringList* tensors, QStringList* labels)
{
    ColumnGrid g;
    for (const MatrixResult& ma : a.matrices) {
        const MatrixResult* mb = b.find(ma.tensor);
        if (!mb || mb->columnBits.size() != ma.columnBits.size())
            continue;
        std::vector<int8_t> d(ma.columnBits.size());
        double sum = 0;
        for (size_t j = 0; j < d.size(); ++j) {
            d[j] = int8_t(int(mb->columnBits[j]) - int(ma.columnBits[j]));
            sum += d[j];
        }
        if (tensors)
            *tensors << ma.tensor;
        if (labels)
            *labels << QStringLiteral("L%1 %2  %3%4")
                           .arg(ma.layer)
                           .arg(ma.linear)
                           .arg(sum >= 0 ? QStringLiteral("+") : QString())
                           .arg(d.empty() ? 0.0 : sum / double(d.size()), 0, 'f', 2);
        g.rows.push_back(std::move(d));
    }
    return g;
}

QString RunComparison::settingsText(const RunData& r)
{
    QStringList parts;
    const QString knob = Workbench::knobText(r);
    if (!knob.isEmpty())
        parts << knob;
    if (!r.matrices.empty()) {
        const MatrixResult& m = r.matrices.front();
        if (!m.quantizer.isEmpty())
            parts << m.quantizer;
        parts << (m.groupSize > 0 ? QStringLiteral("group %1").arg(m.groupSize) : QStringLiteral("per-channel"));
    }
    if (!r.status.isEmpty() && r.status != QLatin1String("complete"))
        parts << r.status;
    return parts.join(QStringLiteral(" · "));
}

} // namespace mpq::gui
