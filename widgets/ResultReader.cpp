#include "ResultReader.h"

#include "model/LlamaArch.h"

#include "alloc/AllocationPlan.h"
#include "core/Error.h"
#include "core/Files.h"
#include "model/SafetensorsFile.h"
#include "pipeline/ResultFolder.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>

namespace mpq::gui {

namespace {

std::vector<double> toDoubles(const QJsonValue& v)
{
    std::vector<double> out;
    for (const QJsonValue& x : v.toArray())
        out.push_back(x.toDouble());
    return out;
}

QJsonObject parseObject(const std::string& text, const std::string& source)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw Error(source + ": not a JSON object (" + err.errorString().toStdString() + " at byte " +
                    std::to_string(err.offset) + ")");
    return doc.object();
}

} // namespace

TrainingCurves ResultReader::parseCurves(const std::string& diagnosticsJson)
{
    TrainingCurves c;
    if (diagnosticsJson.empty())
        return c;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(diagnosticsJson));
    if (!doc.isObject())
        return c;
    const QJsonObject d = doc.object();
    const QJsonObject curves = d.value(QLatin1String("curves")).toObject();
    c.loss = toDoubles(curves.value(QLatin1String("loss")));
    c.lQuant = toDoubles(curves.value(QLatin1String("l_quant")));
    c.lBit = toDoubles(curves.value(QLatin1String("l_bit")));
    c.avgBits = toDoubles(curves.value(QLatin1String("avg_bits")));
    c.alpha = d.value(QLatin1String("alpha")).toDouble();
    return c;
}

RunData ResultReader::readResultFolder(const QString& dir)
{
    const std::string path = dir.toStdString();
    if (!isResultFolder(path))
        throw Error(path + ": not a quantization result folder (no result.json)");
    const std::string jsonFile = files::join(path, "result.json");
    const QJsonObject j = parseObject(readResultJson(path), jsonFile);
    if (j.value(QLatin1String("format")).toString() != QLatin1String("mpq-result"))
        throw Error(jsonFile + ": format is not \"mpq-result\"");
    if (j.value(QLatin1String("version")).toInt() > 1)
        throw Error(jsonFile + ": version " + std::to_string(j.value(QLatin1String("version")).toInt()) +
                    " is newer than this workbench reads (1)");
    if (!j.value(QLatin1String("plan")).isObject())
        throw Error(jsonFile + ": no allocation plan");

    const std::string planText =
        QJsonDocument(j.value(QLatin1String("plan")).toObject()).toJson(QJsonDocument::Compact).toStdString();
    const AllocationPlan plan = AllocationPlan::fromJson(planText, jsonFile + " (plan)");

    RunData run;
    run.resultDir = QFileInfo(dir).absoluteFilePath();
    run.name = QFileInfo(dir).fileName();
    run.method = j.value(QLatin1String("method")).toString();
    run.model = j.value(QLatin1String("model")).toString();
    run.avgBits = j.value(QLatin1String("avg_bits")).toDouble();
    run.avgBitsWithOverhead = j.value(QLatin1String("avg_bits_with_overhead")).toDouble();
    run.seconds = j.value(QLatin1String("seconds")).toDouble();
    if (run.method.startsWith(QLatin1String("gguf"))) {
        // docs/gguf.md: the CLI's extra names the preset or the budget and counts F16 matrices too.
        const QJsonObject extra = j.value(QLatin1String("extra")).toObject();
        run.ggufBitsPerWeight = extra.value(QLatin1String("bits_per_weight")).toDouble(-1);
        if (extra.contains(QLatin1String("preset")))
            run.ggufMix = extra.value(QLatin1String("preset")).toString().toUpper();
        else if (extra.contains(QLatin1String("budget")))
            // "4.5000 bits/parameter" (MxqBudget::describe) → "MIP 4.5"
            run.ggufMix = QStringLiteral("MIP %1").arg(
                extra.value(QLatin1String("budget")).toString().section(QLatin1Char(' '), 0, 0).toDouble(), 0, 'g', 4);
    }
    run.complete = true;
    for (const QJsonValue& w : j.value(QLatin1String("warnings")).toArray())
        run.warnings << w.toString();

    std::map<std::string, QJsonObject> reports;
    for (const QJsonValue& m : j.value(QLatin1String("matrices")).toArray())
        reports[m.toObject().value(QLatin1String("tensor")).toString().toStdString()] = m.toObject();

    std::vector<MatrixResult> matrices;
    for (const MatrixPlan& p : plan.matrices) {
        MatrixResult m = MatrixResult::fromPlan(p);
        m.curves = parseCurves(p.diagnostics);
        const auto r = reports.find(p.tensor);
        if (r != reports.end()) {
            m.bitsWithOverhead = r->second.value(QLatin1String("bits_with_overhead")).toDouble(-1);
            m.outputError = r->second.value(QLatin1String("output_error")).toDouble(-1);
            m.frobeniusError = r->second.value(QLatin1String("frobenius_error")).toDouble(-1);
            m.fallback = r->second.value(QLatin1String("fallback")).toString();
            m.hessianSource = r->second.value(QLatin1String("hessian_source")).toString();
            m.calibrationTokens = r->second.value(QLatin1String("calibration_tokens")).toInteger(-1);
        }
        matrices.push_back(std::move(m));
    }
    run.merge(matrices);
    return run;
}

std::vector<MatrixResult> ResultReader::readLayerFile(const QString& file)
{
    const std::string path = file.toStdString();
    const std::vector<TensorEntry> entries = readSafetensorsHeader(path);
    std::map<std::string, const TensorEntry*> byName;
    for (const auto& e : entries)
        byName[e.name] = &e;
    const auto readInts = [&](const TensorEntry& e) {
        if (e.type != StorageType::I32)
            throw Error(path + ": " + e.name + " is not I32");
        std::vector<int32_t> v(e.bytes / 4);
        files::readAt(path, e.offset, e.bytes, v.data());
        return v;
    };
    static const std::string suffix = ".slot_of_column";
    std::vector<MatrixResult> out;
    for (const auto& e : entries) {
        if (e.name.size() <= suffix.size() || e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string tensor = e.name.substr(0, e.name.size() - suffix.size());
        const auto bitsEntry = byName.find(tensor + ".slot_bits");
        const auto codesEntry = byName.find(tensor + ".codes");
        if (bitsEntry == byName.end() || codesEntry == byName.end() || codesEntry->second->shape.size() != 2)
            throw Error(path + ": " + tensor + " lacks slot_bits or codes");
        const std::vector<int32_t> slotOf = readInts(e);
        const std::vector<int32_t> slotBits = readInts(*bitsEntry->second);
        MatrixResult m;
        m.tensor = QString::fromStdString(tensor);
        m.rows = codesEntry->second->shape[0];
        m.cols = codesEntry->second->shape[1];
        if (int64_t(slotOf.size()) != m.cols)
            throw Error(path + ": " + tensor + ".slot_of_column has " + std::to_string(slotOf.size()) +
                        " entries for " + std::to_string(m.cols) + " columns");
        m.columnBits.resize(slotOf.size());
        for (size_t c = 0; c < slotOf.size(); ++c) {
            const int32_t s = slotOf[c];
            if (s < 0 || size_t(s) >= slotBits.size())
                throw Error(path + ": " + tensor + ": slot index out of range");
            m.columnBits[c] = uint8_t(slotBits[size_t(s)]);
        }
        // "model.layers.3.mlp.down_proj.weight" → layer 3, down_proj; experts keep their index
        // ("model.layers.3.mlp.experts.7.up_proj.weight" → experts.7.up_proj).
        const int64_t layer = llama::layerOf(tensor);
        if (layer >= 0) {
            m.layer = int(layer);
            m.linear = QString::fromStdString(llama::shortNameOf(tensor));
        }
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace mpq::gui
