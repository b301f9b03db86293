#pragma once

#include "KnobScale.h"
#include "PlotView.h"
#include "TradeoffSeries.h"

#include <QMap>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace mpq::gui {

/// The α trade-off: average bits per weight against perplexity for every method of the session,
/// one series per method and knob (MG-PTQ with α and MG-PTQ with target bits are two series,
/// each labelled with its knob), with a slider that walks the chosen series' knob (α, target
/// bits, MXQ budget, bits); the points of that series carry their knob values. Moving the
/// slider highlights the nearest computed point and asks for its run to be shown (pointChosen);
/// for MXQ it also asks for a live re-solve of the mixed integer program (liveResolveRequested);
/// releasing it can ask for a full quantization + evaluation at the new value. GUI thread only.
class TradeoffView : public PlotView {
    Q_OBJECT
public:
    explicit TradeoffView(QWidget* parent = nullptr);

    /// Replaces the curves. `reference` is the unquantized model's perplexity on `dataset`
    /// (≤ 0: none). Keeps the chosen method when it is still there.
    void setSeries(const std::vector<TradeoffSeries>& series, const QString& dataset, double reference);
    /// Marks an MXQ solution that is not evaluated yet (a vertical line at its average bits).
    void setResolved(double avgBits, const QString& text);
    void clearResolved();

    /// Chooses the series whose knob the slider moves (TradeoffSeries::method); false when absent.
    bool setCurrentMethod(const QString& method);
    /// Puts the slider on `run`: chooses the series that has it and moves to its knob, without
    /// emitting pointChosen (the run is shown already). False when no series has the run (not
    /// complete, or not evaluated on any knob). Nothing moves while `run` is already the point
    /// under the slider, so that a drag is never snapped back.
    bool followRun(const QString& run);
    /// Moves the slider as a person would (emits the same signals). For tests and the benchmark.
    void moveSlider(int position);
    int sliderSteps() const;
    /// The chosen method (legend name) and the knob value under the slider.
    QString currentMethod() const;
    double currentKnob() const;
    QString dataset() const;

Q_SIGNALS:
    /// The nearest computed point changed: show this run.
    void pointChosen(const QString& run);
    /// MXQ: solve the program again for this budget (bits per weight).
    void liveResolveRequested(double budget);
    /// The slider was released with "quantize on release" checked, away from every computed point:
    /// `family` (e.g. "MG-PTQ (GCN)") at `knob` on `axis` ("alpha", "target-bits", "budget", "bits").
    void fullRunRequested(const QString& family, const QString& axis, double knob);
    /// The data set of the perplexity axis changed.
    void datasetChanged(const QString& dataset);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void rebuildSlider();
    void onSlider(int position);
    void onReleased();
    const TradeoffSeries* current() const;
    void redraw();

    std::vector<TradeoffSeries> m_series;
    QString m_dataset;
    double m_reference = -1;
    KnobScale m_scale;
    QString m_lastRun;
    QString m_sliderSeries;   ///< the series the slider was last built for
    double m_sliderKnob = 0;  ///< its knob under the slider (kept when results arrive)

    QComboBox* m_method = nullptr;
    QComboBox* m_datasetBox = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_knobLabel = nullptr;
    QCheckBox* m_runOnRelease = nullptr;
    QCPGraph* m_highlight = nullptr;
    QCPItemStraightLine* m_referenceLine = nullptr;
    QCPItemStraightLine* m_resolvedLine = nullptr;
    QCPItemText* m_resolvedText = nullptr;
    std::vector<QCPGraph*> m_graphs;
    std::vector<QCPItemText*> m_pointLabels;
};

} // namespace mpq::gui
