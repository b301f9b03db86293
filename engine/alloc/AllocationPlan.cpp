#include "alloc/AllocationPlan.h"

#include "core/Error.h"
#include "core/detail/JsonInt.h"
#include "model/LlamaArch.h"

#include <nlohmann/json.hpp>

namespace mpq {

using detail::jsonInt;
using detail::jsonIntOr;
using detail::jsonInts;
using detail::jsonValue;

int MatrixPlan::uniformBits() const
{
    if (columnBits.empty())
        return -1;
    for (uint8_t b : columnBits)
        if (b != columnBits.front())
            return -1;
    return columnBits.front();
}

double MatrixPlan::averageBits() const
{
    double sum = 0;
    for (uint8_t b : columnBits)
        sum += b;
    return columnBits.empty() ? 0.0 : sum / double(columnBits.size());
}

AllocationPlan AllocationPlan::uniform(const ModelConfig& c, int bits, int64_t groupSize,
                                       const std::string& quantizer)
{
    AllocationPlan plan;
    plan.method = "uniform";
    for (int64_t layer = 0; layer < c.numLayers; ++layer)
        for (const llama::LinearSpec& s : llama::layerLinears(c, layer)) {
            MatrixPlan m;
            m.tensor = s.tensor;
            m.layer = layer;
            m.linear = s.name;
            m.rows = s.rows;
            m.cols = s.cols;
            m.columnBits.assign(static_cast<size_t>(m.cols), static_cast<uint8_t>(bits));
            m.groupSize = groupSize;
            m.quantizer = quantizer;
            plan.matrices.push_back(std::move(m));
        }
    plan.validate("uniform plan");
    return plan;
}

const MatrixPlan* AllocationPlan::find(const std::string& tensor) const
{
    for (const auto& m : matrices)
        if (m.tensor == tensor)
            return &m;
    return nullptr;
}

double AllocationPlan::averageCodeBits() const
{
    double bits = 0, weights = 0;
    for (const auto& m : matrices) {
        bits += m.averageBits() * double(m.rows * m.cols);
        weights += double(m.rows * m.cols);
    }
    return weights > 0 ? bits / weights : 0.0;
}

void AllocationPlan::validate(const std::string& source) const
{
    for (const auto& m : matrices) {
        const std::string where = source + ": matrix " + m.tensor + ": ";
        if (int64_t(m.columnBits.size()) != m.cols || m.cols <= 0 || m.rows <= 0)
            throw Error(where + "needs one bit-width per input column (" + std::to_string(m.cols) + ")");
        for (uint8_t b : m.columnBits)
            if (b < 1 || b > 8)
                throw Error(where + "bit-width " + std::to_string(int(b)) + " is outside 1..8");
        if (m.groupSize == 0 || m.groupSize < -1)
            throw Error(where + "group size must be -1 (per channel) or positive");
        if (m.quantizer != "rtn" && m.quantizer != "gptq" && m.quantizer != "hqq" && m.quantizer != "ggml")
            throw Error(where + "unknown quantizer \"" + m.quantizer + "\"");
    }
}

std::string AllocationPlan::toJson() const
{
    nlohmann::json j;
    j["method"] = method;
    j["matrices"] = nlohmann::json::array();
    for (const auto& m : matrices) {
        nlohmann::json e = {{"tensor", m.tensor}, {"layer", m.layer},         {"linear", m.linear},
                            {"rows", m.rows},     {"cols", m.cols},           {"group_size", m.groupSize},
                            {"quantizer", m.quantizer}, {"average_bits", m.averageBits()}};
        // Uniform matrices store one number; mixed ones the full per-column list.
        if (m.uniformBits() > 0)
            e["bits"] = m.uniformBits();
        else
            e["column_bits"] = m.columnBits;
        if (m.predictedCost >= 0)
            e["predicted_cost"] = m.predictedCost;
        if (m.storageBits >= 0)
            e["storage_bits"] = m.storageBits;
        if (!m.diagnostics.empty())
            e["diagnostics"] = nlohmann::json::parse(m.diagnostics);
        j["matrices"].push_back(std::move(e));
    }
    return j.dump(1);
}

AllocationPlan AllocationPlan::fromJson(const std::string& text, const std::string& source)
{
    AllocationPlan plan;
    try {
        const auto j = nlohmann::json::parse(text);
        plan.method = j.value("method", std::string("custom"));
        for (const auto& e : j.at("matrices")) {
            MatrixPlan m;
            m.tensor = e.at("tensor").get<std::string>();
            m.layer = jsonIntOr<int64_t>(e, "layer", 0, source + ": field \"layer\"");
            m.linear = e.value("linear", std::string());
            m.rows = jsonInt<int64_t>(e.at("rows"), source + ": field \"rows\"");
            m.cols = jsonInt<int64_t>(e.at("cols"), source + ": field \"cols\"");
            m.groupSize = jsonIntOr<int64_t>(e, "group_size", -1, source + ": field \"group_size\"");
            m.quantizer = e.value("quantizer", std::string("gptq"));
            if (e.contains("column_bits"))
                m.columnBits = jsonInts<uint8_t>(e.at("column_bits"), source + ": field \"column_bits\"");
            else
                m.columnBits.assign(static_cast<size_t>(std::max<int64_t>(m.cols, 0)),
                                    jsonInt<uint8_t>(e.at("bits"), source + ": field \"bits\""));
            m.predictedCost = e.value("predicted_cost", -1.0);
            m.storageBits = e.value("storage_bits", -1.0);
            if (e.contains("diagnostics"))
                m.diagnostics = e.at("diagnostics").dump();
            plan.matrices.push_back(std::move(m));
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": malformed allocation plan (" + e.what() + ")");
    }
    plan.validate(source);
    return plan;
}

} // namespace mpq
