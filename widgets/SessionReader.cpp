#include "SessionReader.h"

#include "ResultReader.h"

#include "core/Error.h"
#include "demo/SyntheticModel.h"
#include "runs/ResultFolder.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <map>

namespace mpq::gui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

MatrixResult toMatrix(const session::MatrixDetail& d)
{
    const session::MatrixSummary& s = d.summary;
    MatrixResult m;
    m.tensor = qs(s.tensor);
    m.layer = int(s.layer);
    m.linear = qs(s.linear);
    m.rows = s.rows;
    m.cols = s.cols;
    m.columnBits = d.columnBits;
    m.groupSize = s.groupSize;
    m.quantizer = qs(s.quantizer);
    m.bitsWithOverhead = s.bitsWithOverhead;
    m.outputError = s.outputError;
    m.frobeniusError = s.frobeniusError;
    m.fallback = qs(s.fallback);
    m.hessianSource = qs(s.hessianSource);
    m.calibrationTokens = s.calibrationTokens;
    const mpq::TrainingCurves& c = d.curves;
    m.curves.loss = c.loss;
    m.curves.lQuant = c.lQuant;
    m.curves.lBit = c.lBit;
    m.curves.avgBits = c.avgBits;
    m.curves.alpha = c.alpha.empty() ? 0.0 : c.alpha.back();
    if (m.curves.empty()) // older runs kept the curves only in the allocator's diagnostics
        m.curves = ResultReader::parseCurves(d.diagnosticsJson);
    return m;
}

QJsonObject parseObject(const std::string& text)
{
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text));
    return doc.isObject() ? doc.object() : QJsonObject();
}

} // namespace

QString SessionReader::runNameFrom(const QString& text)
{
    QString s = text;
    s.replace(QStringLiteral("α"), QStringLiteral("alpha"));
    s.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
    while (s.startsWith(QLatin1Char('.')) || s.startsWith(QLatin1Char('-')))
        s.remove(0, 1);
    if (s.isEmpty())
        s = QStringLiteral("run");
    return s.left(64);
}

std::vector<MatrixResult> SessionReader::readLayer(const session::Session& s, const std::string& run, int64_t layer)
{
    std::vector<MatrixResult> out;
    for (const session::MatrixSummary& m : s.matrices(run))
        if (m.layer == layer)
            out.push_back(toMatrix(s.matrix(run, m.tensor)));
    return out;
}

RunData SessionReader::readRun(const session::Session& s, const std::string& name)
{
    const session::RunInfo info = s.run(name);
    RunData r;
    r.name = qs(info.name);
    r.method = qs(info.method);
    r.model = qs(info.model.path);
    r.sessionRun = r.name;
    r.avgBits = info.avgBits;
    r.avgBitsWithOverhead = info.avgBitsWithOverhead;
    r.seconds = parseObject(info.reportJson).value(QLatin1String("seconds")).toDouble();
    r.complete = info.status == session::RunStatus::Complete;
    r.status = qs(session::statusName(info.status));
    for (const std::string& w : info.warnings)
        r.warnings << qs(w);
    ResultReader::knobFromSettings(r, info.settingsJson, &info.solver);
    std::vector<MatrixResult> matrices;
    for (const session::MatrixSummary& m : s.matrices(name))
        matrices.push_back(toMatrix(s.matrix(name, m.tensor)));
    r.merge(matrices);
    return r;
}

Workbench SessionReader::fromSession(const session::Session& s)
{
    Workbench wb;
    wb.sessionFile = QFileInfo(qs(s.info().path)).absoluteFilePath();
    wb.folder = QFileInfo(wb.sessionFile).absolutePath();
    for (const session::RunInfo& info : s.runs()) {
        wb.upsert(readRun(s, info.name));
        if (!info.model.path.empty())
            wb.model = qs(info.model.path); // the newest run's model
    }
    for (const session::Sweep& sw : s.sweeps())
        for (const session::SweepPoint& p : sw.points)
            if (RunData* r = wb.run(qs(p.run))) {
                r->sweepAxis = qs(sw.axis);
                r->sweepValue = p.value;
                for (const auto& [dataset, ppl] : p.perplexity)
                    if (std::isfinite(ppl) && ppl > 0)
                        r->perplexity[qs(dataset)] = ppl;
            }
    // Evaluations of result folders (`mpq eval DIR --session FILE`): each folder is shown as a run,
    // read through ResultReader, under its folder's name (made unique beside the session's runs).
    std::map<std::string, QString> folderRuns; // absolute path → run name
    for (const session::Evaluation& e : s.evaluations()) {
        if (!e.run.empty() || folderRuns.count(e.model) || !QFileInfo(qs(e.model)).isAbsolute() ||
            !isResultFolder(e.model))
            continue;
        try {
            RunData r = ResultReader::readResultFolder(qs(e.model));
            r.name = wb.uniqueName(r.name);
            if (wb.model.isEmpty())
                wb.model = r.model;
            folderRuns[e.model] = r.name;
            wb.upsert(r);
        } catch (const std::exception& x) {
            wb.problems << QStringLiteral("evaluation #%1: %2").arg(e.id).arg(QString::fromUtf8(x.what()));
            folderRuns[e.model] = QString();
        }
    }
    // Evaluations, oldest first: the newest measurement of a (run, data set) wins.
    for (const session::Evaluation& e : s.evaluations()) {
        if (!(e.perplexity > 0))
            continue;
        if (const auto f = folderRuns.find(e.model); e.run.empty() && f != folderRuns.end()) {
            if (RunData* r = wb.run(f->second))
                r->perplexity[qs(e.dataset)] = e.perplexity;
        } else if (e.run.empty()) {
            if (wb.model.isEmpty() || QFileInfo(qs(e.model)).absoluteFilePath() == QFileInfo(wb.model).absoluteFilePath())
                wb.reference[qs(e.dataset)] = e.perplexity;
            if (wb.model.isEmpty())
                wb.model = qs(e.model);
        } else if (RunData* r = wb.run(qs(e.run))) {
            r->perplexity[qs(e.dataset)] = e.perplexity;
        }
    }
    const std::vector<std::string> tables = s.mxqCostTableNames();
    if (!tables.empty())
        wb.mxqCostTable = qs(tables.back());
    wb.synthetic = !wb.model.isEmpty() && QFileInfo(wb.model).isDir() && isSyntheticModel(wb.model.toStdString());
    return wb;
}

Workbench SessionReader::load(const QString& path)
{
    return fromSession(session::Session::open(path.toStdString()));
}

HessianGraphData SessionReader::hessianGraph(const session::Session& s, const QString& run, const QString& tensor)
{
    HessianGraphData g;
    g.tensor = tensor;
    const session::MatrixDetail d = s.matrix(run.toStdString(), tensor.toStdString());
    g.cols = d.summary.cols;
    g.bits = d.columnBits;
    const session::SparseAdjacency& a = d.adjacency;
    if (d.hessianDiagonal.empty() || a.nodes == 0) {
        g.source = QStringLiteral("run %1 is data-free (%2): it has no Hessian").arg(run, qs(d.summary.quantizer));
        return g;
    }
    if (a.nodes != g.cols || int64_t(d.hessianDiagonal.size()) != g.cols)
        throw Error(s.info().path + "#" + run.toStdString() + ": " + tensor.toStdString() + ": the stored graph has " +
                    std::to_string(a.nodes) + " nodes and " + std::to_string(d.hessianDiagonal.size()) +
                    " diagonal entries for " + std::to_string(g.cols) + " columns");
    g.diagonal.assign(d.hessianDiagonal.begin(), d.hessianDiagonal.end());
    // The stored view keeps each row's strongest neighbours (16 by default, whatever the width:
    // ~176 k edges for an 11008-column down_proj); it stays sparse. An edge kept by one side only
    // is shown both ways (i ≤ j, one entry per pair), so that the heat map and the drawing are
    // symmetric.
    const size_t e = std::min({a.row.size(), a.col.size(), a.value.size()});
    g.edges.reserve(e);
    for (size_t k = 0; k < e; ++k) {
        const int64_t i = a.row[k], j = a.col[k];
        if (i < 0 || j < 0 || i >= g.cols || j >= g.cols)
            throw Error(s.info().path + "#" + run.toStdString() + ": " + tensor.toStdString() +
                        ": adjacency index out of range");
        g.edges.push_back({int32_t(i), int32_t(j), std::abs(a.value[k])});
    }
    HessianGraphData::normalise(g.edges);
    const session::RunInfo info = s.run(run.toStdString());
    g.key = qs(s.info().path) + QLatin1Char('#') + run + QLatin1Char('@') + qs(info.created) + QLatin1Char('/') +
            tensor;
    g.available = true;
    g.source = QStringLiteral("%1, top %2 neighbours per column, diag H from %3 calibration windows")
                   .arg(qs(a.construction)).arg(a.topK).arg(info.calibrationWindows);
    return g;
}

} // namespace mpq::gui
