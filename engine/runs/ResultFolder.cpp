// result.json of a result folder (docs/result-folder.md), read and written here only; the
// layer files are in ResultLayers.cpp.
#include "runs/ResultFolder.h"

#include "core/Error.h"
#include "core/Files.h"
#include "core/detail/JsonInt.h"
#include "runs/detail/QuantizedRun.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace mpq {

namespace {

using nlohmann::json;

constexpr int kResultVersion = 1;

std::string descriptionFile(const std::string& dir)
{
    return files::join(dir, "result.json");
}

/// Parses result.json and checks its format and version.
json parseDescription(const std::string& file)
{
    json j = json::parse(files::readAll(file));
    if (j.value("format", "") != "mpq-result")
        throw Error(file + ": not an MPQ result (format field)");
    const int version = detail::jsonIntOr<int>(j, "version", 0, file + ": field \"version\"");
    if (version > kResultVersion)
        throw Error(file + ": result version " + std::to_string(version) +
                    " is newer than this build understands (" + std::to_string(kResultVersion) + ")");
    return j;
}

json matrixJson(const MatrixReport& m)
{
    json mj{{"tensor", m.tensor},
            {"layer", m.layer},
            {"linear", m.linear},
            {"rows", m.rows},
            {"cols", m.cols},
            {"quantizer", m.quantizer},
            {"code_bits", m.codeBits},
            {"bits_with_overhead", m.bitsWithOverhead},
            {"output_error", m.outputError},
            {"frobenius_error", m.frobeniusError},
            {"gptq_loss", m.gptqLoss},
            {"damping", m.damping}};
    if (m.calibrationTokens >= 0)
        mj["calibration_tokens"] = m.calibrationTokens;
    if (!m.hessianSource.empty())
        mj["hessian_source"] = m.hessianSource;
    if (!m.fallback.empty()) // GPTQ's fallback (docs/quantization.md)
        mj["fallback"] = m.fallback;
    return mj;
}

/// Fields an older build or a hand-made file lacks keep their defaults; errors default to -1.
MatrixReport matrixFromJson(const json& mj, const std::string& file)
{
    MatrixReport m;
    m.tensor = mj.value("tensor", std::string());
    m.layer = detail::jsonIntOr<int64_t>(mj, "layer", 0, file + ": field \"layer\"");
    m.linear = mj.value("linear", std::string());
    m.rows = detail::jsonIntOr<int64_t>(mj, "rows", 0, file + ": field \"rows\"");
    m.cols = detail::jsonIntOr<int64_t>(mj, "cols", 0, file + ": field \"cols\"");
    m.quantizer = mj.value("quantizer", std::string());
    m.codeBits = mj.value("code_bits", 0.0);
    m.bitsWithOverhead = mj.value("bits_with_overhead", -1.0);
    m.outputError = mj.value("output_error", -1.0);
    m.frobeniusError = mj.value("frobenius_error", -1.0);
    m.gptqLoss = mj.value("gptq_loss", 0.0);
    m.damping = mj.value("damping", 0.0);
    m.fallback = mj.value("fallback", std::string());
    m.calibrationTokens = detail::jsonIntOr<int64_t>(mj, "calibration_tokens", -1, file + ": field \"calibration_tokens\"");
    m.hessianSource = mj.value("hessian_source", std::string());
    return m;
}

} // namespace

bool isResultFolder(const std::string& path)
{
    return files::isDirectory(path) && files::exists(descriptionFile(path));
}

std::string resultModelPath(const std::string& dir)
{
    const std::string file = descriptionFile(dir);
    try {
        return parseDescription(file).at("model").get<std::string>();
    } catch (const json::exception& e) {
        throw Error(file + ": malformed result description (" + e.what() + ")");
    }
}

ResultDescription readResultDescription(const std::string& dir)
{
    const std::string file = descriptionFile(dir);
    if (!files::isDirectory(dir) || !files::exists(file))
        throw Error(dir + ": not a quantization result folder (no result.json)");
    try {
        const json j = parseDescription(file);
        ResultDescription d;
        d.file = file;
        d.model = j.at("model").get<std::string>();
        d.method = j.value("method", std::string());
        if (j.contains("settings"))
            d.settingsJson = j["settings"].dump();
        if (j.contains("calibration") && j["calibration"].is_object()) {
            d.hasCalibration = true;
            d.calibrationSource = j["calibration"].value("source", std::string());
            d.calibrationDescription = j["calibration"].value("description", std::string());
        }
        if (j.contains("plan"))
            d.planJson = j["plan"].dump();
        if (j.contains("extra"))
            d.solver = SolverRecord::fromJson(j["extra"].dump(), d.file);
        d.avgBits = j.value("avg_bits", 0.0);
        d.avgBitsWithOverhead = j.value("avg_bits_with_overhead", 0.0);
        d.seconds = j.value("seconds", 0.0);
        d.sessionRun = j.value("session_run", std::string());
        if (j.contains("matrices"))
            for (const json& mj : j["matrices"])
                d.matrices.push_back(matrixFromJson(mj, file));
        if (j.contains("warnings"))
            d.warnings = j["warnings"].get<std::vector<std::string>>();
        return d;
    } catch (const json::exception& e) {
        throw Error(file + ": malformed result description (" + e.what() + ")");
    }
}

void writeResultDescription(const std::string& dir, const ResultDescription& d)
{
    json j;
    j["format"] = "mpq-result";
    j["version"] = kResultVersion;
    j["model"] = d.model;
    j["method"] = d.method;
    j["settings"] = json::parse(d.settingsJson);
    if (d.hasCalibration)
        j["calibration"] = {{"file", "calibration.bin"}, {"source", d.calibrationSource},
                            {"description", d.calibrationDescription}};
    if (!d.planJson.empty())
        j["plan"] = json::parse(d.planJson);
    if (!d.solver.empty())
        j["extra"] = json::parse(d.solver.toJson());
    j["avg_bits"] = d.avgBits;
    j["avg_bits_with_overhead"] = d.avgBitsWithOverhead;
    j["seconds"] = d.seconds;
    if (!d.sessionRun.empty())
        j["session_run"] = d.sessionRun;
    for (const MatrixReport& m : d.matrices)
        j["matrices"].push_back(matrixJson(m));
    j["warnings"] = d.warnings;
    // Written to a temporary name and renamed: a reader never sees half a description.
    const std::string file = descriptionFile(dir);
    const std::string temporary = file + ".tmp";
    {
        std::ofstream out(temporary);
        out << j.dump(1) << "\n";
        if (!out.flush())
            throw Error(file + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec)
        throw Error(file + ": write failed (" + ec.message() + ")");
}

std::string partialResultFolder(const std::string& out)
{
    return out + ".partial";
}

std::string resultLayerFile(const std::string& dir, int64_t layer)
{
    return files::join(files::join(dir, "layers"), detail::layerFileName(layer));
}

} // namespace mpq
