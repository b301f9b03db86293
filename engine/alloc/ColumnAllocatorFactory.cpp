#include "alloc/detail/ColumnAllocator.h"
#include "alloc/detail/MgptqTrain.h"

#include "pipeline/Method.h"
#include "pipeline/QuantizeJob.h"

namespace mpq::detail {

std::unique_ptr<ColumnAllocator> makeColumnAllocator(const QuantizeParams& params)
{
    const std::optional<ColumnAllocatorKind> kind = parseColumnAllocator(params.allocator, params.mgptq);
    if (!kind)
        return nullptr;
    // GPTQ's column order, so that the plan is made in the order the quantizer applies it.
    const MgptqColumnOrder order{params.actOrder, params.staticGroups};
    switch (*kind) {
    case ColumnAllocatorKind::MgptqGcn:
        return std::make_unique<MgptqAllocator>(params.mgptq, true, params.symmetric, order);
    case ColumnAllocatorKind::MgptqMlp:
        return std::make_unique<MgptqAllocator>(params.mgptq, false, params.symmetric, order);
    case ColumnAllocatorKind::HessianGreedy:
        return std::make_unique<HessianGreedyAllocator>(params.mgptq, params.symmetric);
    }
    return nullptr;
}

} // namespace mpq::detail
