#pragma once

#include "GraphLayout.h"
#include "HessianGraphData.h"
#include "LogScale.h"

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// What the Hessian graph view draws of one matrix, derived once from its HessianGraphData in
/// O(edges + columns) — never from a cols² matrix — so that zoom, pan, the order switch and a
/// second show of the same matrix cost only the drawing: the log colour scale, the heat map
/// max-pooled into at most maxCells × maxCells cells in natural and in act-order, the strongest
/// edges, and the node dots of the circle (at most maxDots; each the mean bits of k adjacent
/// positions when the columns outnumber them). Pure data and maths, tested without a window.
struct HessianGraphSummary {
    /// One drawn node: its place on the unit circle and its (mean, rounded) bit-width, 0 = none.
    struct Dot {
        double x = 0, y = 0;
        int bits = 0;
    };

    int64_t cols = 0;
    LogScale scale;
    int64_t block = 1;                  ///< columns per heat-map cell side (1: exact)
    int cells = 0;                      ///< heat-map cells a side
    std::vector<int64_t> actOrder;      ///< act-order position → column
    std::vector<float> heatNatural;     ///< cells × cells, row-major, strongest coupling per block (0: none)
    std::vector<float> heatActOrder;    ///< the same with rows and columns in act-order
    std::vector<GraphLayout::Edge> strongest;  ///< the heaviest edges i < j, strongest first
    int64_t columnsPerDot = 1;
    std::vector<Dot> dotsNatural, dotsActOrder;

    static HessianGraphSummary compute(const HessianGraphData& g, int64_t maxCells, int maxEdges, int maxDots);
    const std::vector<float>& heat(bool act) const { return act ? heatActOrder : heatNatural; }
    const std::vector<Dot>& dots(bool act) const { return act ? dotsActOrder : dotsNatural; }
};

} // namespace mpq::gui
