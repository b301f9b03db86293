#include "ResultReader.h"

#include "alloc/AllocationPlan.h"
#include "alloc/mgptq/TrainingCurves.h"
#include "core/Error.h"
#include "runs/ResultFolder.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>

namespace mpq::gui {

TrainingCurves ResultReader::parseCurves(const std::string& diagnosticsJson)
{
    const mpq::TrainingCurves e = parseTrainingCurves(diagnosticsJson);
    TrainingCurves c;
    c.loss = e.loss;
    c.lQuant = e.lQuant;
    c.lBit = e.lBit;
    c.avgBits = e.avgBits;
    c.alpha = e.finalAlpha;
    return c;
}

RunData ResultReader::readResultFolder(const QString& dir)
{
    const std::string path = dir.toStdString();
    const ResultDescription d = readResultDescription(path);
    if (d.planJson.empty())
        throw Error(d.file + ": no allocation plan");
    const AllocationPlan plan = AllocationPlan::fromJson(d.planJson, d.file + " (plan)");

    RunData run;
    run.resultDir = QFileInfo(dir).absoluteFilePath();
    run.name = QFileInfo(dir).fileName();
    run.method = QString::fromStdString(d.method);
    run.model = QString::fromStdString(d.model);
    run.avgBits = d.avgBits;
    run.avgBitsWithOverhead = d.avgBitsWithOverhead;
    run.seconds = d.seconds;
    if (run.method.startsWith(QLatin1String("gguf"))) {
        // docs/gguf.md: the CLI's extra names the preset or the budget and counts F16 matrices too.
        const QJsonObject extra = QJsonDocument::fromJson(QByteArray::fromStdString(d.extraJson)).object();
        run.ggufBitsPerWeight = extra.value(QLatin1String("bits_per_weight")).toDouble(-1);
        if (extra.contains(QLatin1String("preset")))
            run.ggufMix = extra.value(QLatin1String("preset")).toString().toUpper();
        else if (extra.contains(QLatin1String("budget")))
            // "4.5000 bits/parameter" (MxqBudget::describe) → "MIP 4.5"
            run.ggufMix = QStringLiteral("MIP %1").arg(
                extra.value(QLatin1String("budget")).toString().section(QLatin1Char(' '), 0, 0).toDouble(), 0, 'g', 4);
    }
    run.complete = true;
    for (const std::string& w : d.warnings)
        run.warnings << QString::fromStdString(w);

    std::map<std::string, const MatrixReport*> reports;
    for (const MatrixReport& m : d.matrices)
        reports[m.tensor] = &m;

    std::vector<MatrixResult> matrices;
    for (const MatrixPlan& p : plan.matrices) {
        MatrixResult m = MatrixResult::fromPlan(p);
        m.curves = parseCurves(p.diagnostics);
        const auto r = reports.find(p.tensor);
        if (r != reports.end()) {
            m.bitsWithOverhead = r->second->bitsWithOverhead;
            m.outputError = r->second->outputError;
            m.frobeniusError = r->second->frobeniusError;
            m.fallback = QString::fromStdString(r->second->fallback);
            m.hessianSource = QString::fromStdString(r->second->hessianSource);
            m.calibrationTokens = r->second->calibrationTokens;
        }
        matrices.push_back(std::move(m));
    }
    run.merge(matrices);
    return run;
}

std::vector<MatrixResult> ResultReader::readLayerFile(const QString& file)
{
    std::vector<MatrixResult> out;
    for (StoredColumnBits& b : readLayerColumnBits(file.toStdString())) {
        MatrixResult m;
        m.tensor = QString::fromStdString(b.tensor);
        m.rows = b.rows;
        m.cols = b.cols;
        m.columnBits = std::move(b.columnBits);
        if (b.layer >= 0) {
            m.layer = int(b.layer);
            m.linear = QString::fromStdString(b.linear);
        }
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace mpq::gui
