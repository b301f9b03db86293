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

void ResultReader::knobFromSettings(RunData& r, const std::string& settingsJson, const SolverRecord* solver)
{
    const QJsonObject j = QJsonDocument::fromJson(QByteArray::fromStdString(settingsJson)).object();
    if (r.method.startsWith(QLatin1String("mgptq")) || r.method == QLatin1String("hessian-greedy")) {
        const QJsonObject mg = j.value(QLatin1String("mgptq")).toObject();
        if (mg.contains(QLatin1String("alpha"))) {
            r.sweepAxis = QStringLiteral("alpha");
            r.sweepValue = mg.value(QLatin1String("alpha")).toDouble();
        } else if (mg.contains(QLatin1String("target_bits"))) {
            r.sweepAxis = QStringLiteral("target-bits");
            r.sweepValue = mg.value(QLatin1String("target_bits")).toDouble();
        }
    } else if (r.method == QLatin1String("mxq")) {
        if (solver && solver->budget && solver->budget->unit == MxqBudget::Unit::BitsPerParameter) {
            r.sweepAxis = QStringLiteral("budget");
            r.sweepValue = solver->budget->value;
        }
    } else if (j.contains(QLatin1String("bits"))) {
        r.sweepAxis = QStringLiteral("bits");
        r.sweepValue = j.value(QLatin1String("bits")).toDouble();
    }
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
        // docs/gguf.md: the CLI's solver record names the preset or the budget and counts F16
        // matrices too.
        run.ggufBitsPerWeight = d.solver.ggufBitsPerWeight.value_or(-1);
        if (!d.solver.ggufPreset.empty())
            run.ggufMix = QString::fromStdString(d.solver.ggufPreset).toUpper();
        else if (d.solver.budget)
            run.ggufMix = QStringLiteral("MIP %1").arg(d.solver.budget->value, 0, 'g', 4);
    }
    knobFromSettings(run, d.settingsJson, &d.solver);
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
