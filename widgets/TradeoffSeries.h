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

/// The points of one method in the α trade-off view (MG-PTQ α sweep, MXQ budget sweep, GPTQ
/// uniform bit-widths). Plain data.
struct TradeoffSeries {
    QString method;            ///< legend name, e.g. "MG-PTQ (GCN)"
    QString knobName;          ///< "α", "target bits", "budget (bits)", "bits"
    bool liveResolve = false;  ///< true for MXQ: the slider re-solves the program from cached costs
    std::vector<TradeoffPoint> points;

    /// Index of the point whose knob is nearest to `knob` (-1 when there are no points).
    int nearest(double knob) const;
};

} // namespace mpq::gui
