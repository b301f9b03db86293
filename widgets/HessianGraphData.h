#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace mpq::gui {

/// The Hessian graph of one weight matrix for viewing: the nodes are the input columns, the
/// weighted adjacency the (sparsified) coupling the allocator used, the diagonal H_jj, and the
/// assigned bit-widths. Plain data; `available` is false when the run stored no Hessian. Filled
/// from a session by SessionReader::hessianGraph().
///
/// The coupling comes either as `edges` (sparse: what a session stores, 16 neighbours per column,
/// so an 11008-column down_proj is ~176 k edges rather than an 11008² matrix) or, for small
/// hand-made graphs, as the dense `adjacency`; the views read it through weight() or
/// symmetricEdges() and never expand it.
struct HessianGraphData {
    /// One coupling of the symmetric adjacency, i ≤ j (i == j: a self loop), weight > 0.
    struct Edge {
        int32_t i = 0, j = 0;
        float w = 0;
    };

    bool available = false;
    QString tensor;
    QString source;                 ///< where the numbers come from (or why there are none), shown in the caption
    /// Identifies the stored graph (session file, run and its creation time, tensor): views cache
    /// what they derive from it under this key. Empty: not cached.
    QString key;
    int64_t cols = 0;
    std::vector<double> diagonal;   ///< H_jj per column
    std::vector<uint8_t> bits;      ///< assigned bit-width per column (may be empty)
    std::vector<int64_t> actOrder;  ///< permutation by decreasing H_jj (empty: computed on demand)
    /// Sparse symmetric adjacency: one entry per pair, i ≤ j, sorted by (i, j), no duplicates.
    std::vector<Edge> edges;
    /// Dense row-major cols×cols adjacency of non-negative weights (symmetric); used only when
    /// `edges` is empty (small graphs made by hand, tests).
    std::vector<float> adjacency;

    /// Whether a coupling is present in either form.
    bool hasCoupling() const
    {
        return !edges.empty() || (cols > 0 && adjacency.size() == size_t(cols) * size_t(cols));
    }
    /// The weight between columns i and j (0 when not stored).
    double weight(int64_t i, int64_t j) const;
    /// The coupling as sorted, symmetric (i ≤ j) edges: `edges`, or made from the dense
    /// `adjacency` (the larger of (i, j) and (j, i)).
    std::vector<Edge> symmetricEdges() const;
    /// Sorts `e` by (i, j) with i ≤ j, keeping the largest weight of duplicates and dropping
    /// non-positive or non-finite ones.
    static void normalise(std::vector<Edge>& e);
};

} // namespace mpq::gui
