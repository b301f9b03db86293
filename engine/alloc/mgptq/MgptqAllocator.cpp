#include "alloc/mgptq/HessianGreedy.h"
#include "alloc/mgptq/Mgptq.h"
#include "alloc/mgptq/detail/MgptqTrain.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/detail/DeviceMemory.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace mpq::detail {

MgptqAllocator::MgptqAllocator(MgptqOptions options, bool useGraph, bool symmetric, MgptqColumnOrder order)
    : m_options(std::move(options)), m_useGraph(useGraph), m_symmetric(symmetric), m_order(order)
{
    validateMgptqOptions(m_options, true);
}

MatrixPlan MgptqAllocator::allocate(const MatrixPlan& base, const at::Tensor& W, const at::Tensor& H, JobContext& ctx)
{
    GridOptions grid;
    grid.groupSize = base.groupSize;
    grid.symmetric = m_symmetric;
    const DevicePeakScope memory(W.device());
    const MgptqResult r = allocateMgptq(W, H, m_options, grid, m_useGraph, &ctx, m_order);
    MatrixPlan m = base;
    m.columnBits = r.columnBits;
    m.predictedCost = r.predictedCost;
    m.storageBits = r.bitsWithOverhead * double(W.size(0)) * double(W.size(1));
    nlohmann::json j = nlohmann::json::parse(r.toJson());
    j["allocator"] = m_useGraph ? "mgptq-gcn" : "mgptq-mlp";
    if (memory.bytes() >= 0)
        j["device_bytes"] = memory.bytes(); // peak above what the job held when the allocation began
    m.diagnostics = j.dump();
    return m;
}

HessianGreedyAllocator::HessianGreedyAllocator(MgptqOptions options, bool symmetric)
    : m_options(std::move(options)), m_symmetric(symmetric)
{
    if (!m_options.targetBits)
        throw SettingError("mgptq.targetBits", "hessian-greedy: needs target bits (it has no α)");
    m_options.alpha.reset();
    validateMgptqOptions(m_options, false);
}

MatrixPlan HessianGreedyAllocator::allocate(const MatrixPlan& base, const at::Tensor& W, const at::Tensor& H,
                                            JobContext& ctx)
{
    ctx.checkCancelled();
    const auto t0 = std::chrono::steady_clock::now();
    MatrixPlan m = base;
    m.columnBits = hessianGreedyBits(hessianGreedyScores(W, H), m_options.bitsSet, *m_options.targetBits);
    GridOptions grid;
    grid.groupSize = base.groupSize;
    grid.symmetric = m_symmetric;
    const at::Tensor bits = at::tensor(std::vector<int>(m.columnBits.begin(), m.columnBits.end())).to(W.device());
    m.predictedCost = outputError(W, rtnQuantize(W, bits, grid).dequant, H); // RTN at the chosen bits
    const double withOverhead = columnBitsWithOverhead(m.columnBits, base.groupSize, m_symmetric);
    m.storageBits = withOverhead * double(W.size(0)) * double(W.size(1));
    nlohmann::json j;
    j["allocator"] = "hessian-greedy";
    j["code_bits"] = averageColumnBits(m.columnBits);
    j["bits_with_overhead"] = withOverhead;
    j["predicted_cost"] = m.predictedCost;
    j["seconds"] = {{"total", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
    m.diagnostics = j.dump();
    return m;
}

} // namespace mpq::detail
