// Serializer of an MXQ cost table: /mxq_costs/<name>, costs and storage as [matrices, configs]
// tables so that the GUI's budget slider can re-solve without recomputing HQQ.
#include "session/detail/Serializers.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq::session::detail {

void writeMxqCosts(const h5::Id& g, const MxqCostTable& t)
{
    h5::setAttr(g, "model", t.model);
    h5::setAttr(g, "cost_kind", t.costKind);
    h5::setAttr(g, "device", t.device);
    h5::setAttr(g, "seconds", t.seconds);
    if (!t.costChoice.empty())
        h5::setAttr(g, "cost_choice", t.costChoice);
    const h5::Id hq = h5::createGroup(g, "hqq");
    h5::setAttr(hq, "lp_norm", t.hqq.lpNorm);
    h5::setAttr(hq, "beta", t.hqq.beta);
    h5::setAttr(hq, "kappa", t.hqq.kappa);
    h5::setAttr(hq, "iterations", int64_t(t.hqq.iterations));
    h5::setAttr(hq, "early_stop", t.hqq.earlyStop);
    h5::setAttr(hq, "meta_bits", int64_t(t.hqq.metaBits));
    h5::setAttr(hq, "meta_group_size", t.hqq.metaGroupSize);

    std::vector<int32_t> bits;
    std::vector<int64_t> groups;
    for (const auto& c : t.configs) {
        bits.push_back(c.bits);
        groups.push_back(c.groupSize);
    }
    h5::writeArray(g, "config_bits", bits);
    h5::writeArray(g, "config_group_size", groups);
    const int64_t M = int64_t(t.matrices.size()), C = int64_t(t.configs.size());
    std::vector<int64_t> layer, rows, cols;
    std::vector<double> cost, storage;
    nlohmann::json tensors = nlohmann::json::array(), linears = nlohmann::json::array();
    for (const auto& m : t.matrices) {
        if (int64_t(m.cost.size()) != C || int64_t(m.storageBits.size()) != C)
            throw Error(g.file() + ": MXQ cost table: matrix " + m.tensor + " lacks costs for some configurations");
        tensors.push_back(m.tensor);
        linears.push_back(m.linear);
        layer.push_back(m.layer);
        rows.push_back(m.rows);
        cols.push_back(m.cols);
        cost.insert(cost.end(), m.cost.begin(), m.cost.end());
        storage.insert(storage.end(), m.storageBits.begin(), m.storageBits.end());
    }
    h5::writeText(g, "tensors", tensors.dump());
    h5::writeText(g, "linears", linears.dump());
    h5::writeArray(g, "layer", layer);
    h5::writeArray(g, "rows", rows);
    h5::writeArray(g, "cols", cols);
    h5::writeArray<double>(g, "cost", cost.data(), {M, C});
    h5::writeArray<double>(g, "storage_bits", storage.data(), {M, C});
}

MxqCostTable readMxqCosts(const h5::Id& g)
{
    MxqCostTable t;
    t.model = h5::attrString(g, "model");
    t.costKind = h5::attrString(g, "cost_kind", "fnorm");
    t.device = h5::attrString(g, "device");
    t.seconds = h5::attrDouble(g, "seconds");
    t.costChoice = h5::attrString(g, "cost_choice", "");
    if (h5::exists(g, "hqq")) {
        const h5::Id hq = h5::openGroup(g, "hqq");
        t.hqq.lpNorm = h5::attrDouble(hq, "lp_norm", t.hqq.lpNorm);
        t.hqq.beta = h5::attrDouble(hq, "beta", t.hqq.beta);
        t.hqq.kappa = h5::attrDouble(hq, "kappa", t.hqq.kappa);
        t.hqq.iterations = int(h5::attrInt(hq, "iterations", t.hqq.iterations));
        t.hqq.earlyStop = h5::attrInt(hq, "early_stop", t.hqq.earlyStop) != 0;
        t.hqq.metaBits = int(h5::attrInt(hq, "meta_bits", t.hqq.metaBits));
        t.hqq.metaGroupSize = h5::attrInt(hq, "meta_group_size", t.hqq.metaGroupSize);
    }
    const auto bits = h5::readArray<int32_t>(g, "config_bits");
    const auto groups = h5::readArray<int64_t>(g, "config_group_size");
    if (bits.size() != groups.size())
        throw Error(g.file() + ": MXQ cost table: configuration columns of different lengths");
    for (size_t i = 0; i < bits.size(); ++i)
        t.configs.push_back({bits[i], groups[i]});
    const auto tensors = nlohmann::json::parse(h5::readText(g, "tensors", "[]"), nullptr, false);
    const auto linears = nlohmann::json::parse(h5::readText(g, "linears", "[]"), nullptr, false);
    const auto layer = h5::readArray<int64_t>(g, "layer");
    const auto rows = h5::readArray<int64_t>(g, "rows");
    const auto cols = h5::readArray<int64_t>(g, "cols");
    std::vector<int64_t> dims;
    const auto cost = h5::readArray<double>(g, "cost", &dims);
    std::vector<int64_t> sdims;
    const auto storage = h5::readArray<double>(g, "storage_bits", &sdims);
    const size_t M = layer.size(), C = t.configs.size();
    if (!tensors.is_array() || !linears.is_array() || tensors.size() != M || linears.size() != M ||
        rows.size() != M || cols.size() != M || dims != std::vector<int64_t>{int64_t(M), int64_t(C)} ||
        sdims != dims)
        throw Error(g.file() + ": MXQ cost table: tables of inconsistent sizes");
    for (size_t i = 0; i < M; ++i) {
        MxqMatrixCosts m;
        m.tensor = tensors[i].get<std::string>();
        m.linear = linears[i].get<std::string>();
        m.layer = layer[i];
        m.rows = rows[i];
        m.cols = cols[i];
        m.cost.assign(cost.begin() + long(i * C), cost.begin() + long((i + 1) * C));
        m.storageBits.assign(storage.begin() + long(i * C), storage.begin() + long((i + 1) * C));
        t.matrices.push_back(std::move(m));
    }
    t.validate(g.file());
    return t;
}

} // namespace mpq::session::detail
