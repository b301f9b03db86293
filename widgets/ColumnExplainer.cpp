#include "ColumnExplainer.h"

#include <QMetaObject>

namespace mpq::gui {

ColumnExplainer::ColumnExplainer(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<mpq::session::ColumnExplanation>();
}

quint64 ColumnExplainer::request(const QString& sessionFile, const QString& run, const QString& tensor, qint64 column)
{
    const quint64 generation = ++m_latest;
    QMetaObject::invokeMethod(
        this, [=] { explain(generation, sessionFile, run, tensor, column); }, Qt::QueuedConnection);
    return generation;
}

void ColumnExplainer::explain(quint64 generation, const QString& sessionFile, const QString& run,
                              const QString& tensor, qint64 column)
{
    if (generation != m_latest.load())
        return; // a newer click is queued behind this one
    try {
        const auto e = session::explainColumn(sessionFile.toStdString(), run.toStdString(), tensor.toStdString(), column);
        Q_EMIT explained(generation, e);
    } catch (const std::exception& e) {
        Q_EMIT failed(generation, QString::fromStdString(e.what()));
    }
}

} // namespace mpq::gui
