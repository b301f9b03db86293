#include "GraphLayout.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mpq::gui {

GraphLayout GraphLayout::circular(const std::vector<float>& adjacency, int64_t n,
                                  const std::vector<int64_t>& order, int maxEdges)
{
    GraphLayout g;
    g.x.assign(size_t(n), 0.0);
    g.y.assign(size_t(n), 0.0);
    const double pi = std::acos(-1.0);
    for (int64_t k = 0; k < n; ++k) {
        const int64_t col = order.empty() ? k : order[size_t(k)];
        // Start at the top and go clockwise, as one reads a clock.
        const double t = pi / 2 - 2 * pi * double(k) / double(std::max<int64_t>(n, 1));
        g.x[size_t(col)] = std::cos(t);
        g.y[size_t(col)] = std::sin(t);
    }
    if (maxEdges <= 0 || adjacency.size() < size_t(n * n))
        return g;
    std::vector<Edge> all;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j) {
            const double w = adjacency[size_t(i * n + j)];
            if (w > 0 && std::isfinite(w))
                all.push_back({i, j, w});
        }
    const size_t keep = std::min(all.size(), size_t(maxEdges));
    std::partial_sort(all.begin(), all.begin() + long(keep), all.end(), [](const Edge& p, const Edge& q) {
        return p.weight != q.weight ? p.weight > q.weight : (p.a != q.a ? p.a < q.a : p.b < q.b);
    });
    all.resize(keep);
    g.edges = std::move(all);
    return g;
}

std::vector<int64_t> GraphLayout::actOrder(const std::vector<double>& diagonal)
{
    std::vector<int64_t> order(diagonal.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return diagonal[size_t(a)] > diagonal[size_t(b)]; });
    return order;
}

} // namespace mpq::gui
