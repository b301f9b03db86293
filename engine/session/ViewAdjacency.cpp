// The sparsified adjacency stored for viewing: MG-PTQ's own graph construction (engine/alloc,
// unchanged), reduced to each node's strongest neighbours.
#include "session/detail/LayerSerializer.h"

#include "alloc/mgptq/detail/MgptqGraph.h"

#include <limits>

namespace mpq::session::detail {

SparseAdjacency viewAdjacency(const at::Tensor& H, const MgptqOptions& opt, int64_t k)
{
    SparseAdjacency a;
    const int64_t n = H.size(0);
    a.nodes = n;
    const int64_t kk = std::min(k, n - 1);
    if (kk <= 0)
        return a;
    const at::Tensor A = mpq::detail::hessianCoupling(H.to(at::kFloat), opt.dampPercent);
    const mpq::detail::HessianGraph g = mpq::detail::normalizedGraph(A, n > opt.denseLimit ? opt.topK : 0);
    at::Tensor vals, idx;
    if (g.dense) {
        at::Tensor m = g.adjacency.clone();
        m.diagonal().fill_(-std::numeric_limits<float>::infinity()); // leave self loops out
        std::tie(vals, idx) = at::topk(m, kk, 1);
        a.construction = "mgptq-dense";
    } else {
        // Column 0 is the self loop; the rest are the allocator's top-k neighbours.
        const at::Tensor v = g.value.slice(1, 1), i = g.index.slice(1, 1);
        at::Tensor pos;
        std::tie(vals, pos) = at::topk(v, std::min(kk, v.size(1)), 1);
        idx = i.gather(1, pos);
        a.construction = "mgptq-top-k";
    }
    a.topK = vals.size(1);
    const at::Tensor v = vals.to(at::kFloat).cpu().contiguous();
    const at::Tensor c = idx.to(at::kInt).cpu().contiguous();
    a.value.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    a.col.assign(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
    a.row.resize(a.col.size());
    for (size_t e = 0; e < a.row.size(); ++e)
        a.row[e] = int32_t(e / size_t(a.topK));
    return a;
}

} // namespace mpq::session::detail
