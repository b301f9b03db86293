#pragma once

#include "GgufCurve.h"
#include "PlotView.h"

#include <QStringList>

#include <vector>

class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QMouseEvent;

namespace mpq::gui {

/// The GGUF trade-off: llama.cpp tensor types chosen per matrix by MXQ's program (a curve over
/// budgets) beside llama.cpp's own fixed presets (labelled points), both computed by us from one
/// cost table. Top panel: bits per weight against the summed cost (log scale); bottom panel:
/// bits per weight against perplexity for the GGUF runs of the session and result folders that
/// have been evaluated. Hovering a point tells its name, size, cost and types. GUI thread only.
class GgufTradeoffView : public PlotView {
    Q_OBJECT
public:
    explicit GgufTradeoffView(QWidget* parent = nullptr);

    /// Replaces the curve and the presets (an empty curve: the caption says how to get one).
    void setCurve(const GgufCurve& curve);
    /// Shows why there is no curve (e.g. the cost table could not be read).
    void setCurveError(const QString& message);
    /// Replaces the evaluated GGUF runs of the perplexity panel.
    void setRuns(const std::vector<GgufRunPoint>& runs, const QString& dataset);

    /// For tests: what is drawn.
    int mixPoints() const;
    QStringList presetLabels() const;
    int runPoints() const;
    /// The unquantized model's perplexity drawn as the panel's level line; -1 when none.
    double unquantizedLevel() const;
    QString costAxisLabel() const;
    QString perplexityAxisLabel() const;
    /// Where the point labels (presets, runs) were last drawn, in plot pixels.
    QList<QRect> labelRects() const;
    /// The plot pixel of the cost panel's point named `name` ("Q4_K_M", "MIP 4.50"); (-1, -1) when absent.
    QPoint pointPixel(const QString& name) const;
    /// The text a hover at this plot pixel shows (empty away from every point).
    QString hoverText(const QPoint& pixel) const;

private:
    void redraw();
    void onMouseMove(QMouseEvent* event);

    GgufCurve m_curve;
    QString m_curveError;
    std::vector<GgufRunPoint> m_runs;
    QString m_dataset = QStringLiteral("wikitext2");

    QCPAxisRect* m_pplRect = nullptr;
    QCPGraph* m_mixGraph = nullptr;
    QCPGraph* m_presetGraph = nullptr;
    QCPGraph* m_mixRunGraph = nullptr;
    QCPGraph* m_presetRunGraph = nullptr;
    QCPItemText* m_pplEmpty = nullptr;
    QCPItemStraightLine* m_unquantizedLine = nullptr;
    double m_unquantizedLevel = -1;
    std::vector<QCPItemText*> m_labels;
};

} // namespace mpq::gui
