#include "HessianGraphData.h"

#include <algorithm>
#include <cmath>

namespace mpq::gui {

double HessianGraphData::weight(int64_t i, int64_t j) const
{
    if (i < 0 || j < 0 || i >= cols || j >= cols)
        return 0.0;
    if (edges.empty())
        return adjacency.size() == size_t(cols) * size_t(cols) ? double(adjacency[size_t(i * cols + j)]) : 0.0;
    const int32_t a = int32_t(std::min(i, j)), b = int32_t(std::max(i, j));
    const auto it = std::lower_bound(edges.begin(), edges.end(), std::pair<int32_t, int32_t>(a, b),
                                     [](const Edge& e, const std::pair<int32_t, int32_t>& k) {
                                         return e.i != k.first ? e.i < k.first : e.j < k.second;
                                     });
    return it != edges.end() && it->i == a && it->j == b ? double(it->w) : 0.0;
}

void HessianGraphData::normalise(std::vector<Edge>& e)
{
    for (Edge& x : e)
        if (x.i > x.j)
            std::swap(x.i, x.j);
    e.erase(std::remove_if(e.begin(), e.end(), [](const Edge& x) { return !(x.w > 0) || !std::isfinite(x.w); }),
            e.end());
    // By (i, j), the heaviest first within a pair, then one entry per pair.
    std::sort(e.begin(), e.end(), [](const Edge& p, const Edge& q) {
        return p.i != q.i ? p.i < q.i : (p.j != q.j ? p.j < q.j : p.w > q.w);
    });
    e.erase(std::unique(e.begin(), e.end(), [](const Edge& p, const Edge& q) { return p.i == q.i && p.j == q.j; }),
            e.end());
}

std::vector<HessianGraphData::Edge> HessianGraphData::symmetricEdges() const
{
    if (!edges.empty() || cols <= 0 || adjacency.size() != size_t(cols) * size_t(cols))
        return edges;
    std::vector<Edge> out;
    for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = i; j < cols; ++j) {
            const float w = std::max(adjacency[size_t(i * cols + j)], adjacency[size_t(j * cols + i)]);
            if (w > 0 && std::isfinite(w))
                out.push_back({int32_t(i), int32_t(j), w});
        }
    return out;
}

} // namespace mpq::gui
