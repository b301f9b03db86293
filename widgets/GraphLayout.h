#pragma once

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// The node-link drawing of a Hessian graph: nodes on a circle in a given order (natural or
/// act-order, so neighbours in quantization order sit side by side) and the strongest edges.
/// Pure geometry, tested without a window.
struct GraphLayout {
    struct Edge {
        int64_t a = 0, b = 0;
        double weight = 0;
    };
    std::vector<double> x, y; ///< per column, on the unit circle
    std::vector<Edge> edges;  ///< strongest first

    /// `adjacency` is a dense row-major n×n matrix (only i < j is read). `order[k]` is the column
    /// drawn at position k (empty: natural order). Keeps the `maxEdges` heaviest positive edges.
    static GraphLayout circular(const std::vector<float>& adjacency, int64_t n,
                                const std::vector<int64_t>& order, int maxEdges);
    /// Columns by decreasing `diagonal` (ties by index): GPTQ's act-order.
    static std::vector<int64_t> actOrder(const std::vector<double>& diagonal);
};

} // namespace mpq::gui
