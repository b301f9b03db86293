#include "alloc/detail/ColumnAllocator.h"
#include "alloc/detail/MgptqTrain.h"

#include "core/Error.h"
#include "pipeline/QuantizeJob.h"

namespace mpq::detail {

std::unique_ptr<ColumnAllocator> makeColumnAllocator(const QuantizeParams& params)
{
    if (params.allocator.empty())
        return nullptr;
    std::string name = params.allocator;
    if (name == "mgptq") // the model named in the options: gcn | mlp | hessian-greedy
        name = params.mgptq.model == "hessian-greedy" ? "hessian-greedy" : "mgptq-" + params.mgptq.model;
    // GPTQ's column order, so that the plan is made in the order the quantizer applies it.
    const MgptqColumnOrder order{params.actOrder, params.staticGroups};
    if (name == "mgptq-gcn")
        return std::make_unique<MgptqAllocator>(params.mgptq, true, params.symmetric, order);
    if (name == "mgptq-mlp")
        return std::make_unique<MgptqAllocator>(params.mgptq, false, params.symmetric, order);
    if (name == "hessian-greedy")
        return std::make_unique<HessianGreedyAllocator>(params.mgptq, params.symmetric);
    throw Error("unknown column allocator \"" + params.allocator +
                "\" (expected mgptq-gcn, mgptq-mlp or hessian-greedy)");
}

} // namespace mpq::detail
