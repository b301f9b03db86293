#pragma once

#include "GgufCurve.h"

#include <QObject>

#include <atomic>

namespace mpq::gui {

/// Reads a GGUF cost table ("mpq-gguf-costs" JSON, `mpq quantize --method gguf-mxq --gguf-costs
/// FILE`) and computes its trade-off (engine's ggufTradeoff: the MIP at every budget of
/// ggufTradeoffBudgets, and every llama.cpp preset) on the thread this object lives on (move it
/// to the worker QThread). request() is called on the GUI thread and returns at once; the newest
/// request wins (older queued ones are skipped, receivers drop results whose generation is not
/// latest()). built()/failed() reach the receivers on their thread.
class GgufCurveBuilder : public QObject {
    Q_OBJECT
public:
    explicit GgufCurveBuilder(QObject* parent = nullptr);

    /// Budgets on the curve (ggufTradeoffBudgets' `points`).
    static constexpr int kBudgetPoints = 49;

    /// Queues the trade-off of the cost table in `path`; returns the request's generation.
    quint64 request(const QString& path);
    quint64 latest() const { return m_latest.load(); }

Q_SIGNALS:
    void built(const mpq::gui::GgufCurve& curve);
    void failed(quint64 generation, const QString& message);

private:
    void build(quint64 generation, const QString& path);

    std::atomic<quint64> m_latest{0};
};

} // namespace mpq::gui
