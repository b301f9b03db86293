#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// The Hessian graph of one weight matrix for viewing: the nodes are the input columns, the
/// weighted adjacency the (sparsified) coupling the allocator used, the diagonal H_jj, and the
/// assigned bit-widths. Plain data; `available` is false when the run stored no Hessian. Filled
/// from a session by SessionReader::hessianGraph().
struct HessianGraphData {
    bool available = false;
    QString tensor;
    QString source;                 ///< where the numbers come from (or why there are none), shown in the caption
    int64_t cols = 0;
    std::vector<double> diagonal;   ///< H_jj per column
    std::vector<uint8_t> bits;      ///< assigned bit-width per column (may be empty)
    std::vector<int64_t> actOrder;  ///< permutation by decreasing H_jj (empty: computed on demand)
    /// Adjacency as a dense row-major cols×cols matrix of non-negative weights (symmetric).
    std::vector<float> adjacency;

    double weight(int64_t i, int64_t j) const { return double(adjacency[size_t(i * cols + j)]); }
};

} // namespace mpq::gui
