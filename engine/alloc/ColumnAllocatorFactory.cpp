#include "alloc/detail/ColumnAllocator.h"

#include "core/Error.h"
#include "pipeline/QuantizeJob.h"

namespace mpq::detail {

std::unique_ptr<ColumnAllocator> makeColumnAllocator(const QuantizeParams& params)
{
    if (params.allocator.empty())
        return nullptr;
    throw Error("unknown column allocator \"" + params.allocator + "\"");
}

} // namespace mpq::detail
