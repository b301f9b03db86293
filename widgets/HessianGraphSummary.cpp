#include "HessianGraphSummary.h"

#include <algorithm>
#include <cmath>

namespace mpq::gui {

namespace {

/// Max-pools the symmetric edges into a cells × cells grid of k × k blocks of positions.
std::vector<float> pool(const std::vector<HessianGraphData::Edge>& edges, const std::vector<int64_t>& position,
                        int64_t k, int cells)
{
    std::vector<float> out(size_t(cells) * size_t(cells), 0.f);
    const auto pos = [&](int32_t c) { return position.empty() ? int64_t(c) : position[size_t(c)]; };
    for (const HessianGraphData::Edge& e : edges) {
        const size_t a = size_t(pos(e.i) / k), b = size_t(pos(e.j) / k);
        float& ab = out[a * size_t(cells) + b];
        float& ba = out[b * size_t(cells) + a];
        ab = std::max(ab, e.w);
        ba = std::max(ba, e.w);
    }
    return out;
}

/// Dots around the circle for positions 0..n-1 (order[p] the column at position p, empty:
/// natural), `per` positions each, at the angle of their middle, coloured by the rounded mean bits.
std::vector<HessianGraphSummary::Dot> dotsFor(const std::vector<int64_t>& order, const std::vector<uint8_t>& bits,
                                              int64_t n, int64_t per)
{
    std::vector<HessianGraphSummary::Dot> out;
    const double pi = std::acos(-1.0);
    for (int64_t p0 = 0; p0 < n; p0 += per) {
        const int64_t p1 = std::min(n, p0 + per);
        double sum = 0;
        int64_t counted = 0;
        for (int64_t p = p0; p < p1; ++p) {
            const int64_t c = order.empty() ? p : order[size_t(p)];
            if (c < int64_t(bits.size()) && bits[size_t(c)] > 0) {
                sum += bits[size_t(c)];
                ++counted;
            }
        }
        // The same angles as GraphLayout::circular: from the top, clockwise.
        const double mid = double(p0 + p1 - 1) / 2;
        const double t = pi / 2 - 2 * pi * mid / double(std::max<int64_t>(n, 1));
        out.push_back({std::cos(t), std::sin(t), counted ? int(std::lround(sum / double(counted))) : 0});
    }
    return out;
}

} // namespace

HessianGraphSummary HessianGraphSummary::compute(const HessianGraphData& g, int64_t maxCells, int maxEdges,
                                                 int maxDots)
{
    HessianGraphSummary s;
    const int64_t n = g.cols;
    s.cols = n;
    if (n <= 0)
        return s;
    std::vector<HessianGraphData::Edge> edges = g.symmetricEdges();
    std::vector<float> weights;
    weights.reserve(edges.size());
    for (const auto& e : edges)
        weights.push_back(e.w);
    s.scale = LogScale::fit(weights.data(), (long long)weights.size());

    s.actOrder = g.actOrder.size() == size_t(n) ? g.actOrder : GraphLayout::actOrder(g.diagonal);
    std::vector<int64_t> position(size_t(n), 0);
    for (int64_t p = 0; p < int64_t(s.actOrder.size()); ++p)
        position[size_t(s.actOrder[size_t(p)])] = p;

    // Wide matrices: each heat-map cell is the strongest coupling of a k×k block of columns (max
    // pooling keeps strong edges visible), at most maxCells a side — about the plot's pixels.
    s.block = (n + maxCells - 1) / maxCells;
    s.cells = int((n + s.block - 1) / s.block);
    s.heatNatural = pool(edges, {}, s.block, s.cells);
    s.heatActOrder = s.actOrder.size() == size_t(n) ? pool(edges, position, s.block, s.cells) : s.heatNatural;

    // The strongest edges (self loops left out), as GraphLayout::circular chose them.
    std::vector<GraphLayout::Edge> all;
    for (const auto& e : edges)
        if (e.i < e.j)
            all.push_back({e.i, e.j, double(e.w)});
    const size_t keep = std::min(all.size(), size_t(std::max(maxEdges, 0)));
    std::partial_sort(all.begin(), all.begin() + long(keep), all.end(),
                      [](const GraphLayout::Edge& p, const GraphLayout::Edge& q) {
                          return p.weight != q.weight ? p.weight > q.weight
                                                      : (p.a != q.a ? p.a < q.a : p.b < q.b);
                      });
    all.resize(keep);
    s.strongest = std::move(all);

    s.columnsPerDot = maxDots > 0 && n > maxDots ? (n + maxDots - 1) / maxDots : 1;
    s.dotsNatural = dotsFor({}, g.bits, n, s.columnsPerDot);
    s.dotsActOrder = dotsFor(s.actOrder, g.bits, n, s.columnsPerDot);
    return s;
}

} // namespace mpq::gui
