#include "alloc/detail/ColumnAllocator.h"
#include "alloc/mgptq/detail/MgptqTrain.h"

#include "pipeline/Method.h"

namespace mpq::detail {

std::unique_ptr<ColumnAllocator> makeColumnAllocator(const std::string& name, const MgptqOptions& options,
                                                     bool symmetric, bool actOrder, bool staticGroups)
{
    const std::optional<ColumnAllocatorKind> kind = parseColumnAllocator(name, options);
    if (!kind)
        return nullptr;
    const MgptqColumnOrder order{actOrder, staticGroups};
    switch (*kind) {
    case ColumnAllocatorKind::MgptqGcn:
        return std::make_unique<MgptqAllocator>(options, true, symmetric, order);
    case ColumnAllocatorKind::MgptqMlp:
        return std::make_unique<MgptqAllocator>(options, false, symmetric, order);
    case ColumnAllocatorKind::HessianGreedy:
        return std::make_unique<HessianGreedyAllocator>(options, symmetric);
    }
    return nullptr;
}

} // namespace mpq::detail
