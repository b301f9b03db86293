#pragma once

#include <QString>

#include <vector>

namespace mpq::gui {

/// One computed point of a trade-off curve: a run at one value of the method's knob.
struct TradeoffPoint {
    double knob = 0;           ///< α, target bits, MXQ budget or uniform bit-width
    double avgBits = 0;        ///< average bits per weight, scales and zeros included
    double perplexity = -1;    ///< on the series' data set; negative when not evaluated yet
    QString run;               ///< RunData::name of the run behind the point
};

/// The points of one method at one knob in the α trade-off view (MG-PTQ α sweep, MG-PTQ target
/// bits, MXQ budget sweep, GPTQ uniform bit-widths): runs of one method made with different knobs
/// are different series, so that the slider never mixes α with target bits. Plain data.
struct TradeoffSeries {
    QString method;            ///< series name, e.g. "MG-PTQ (GCN) · α" (unique in a view)
    QString family;            ///< method family (legend colour), e.g. "MG-PTQ (GCN)"
    QString axis;              ///< "alpha", "target-bits", "budget" or "bits"
    QString knobName;          ///< "α", "target bits", "budget (bits/weight)", "bits"
    bool liveResolve = false;  ///< true for MXQ: the slider re-solves the program from cached costs
    std::vector<TradeoffPoint> points;

    /// Index of the point whose knob is nearest to `knob` (-1 when there are no points).
    int nearest(double knob) const;
};

} // namespace mpq::gui
