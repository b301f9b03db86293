#include "GgufCurveBuilder.h"

#include "core/Error.h"

#include <QFile>
#include <QMetaObject>

#include <chrono>

namespace mpq::gui {

GgufCurveBuilder::GgufCurveBuilder(QObject* parent) : QObject(parent) { qRegisterMetaType<GgufCurve>(); }

quint64 GgufCurveBuilder::request(const QString& path)
{
    const quint64 generation = ++m_latest;
    QMetaObject::invokeMethod(this, [this, generation, path] { build(generation, path); }, Qt::QueuedConnection);
    return generation;
}

void GgufCurveBuilder::build(quint64 generation, const QString& path)
{
    if (generation != m_latest.load())
        return; // a newer table is queued behind this one
    try {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            throw Error(path.toStdString() + ": cannot read the GGUF cost table (" + file.errorString().toStdString() + ")");
        const QByteArray text = file.readAll();
        const GgufCostTable table = ggufCostTableFromJson(text.toStdString(), path.toStdString());
        const auto t0 = std::chrono::steady_clock::now();
        GgufCurve curve;
        curve.generation = generation;
        curve.source = path;
        // The engine's defaults (10⁻⁴ gap): a few dozen solves of one table, done once per table.
        curve.tradeoff = ggufTradeoff(table, ggufTradeoffBudgets(table, kBudgetPoints));
        curve.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        Q_EMIT built(curve);
    } catch (const std::exception& e) {
        Q_EMIT failed(generation, QString::fromStdString(e.what()));
    }
}

} // namespace mpq::gui
