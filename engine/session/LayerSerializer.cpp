// Serializer of one decoder layer's results (docs/session-format.md, "Layers").
#include "session/detail/LayerSerializer.h"

#include "core/Error.h"
#include "session/detail/Serializers.h"
#include "session/detail/SessionState.h"

#include <cstring>

namespace mpq::session::detail {

namespace {

template <typename T>
void writeTensor(const h5::Id& g, const std::string& name, const at::Tensor& t, at::ScalarType type)
{
    const at::Tensor c = t.to(at::kCPU).to(type).contiguous();
    h5::writeArray<T>(g, name, c.data_ptr<T>(), c.sizes().vec());
}

template <typename T>
at::Tensor readTensor(const h5::Id& g, const std::string& name, at::ScalarType type)
{
    std::vector<int64_t> dims;
    std::vector<T> v = h5::readArray<T>(g, name, &dims);
    at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
    if (!v.empty())
        std::memcpy(t.data_ptr(), v.data(), v.size() * sizeof(T));
    return t;
}

void writeAdjacency(const h5::Id& g, const SparseAdjacency& a)
{
    const h5::Id ag = h5::createGroup(g, "adjacency");
    h5::setAttr(ag, "nodes", a.nodes);
    h5::setAttr(ag, "top_k", a.topK);
    h5::setAttr(ag, "construction", a.construction);
    h5::writeArray(ag, "row", a.row);
    h5::writeArray(ag, "col", a.col);
    h5::writeArray(ag, "value", a.value);
}

void writeMatrix(const h5::Id& g, const mpq::detail::MatrixRecord& m, size_t order)
{
    const MatrixPlan& p = m.plan;
    const MatrixReport& r = m.report;
    h5::setAttr(g, "order", int64_t(order));
    h5::setAttr(g, "tensor", p.tensor);
    h5::setAttr(g, "layer", p.layer);
    h5::setAttr(g, "linear", p.linear);
    h5::setAttr(g, "rows", r.rows);
    h5::setAttr(g, "cols", r.cols);
    h5::setAttr(g, "quantizer", p.quantizer);
    h5::setAttr(g, "group_size", p.groupSize);
    h5::setAttr(g, "code_bits", r.codeBits);
    h5::setAttr(g, "bits_with_overhead", r.bitsWithOverhead);
    h5::setAttr(g, "output_error", r.outputError);
    h5::setAttr(g, "frobenius_error", r.frobeniusError);
    h5::setAttr(g, "gptq_loss", r.gptqLoss);
    h5::setAttr(g, "damping", r.damping);
    if (!r.fallback.empty())
        h5::setAttr(g, "fallback", r.fallback);
    h5::setAttr(g, "predicted_cost", p.predictedCost);
    h5::setAttr(g, "storage_bits", p.storageBits);
    h5::setAttr(g, "seconds", r.seconds);
    if (r.calibrationTokens >= 0)
        h5::setAttr(g, "calibration_tokens", r.calibrationTokens);
    if (!r.hessianSource.empty())
        h5::setAttr(g, "hessian_source", r.hessianSource);
    h5::setAttr(g, "q_group_size", m.q.groupSize);
    h5::setAttr(g, "q_damping", m.q.damping);

    writeTensor<uint8_t>(g, "codes", m.q.codes, at::kByte);
    writeTensor<float>(g, "scales", m.q.scales, at::kFloat);
    writeTensor<float>(g, "zeros", m.q.zeros, at::kFloat);
    writeTensor<int32_t>(g, "slot_of_column", m.q.slotOfColumn, at::kInt);
    h5::writeArray(g, "slot_bits", std::vector<int32_t>(m.q.slotBits.begin(), m.q.slotBits.end()));
    if (m.q.permutation.defined())
        writeTensor<int64_t>(g, "permutation", m.q.permutation, at::kLong);
    h5::writeArray(g, "column_bits", p.columnBits);
    if (!p.diagnostics.empty())
        h5::writeText(g, "diagnostics", p.diagnostics);
    writeCurves(g, parseTrainingCurves(p.diagnostics));
}

} // namespace

void writeLayer(const h5::Id& parent, const std::string& name, const mpq::detail::LayerRecord& record,
                const std::map<int, HessianExtras>& extras)
{
    const h5::Id lg = h5::createGroup(parent, name);
    h5::setAttr(lg, "layer", record.layer);
    h5::setAttr(lg, "hessian_seconds", record.timing.hessianSeconds);
    h5::setAttr(lg, "quantize_seconds", record.timing.quantizeSeconds);
    h5::setAttr(lg, "forward_seconds", record.timing.forwardSeconds);
    std::map<int, std::string> firstOfGroup; // group → the matrix holding its Hessian data
    for (size_t i = 0; i < record.matrices.size(); ++i) {
        const auto& m = record.matrices[i];
        std::string mname = m.plan.linear.empty() ? "matrix-" + std::to_string(i) : m.plan.linear;
        const h5::Id mg = h5::createGroup(lg, mname);
        writeMatrix(mg, m, i);
        const auto e = extras.find(m.group);
        if (m.group < 0 || e == extras.end())
            continue;
        const auto first = firstOfGroup.find(m.group);
        if (first != firstOfGroup.end()) {
            for (const char* part : {"hessian_diag", "hessian", "adjacency"})
                if (h5::exists(lg, first->second + "/" + part))
                    h5::hardLink(lg, first->second + "/" + part, mname + "/" + part);
            continue;
        }
        firstOfGroup[m.group] = mname;
        const HessianExtras& x = e->second;
        if (x.diagonal.defined())
            writeTensor<float>(mg, "hessian_diag", x.diagonal, at::kFloat);
        if (x.full.defined())
            writeTensor<float>(mg, "hessian", x.full, at::kFloat);
        if (x.adjacency.nodes > 0)
            writeAdjacency(mg, x.adjacency);
    }
}

mpq::detail::LayerRecord readLayer(const h5::Id& lg)
{
    mpq::detail::LayerRecord rec;
    rec.layer = h5::attrInt(lg, "layer", -1);
    std::string where = "decoder layer " + std::to_string(rec.layer);
    try {
    rec.timing.hessianSeconds = h5::attrDouble(lg, "hessian_seconds");
    rec.timing.quantizeSeconds = h5::attrDouble(lg, "quantize_seconds");
    rec.timing.forwardSeconds = h5::attrDouble(lg, "forward_seconds");
    for (const auto& name : matrixGroups(lg)) {
        where = "decoder layer " + std::to_string(rec.layer) + ", matrix " + name;
        const h5::Id g = h5::openGroup(lg, name);
        const MatrixSummary s = readMatrixSummary(g);
        where = "decoder layer " + std::to_string(rec.layer) + ", matrix " + s.tensor;
        mpq::detail::MatrixRecord m;
        m.plan.tensor = s.tensor;
        m.plan.layer = s.layer;
        m.plan.linear = s.linear;
        m.plan.rows = s.rows;
        m.plan.cols = s.cols;
        m.plan.quantizer = s.quantizer;
        m.plan.groupSize = s.groupSize;
        m.plan.predictedCost = s.predictedCost;
        m.plan.storageBits = s.storageBits;
        m.plan.columnBits = h5::readArray<uint8_t>(g, "column_bits");
        m.plan.diagnostics = h5::readText(g, "diagnostics");
        m.report.tensor = s.tensor;
        m.report.layer = s.layer;
        m.report.linear = s.linear;
        m.report.rows = s.rows;
        m.report.cols = s.cols;
        m.report.quantizer = s.quantizer;
        m.report.codeBits = s.codeBits;
        m.report.bitsWithOverhead = s.bitsWithOverhead;
        m.report.outputError = s.outputError;
        m.report.frobeniusError = s.frobeniusError;
        m.report.gptqLoss = s.gptqLoss;
        m.report.damping = s.damping;
        m.report.fallback = s.fallback;
        m.report.seconds = s.seconds;
        m.report.calibrationTokens = s.calibrationTokens;
        m.report.hessianSource = s.hessianSource;
        auto& q = m.q;
        q.codes = readTensor<uint8_t>(g, "codes", at::kByte);
        q.scales = readTensor<float>(g, "scales", at::kFloat);
        q.zeros = readTensor<float>(g, "zeros", at::kFloat);
        q.slotOfColumn = readTensor<int32_t>(g, "slot_of_column", at::kInt);
        const auto slotBits = h5::readArray<int32_t>(g, "slot_bits");
        q.slotBits.assign(slotBits.begin(), slotBits.end());
        q.groupSize = h5::attrInt(g, "q_group_size", s.groupSize);
        q.damping = h5::attrDouble(g, "q_damping", s.damping);
        if (h5::exists(g, "permutation"))
            q.permutation = readTensor<int64_t>(g, "permutation", at::kLong);
        const int64_t slots = int64_t(q.slotBits.size());
        if (q.codes.dim() != 2 || q.codes.size(0) != s.rows || q.codes.size(1) != s.cols || q.scales.dim() != 2 ||
            q.scales.size(0) != s.rows || q.scales.size(1) != slots || !q.zeros.sizes().equals(q.scales.sizes()) ||
            q.slotOfColumn.numel() != s.cols || int64_t(m.plan.columnBits.size()) != s.cols)
            throw Error(lg.file() + ": matrix " + s.tensor + " has inconsistent shapes");
        if (s.cols && (q.slotOfColumn.min().item<int>() < 0 || q.slotOfColumn.max().item<int>() >= slots))
            throw Error(lg.file() + ": matrix " + s.tensor + " refers to a slot that does not exist");
        for (const auto& [part, t] : {std::pair<const char*, const at::Tensor&>{"scales", q.scales}, {"zeros", q.zeros}})
            if (t.numel() && !at::isfinite(t).all().item<bool>())
                throw Error(lg.file() + ": matrix " + s.tensor + ": stored " + part + " hold NaN or Inf");
        rec.matrices.push_back(std::move(m));
    }
    } catch (const Error& e) {
        h5::rethrowIn(e, lg.file(), where);
    }
    return rec;
}

void verifyLayer(const h5::Id& lg)
{
    const std::string where = "decoder layer " + std::to_string(h5::attrInt(lg, "layer", -1));
    try {
        h5::verifyTree(lg);
    } catch (const Error& e) {
        h5::rethrowIn(e, lg.file(), where);
    }
}

} // namespace mpq::session::detail
