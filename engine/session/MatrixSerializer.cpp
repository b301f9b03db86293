// Serializer of one matrix's figures and viewing arrays (…/layers/NNN/<linear>), torch-free.
// The quantized weights in the same group are LayerSerializer.cpp's.
#include "session/detail/Serializers.h"

#include "core/Error.h"

namespace mpq::session::detail {

MatrixSummary readMatrixSummary(const h5::Id& g)
{
    MatrixSummary m;
    m.tensor = h5::attrString(g, "tensor");
    m.layer = h5::attrInt(g, "layer");
    m.linear = h5::attrString(g, "linear");
    m.rows = h5::attrInt(g, "rows");
    m.cols = h5::attrInt(g, "cols");
    m.quantizer = h5::attrString(g, "quantizer");
    m.groupSize = h5::attrInt(g, "group_size", -1);
    m.codeBits = h5::attrDouble(g, "code_bits");
    m.bitsWithOverhead = h5::attrDouble(g, "bits_with_overhead");
    m.outputError = h5::attrDouble(g, "output_error", -1);
    m.frobeniusError = h5::attrDouble(g, "frobenius_error", -1);
    m.gptqLoss = h5::attrDouble(g, "gptq_loss");
    m.damping = h5::attrDouble(g, "damping");
    m.fallback = h5::attrString(g, "fallback");
    m.predictedCost = h5::attrDouble(g, "predicted_cost", -1);
    m.storageBits = h5::attrDouble(g, "storage_bits", -1);
    m.seconds = h5::attrDouble(g, "seconds");
    m.calibrationTokens = h5::attrInt(g, "calibration_tokens", -1);
    m.hessianSource = h5::attrString(g, "hessian_source");
    m.hasHessian = h5::exists(g, "hessian");
    m.hasCurves = h5::exists(g, "curves/loss");
    return m;
}

MatrixDetail readMatrixDetail(const h5::Id& g)
{
    MatrixDetail d;
    d.summary = readMatrixSummary(g);
    const std::string where = "matrix " + d.summary.tensor;
    std::vector<int64_t> dims;
    if (h5::exists(g, "column_bits"))
        d.columnBits = h5::readArray<uint8_t>(g, "column_bits");
    if (h5::exists(g, "hessian_diag"))
        d.hessianDiagonal = h5::readArray<float>(g, "hessian_diag");
    if (h5::exists(g, "hessian")) {
        d.hessian = h5::readArray<float>(g, "hessian", &dims);
        if (dims.size() != 2 || dims[0] != d.summary.cols || dims[1] != d.summary.cols)
            throw Error(g.file() + ": " + where + ": the stored Hessian is not cols x cols");
    }
    if (h5::exists(g, "adjacency")) {
        const h5::Id a = h5::openGroup(g, "adjacency");
        d.adjacency.nodes = h5::attrInt(a, "nodes");
        d.adjacency.topK = h5::attrInt(a, "top_k");
        d.adjacency.construction = h5::attrString(a, "construction");
        d.adjacency.row = h5::readArray<int32_t>(a, "row");
        d.adjacency.col = h5::readArray<int32_t>(a, "col");
        d.adjacency.value = h5::readArray<float>(a, "value");
        if (d.adjacency.row.size() != d.adjacency.col.size() || d.adjacency.row.size() != d.adjacency.value.size())
            throw Error(g.file() + ": " + where + ": adjacency triplets of different lengths");
    }
    if (h5::exists(g, "curves")) {
        const h5::Id c = h5::openGroup(g, "curves");
        auto read = [&](const char* name) {
            return h5::exists(c, name) ? h5::readArray<double>(c, name) : std::vector<double>();
        };
        d.curves.loss = read("loss");
        d.curves.lQuant = read("l_quant");
        d.curves.lBit = read("l_bit");
        d.curves.avgBits = read("avg_bits");
        d.curves.alpha = read("alpha");
        d.curves.tau = read("tau");
    }
    d.diagnosticsJson = h5::readText(g, "diagnostics", "{}");
    return d;
}

void writeCurves(const h5::Id& g, const TrainingCurves& c)
{
    if (c.loss.empty())
        return;
    const h5::Id cg = h5::createGroup(g, "curves");
    h5::setAttr(cg, "epochs", int64_t(c.loss.size()));
    h5::writeArray(cg, "loss", c.loss);
    h5::writeArray(cg, "l_quant", c.lQuant);
    h5::writeArray(cg, "l_bit", c.lBit);
    h5::writeArray(cg, "avg_bits", c.avgBits);
    h5::writeArray(cg, "alpha", c.alpha);
    h5::writeArray(cg, "tau", c.tau);
}

} // namespace mpq::session::detail
