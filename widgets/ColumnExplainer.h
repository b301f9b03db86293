#pragma once

#include "session/ColumnExplain.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>

namespace mpq::gui {

/// Runs session::explainColumn for the Explain dock off the GUI thread: request() returns at once
/// and the work runs on the thread this object lives on (move it to a QThread of its own, so that
/// a long quantization job on the job worker does not hold it up). The newest request wins: a
/// queued request that is no longer the latest is skipped, and receivers drop results whose
/// generation is not latest(). Signals arrive on the receivers' thread.
class ColumnExplainer : public QObject {
    Q_OBJECT
public:
    explicit ColumnExplainer(QObject* parent = nullptr);

    /// Queues the explanation of `column` of `tensor` in run `run` of session `sessionFile`.
    quint64 request(const QString& sessionFile, const QString& run, const QString& tensor, qint64 column);
    quint64 latest() const { return m_latest.load(); }

Q_SIGNALS:
    void explained(quint64 generation, const mpq::session::ColumnExplanation& explanation);
    /// The engine's message (an unknown run, a column out of range, a damaged file).
    void failed(quint64 generation, const QString& message);

private:
    void explain(quint64 generation, const QString& sessionFile, const QString& run, const QString& tensor,
                 qint64 column);

    std::atomic<quint64> m_latest{0};
};

} // namespace mpq::gui

Q_DECLARE_METATYPE(mpq::session::ColumnExplanation)
