#include "SyntheticRuns.h"

#include "alloc/AllocationPlan.h"
#include "core/Error.h"
#include "runs/ResultFolder.h"
#include "session/Session.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace mpq::gui {

namespace {

constexpr int kLayers = 32;
constexpr int64_t kHidden = 4096;
constexpr int64_t kIntermediate = 11008;

struct Linear {
    const char* name;
    const char* module;
    int64_t rows;
    int64_t cols;
};

const Linear kLinears[] = {
    {"q_proj", "self_attn", kHidden, kHidden},      {"k_proj", "self_attn", kHidden, kHidden},
    {"v_proj", "self_attn", kHidden, kHidden},      {"o_proj", "self_attn", kHidden, kHidden},
    {"gate_proj", "mlp", kIntermediate, kHidden},   {"up_proj", "mlp", kIntermediate, kHidden},
    {"down_proj", "mlp", kHidden, kIntermediate},
};

MatrixResult shell(int layer, const Linear& l)
{
    MatrixResult m;
    m.tensor = QStringLiteral("model.layers.%1.%2.%3.weight").arg(layer).arg(QLatin1String(l.module), QLatin1String(l.name));
    m.layer = layer;
    m.linear = QLatin1String(l.name);
    m.rows = l.rows;
    m.cols = l.cols;
    m.groupSize = -1;
    m.quantizer = QStringLiteral("gptq");
    return m;
}

// How much a matrix is worth protecting: the first two and the last layers and down_proj more.
double matrixWeight(int layer, const Linear& l)
{
    double w = 1.0;
    if (layer < 2 || layer == kLayers - 1)
        w += 0.6;
    if (QLatin1String(l.name) == QLatin1String("down_proj"))
        w += 0.4;
    if (QLatin1String(l.name) == QLatin1String("v_proj"))
        w += 0.2;
    return w;
}

// A per-column importance field: smooth blocks of 64 columns, column noise and 1% outliers.
std::vector<double> importance(int64_t cols, std::mt19937& rng)
{
    std::normal_distribution<double> n(0.0, 1.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<double> block(size_t(cols / 64 + 1));
    for (double& b : block)
        b = n(rng);
    std::vector<double> imp(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) {
        imp[size_t(j)] = 0.8 * block[size_t(j / 64)] + 0.6 * n(rng);
        if (u(rng) < 0.01)
            imp[size_t(j)] += 4;
    }
    return imp;
}

double runAverage(const RunData& r, bool withOverhead)
{
    double bits = 0, weights = 0;
    for (const MatrixResult& m : r.matrices) {
        const double w = double(m.rows) * double(m.cols);
        bits += w * (withOverhead ? m.bitsWithOverhead : m.averageBits());
        weights += w;
    }
    return weights > 0 ? bits / weights : 0;
}

void finish(RunData& r)
{
    r.avgBits = runAverage(r, false);
    r.avgBitsWithOverhead = runAverage(r, true);
    r.complete = true;
    r.status = QStringLiteral("complete");
    r.model = QStringLiteral("synthetic LLaMA-7B-shaped model (no weights)");
}

// Output error of a matrix at these widths: Σ importance · 4^(−b), scaled to LLaMA-like magnitudes.
double syntheticError(const std::vector<double>& imp, const std::vector<uint8_t>& bits, double scale)
{
    double e = 0;
    for (size_t j = 0; j < bits.size(); ++j)
        e += std::exp(imp[j]) * std::pow(4.0, -double(bits[j]));
    return e * scale;
}

RunData uniformRun(const QString& name, int bits, unsigned seed)
{
    RunData r;
    r.name = name;
    r.method = QStringLiteral("gptq");
    r.sweepAxis = QStringLiteral("bits");
    r.sweepValue = bits;
    r.seconds = 1180 + 20 * (4 - bits);
    std::mt19937 rng(seed);
    for (int layer = 0; layer < kLayers; ++layer)
        for (const Linear& l : kLinears) {
            MatrixResult m = shell(layer, l);
            const std::vector<double> imp = importance(m.cols, rng);
            m.columnBits.assign(size_t(m.cols), uint8_t(bits));
            m.bitsWithOverhead = bits + 32.0 / double(m.cols);
            m.outputError = syntheticError(imp, m.columnBits, 10.0 * (1 + layer * 0.1));
            r.matrices.push_back(std::move(m));
        }
    finish(r);
    return r;
}

RunData mxqRun(const QString& name, double budget, unsigned seed)
{
    RunData r;
    r.name = name;
    r.method = QStringLiteral("mxq");
    r.sweepAxis = QStringLiteral("budget");
    r.sweepValue = budget;
    r.seconds = 640;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int layer = 0; layer < kLayers; ++layer)
        for (const Linear& l : kLinears) {
            MatrixResult m = shell(layer, l);
            m.quantizer = QStringLiteral("hqq");
            m.groupSize = 64;
            const double w = matrixWeight(layer, l) + 0.5 * u(rng);
            // Thresholds chosen so that the run stays within its budget (scales and zeros included).
            const int bits = w > 2.3 ? 8 : w > 1.6 ? 4 : w > 1.1 ? 3 : 2;
            const std::vector<double> imp = importance(m.cols, rng);
            m.columnBits.assign(size_t(m.cols), uint8_t(bits));
            m.bitsWithOverhead = bits + 2.0 * 8 / 64 + 32.0 / (128.0 * 64);
            m.frobeniusError = std::sqrt(syntheticError(imp, m.columnBits, 40.0));
            r.matrices.push_back(std::move(m));
        }
    finish(r);
    return r;
}

} // namespace

RunData SyntheticRuns::mixedRun(const QString& name, double targetBits, unsigned seed)
{
    RunData r;
    r.name = name;
    r.method = QStringLiteral("mgptq-gcn");
    r.sweepAxis = QStringLiteral("target-bits");
    r.sweepValue = targetBits;
    r.seconds = 3050 + 100 * (4 - targetBits);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    // Shares of 4 and 2 bits (the rest 3) whose mean is the target: p4·4 + p2·2 + (1−p4−p2)·3 = t.
    const double t = std::clamp(targetBits, 2.0, 4.0);
    for (int layer = 0; layer < kLayers; ++layer)
        for (const Linear& l : kLinears) {
            MatrixResult m = shell(layer, l);
            const std::vector<double> imp = importance(m.cols, rng);
            const double shift = 0.25 * (matrixWeight(layer, l) - 1.2) + 0.1 * (u(rng) - 0.5);
            const double mean = std::clamp(t + shift, 2.0, 4.0);
            const double p4 = std::clamp(0.12 + (mean - 3.0) * 0.8, 0.01, 0.95);
            const double p2 = std::clamp(p4 - (mean - 3.0), 0.0, 1.0 - p4);
            std::vector<size_t> order(imp.size());
            std::iota(order.begin(), order.end(), size_t(0));
            std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return imp[a] > imp[b]; });
            m.columnBits.assign(size_t(m.cols), 3);
            const size_t n4 = size_t(std::lround(p4 * double(m.cols)));
            const size_t n2 = size_t(std::lround(p2 * double(m.cols)));
            for (size_t i = 0; i < order.size(); ++i)
                m.columnBits[order[i]] = i < n4 ? 4 : i >= order.size() - n2 ? 2 : 3;
            m.bitsWithOverhead = m.averageBits() + 3 * 32.0 / double(m.cols);
            m.outputError = syntheticError(imp, m.columnBits, 10.0 * (1 + layer * 0.1));
            r.matrices.push_back(std::move(m));
        }
    finish(r);
    return r;
}

Workbench SyntheticRuns::llama7b(unsigned seed)
{
    Workbench wb;
    wb.model = QStringLiteral("synthetic LLaMA-7B-shaped model (no weights)");
    wb.synthetic = true;
    // Invented placeholders near published LLaMA-7B figures, so that the plots have points.
    wb.reference = {{QStringLiteral("wikitext2"), 5.68}, {QStringLiteral("c4"), 7.08}};
    struct Made {
        RunData run;
        double wiki, c4;
    };
    const Made runs[] = {
        {uniformRun(QStringLiteral("synthetic-gptq-4bit"), 4, seed), 6.13, 7.62},
        {uniformRun(QStringLiteral("synthetic-gptq-3bit"), 3, seed + 1), 8.07, 9.86},
        {mixedRun(QStringLiteral("synthetic-mgptq-target3"), 3.0, seed + 2), 7.02, 8.71},
        {mixedRun(QStringLiteral("synthetic-mgptq-target2.5"), 2.5, seed + 3), 9.61, 11.9},
        {mxqRun(QStringLiteral("synthetic-mxq-3.5bits"), 3.5, seed + 4), 6.58, 8.14},
    };
    for (const Made& m : runs) {
        RunData r = m.run;
        r.perplexity = {{QStringLiteral("wikitext2"), m.wiki}, {QStringLiteral("c4"), m.c4}};
        wb.runs.push_back(std::move(r));
    }
    return wb;
}

QString SyntheticRuns::writeWorkspace(const Workbench& wbIn, const QString& dirPath)
{
    Workbench wb = wbIn;
    QDir dir(dirPath);
    if (!dir.mkpath(QStringLiteral(".")))
        throw Error(dirPath.toStdString() + ": cannot create the folder");
    wb.folder = dir.absolutePath();
    for (const RunData& r : wb.runs)
        if (r.perplexity.isEmpty())
            throw Error("run " + r.name.toStdString() + " has no perplexity: the workspace's session lists result "
                        "folders by their evaluations");
    for (RunData& r : wb.runs) {
        AllocationPlan plan;
        plan.method = r.method.toStdString();
        ResultDescription result;
        for (const MatrixResult& m : r.matrices) {
            MatrixPlan p;
            p.tensor = m.tensor.toStdString();
            p.layer = m.layer;
            p.linear = m.linear.toStdString();
            p.rows = m.rows;
            p.cols = m.cols;
            p.columnBits = m.columnBits;
            p.groupSize = m.groupSize;
            p.quantizer = m.quantizer.toStdString();
            plan.matrices.push_back(std::move(p));
            MatrixReport rep;
            rep.tensor = m.tensor.toStdString();
            rep.layer = m.layer;
            rep.linear = m.linear.toStdString();
            rep.rows = m.rows;
            rep.cols = m.cols;
            rep.quantizer = m.quantizer.toStdString();
            rep.codeBits = m.averageBits();
            rep.bitsWithOverhead = m.bitsWithOverhead;
            rep.outputError = m.outputError;
            rep.frobeniusError = m.frobeniusError;
            result.matrices.push_back(std::move(rep));
        }
        result.model = r.model.toStdString();
        result.method = r.method.toStdString();
        // The run's knob as a real run's result.json records it (ResultReader::knobFromSettings).
        QJsonObject settings{{QStringLiteral("synthetic"), true}};
        if (r.sweepAxis == QLatin1String("bits"))
            settings.insert(QStringLiteral("bits"), r.sweepValue);
        else if (r.sweepAxis == QLatin1String("target-bits") || r.sweepAxis == QLatin1String("alpha"))
            settings.insert(QStringLiteral("mgptq"),
                            QJsonObject{{r.sweepAxis == QLatin1String("alpha") ? QStringLiteral("alpha")
                                                                                : QStringLiteral("target_bits"),
                                         r.sweepValue}});
        else if (r.sweepAxis == QLatin1String("budget"))
            result.solver.budget = MxqBudget::bitsPerParameter(r.sweepValue);
        result.settingsJson = QJsonDocument(settings).toJson(QJsonDocument::Compact).toStdString();
        result.planJson = plan.toJson();
        result.avgBits = r.avgBits;
        result.avgBitsWithOverhead = r.avgBitsWithOverhead;
        result.seconds = r.seconds;
        result.warnings = {"synthetic run (SyntheticRuns, mpq-synth-7b): bits follow a made-up importance field; "
                           "errors, perplexities and times are invented; there are no weights"};
        const QString runDir = dir.absoluteFilePath(r.name);
        QDir().mkpath(runDir);
        writeResultDescription(runDir.toStdString(), result);
        r.resultDir = runDir;
    }
    // The perplexities: evaluations of the result folders (and of the model) in an HDF5 session,
    // as `mpq eval DIR --session FILE` stores them; SessionReader shows each folder as a run.
    const QString sessionFile = dir.absoluteFilePath(QStringLiteral("synthetic-7b.h5"));
    if (QFileInfo::exists(sessionFile) && !QFile::remove(sessionFile))
        throw Error(sessionFile.toStdString() + ": cannot replace the file");
    const auto store = [&](const QString& model, const QMap<QString, double>& perplexity) {
        for (auto it = perplexity.begin(); it != perplexity.end(); ++it) {
            session::Evaluation e;
            e.model = model.toStdString();
            e.dataset = it.key().toStdString();
            e.protocol = "gptq";
            e.seqlen = 2048;
            e.perplexity = it.value();
            e.meanNll = std::log(it.value());
            e.resultJson = R"({"synthetic":true})";
            session::addEvaluation(sessionFile.toStdString(), e);
        }
    };
    store(wb.model, wb.reference);
    for (const RunData& r : wb.runs)
        store(r.resultDir, r.perplexity);
    return sessionFile;
}

} // namespace mpq::gui
