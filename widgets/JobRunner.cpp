#include "JobRunner.h"

#include "ResultReader.h"

#include "alloc/MxqSolver.h"
#include "core/Error.h"
#include "core/JobContext.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>
#include <cstdio>

namespace mpq::gui {

namespace {

QString folderName(const QString& run)
{
    QString s = run;
    s.replace(QStringLiteral("α"), QStringLiteral("alpha"));
    s.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._]+")), QStringLiteral("-"));
    return s;
}

/// Registers the signal argument types once, before the first queued emission.
const int kRegistered = [] {
    qRegisterMetaType<JobRequest>();
    qRegisterMetaType<JobProgress>();
    qRegisterMetaType<RunData>();
    qRegisterMetaType<std::vector<MatrixResult>>();
    return 0;
}();

} // namespace

JobRunner::JobRunner(QObject* parent) : QObject(parent) { (void)kRegistered; }

void JobRunner::cancel()
{
    m_cancel.store(true);
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_ctx)
        m_ctx->requestCancel();
}

void JobRunner::attach(JobContext& ctx, int point, int points, const QString& partialDir, const QString& run)
{
    ctx.setWarningHandler([this](const std::string& w) { Q_EMIT warning(QString::fromStdString(w)); });
    ctx.setProgressHandler([this, point, points, partialDir, run](const Progress& p) {
        JobProgress jp;
        jp.stage = QString::fromStdString(p.stage);
        jp.detail = QString::fromStdString(p.detail);
        jp.done = p.done;
        jp.total = p.total;
        jp.unit = QString::fromStdString(p.unit);
        jp.elapsedSeconds = p.elapsedSeconds;
        jp.etaSeconds = p.etaSeconds;
        jp.point = point;
        jp.points = points;
        Q_EMIT progress(jp);
        // The pipeline reports "layer i/L done" after writing that layer's file into the
        // result's .partial folder: read its bits so the maps fill in while the job runs.
        if (!partialDir.isEmpty() && p.unit == "layers" && p.done > 0 &&
            jp.detail.endsWith(QLatin1String(" done"))) {
            char name[48];
            std::snprintf(name, sizeof name, "layers/layer-%03lld.safetensors", (long long)(p.done - 1));
            const QString file = QDir(partialDir).filePath(QString::fromLatin1(name));
            if (QFileInfo::exists(file)) {
                try {
                    Q_EMIT layerReady(run, ResultReader::readLayerFile(file));
                } catch (const std::exception& e) {
                    Q_EMIT warning(tr("could not read the layer just written: %1").arg(QString::fromStdString(e.what())));
                }
            }
        }
    });
}

void JobRunner::run(const JobRequest& request)
{
    m_cancel.store(false);
    JobContext ctx;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_ctx = &ctx;
    }
    struct Detach {
        JobRunner* self;
        ~Detach()
        {
            std::lock_guard<std::mutex> lock(self->m_mutex);
            self->m_ctx = nullptr;
        }
    } detach{this};

    try {
        if (request.kind == JobRequest::Kind::Reference)
            runReference(request, ctx);
        else
            runQuantize(request, ctx);
        Q_EMIT finished();
    } catch (const Cancelled&) {
        Q_EMIT cancelled();
    } catch (const std::exception& e) {
        if (m_cancel.load())
            Q_EMIT cancelled();
        else
            Q_EMIT failed(QString::fromStdString(e.what()));
    } catch (...) {
        Q_EMIT failed(tr("the job failed with an unknown error"));
    }
}

void JobRunner::runReference(const JobRequest& request, JobContext& ctx)
{
    Q_EMIT started(tr("Evaluating the unquantized model"));
    evaluate(request, QString::fromStdString(request.params.model), QString(), ctx, 0);
}

void JobRunner::evaluate(const JobRequest& request, const QString& model, const QString& run, JobContext& ctx,
                         int point)
{
    for (const QString& ds : request.evalDatasets) {
        if (m_cancel.load())
            throw Cancelled();
        EvalParams e = request.eval;
        e.model = model.toStdString();
        e.tokenizer = request.params.tokenizer;
        e.dataset = ds.toStdString();
        e.device = request.params.device;
        e.dataDir = request.params.dataDir;
        attach(ctx, point, int(std::max<size_t>(request.values.size(), 1)), QString(), QString());
        const EvalResult r = evaluatePerplexity(e, ctx);
        Q_EMIT evaluated(run, ds, r.perplexity);
    }
}

void JobRunner::runQuantize(const JobRequest& request, JobContext& ctx)
{
    if (request.values.empty())
        throw Error("the job has no point to quantize");
    if (request.outFolder.isEmpty())
        throw Error("the job has no output folder");
    QDir().mkpath(request.outFolder);
    Q_EMIT started(tr("%1: %2 point(s)").arg(request.method).arg(request.values.size()));

    std::optional<MxqCostTable> costs;
    const int points = int(request.values.size());
    for (int i = 0; i < points; ++i) {
        if (m_cancel.load())
            throw Cancelled();
        const double v = request.values[size_t(i)];
        const QString name = i < request.runNames.size() ? request.runNames[i] : request.pointName(size_t(i));
        QuantizeParams p = request.params;
        const QString out = QDir(request.outFolder).filePath(folderName(name));
        p.out = out.toStdString();
        attach(ctx, i, points, out + QStringLiteral(".partial"), name);

        const QString m = request.method;
        if (m == QLatin1String("rtn") || m == QLatin1String("gptq") || m == QLatin1String("hqq")) {
            p.method = m.toStdString();
            p.bits = int(v);
        } else if (m == QLatin1String("mgptq")) {
            if (request.axis == QLatin1String("alpha")) {
                p.mgptq.alpha = v;
                p.mgptq.targetBits.reset();
            } else {
                p.mgptq.targetBits = v;
                p.mgptq.alpha.reset();
            }
            const std::string kind = p.mgptq.model;
            p.allocator = kind == "hessian-greedy" ? kind : "mgptq-" + kind;
            p.method = "gptq";
            p.bits = *std::max_element(p.mgptq.bitsSet.begin(), p.mgptq.bitsSet.end());
        } else if (m == QLatin1String("mxq")) {
            if (!costs) {
                const QString file = request.mxqCosts;
                if (!file.isEmpty() && QFileInfo::exists(file)) {
                    costs = MxqCostTable::load(file.toStdString());
                } else {
                    MxqCostParams cp;
                    cp.model = p.model;
                    cp.device = p.device;
                    cp.configs = request.mxqConfigs;
                    costs = computeMxqCosts(cp, ctx);
                    if (!file.isEmpty())
                        costs->save(file.toStdString());
                }
                if (!file.isEmpty())
                    Q_EMIT costsReady(file);
            }
            const MxqSolution s = solveMxq(*costs, MxqBudget::bitsPerParameter(v), {}, &ctx);
            if (!s.hasSolution())
                throw Error("MXQ at " + std::to_string(v) + " bits: " + s.message);
            p.plan = toPlan(*costs, s);
            p.method = "hqq";
        } else {
            throw Error("unknown method \"" + m.toStdString() + "\"");
        }

        RunData skeleton;
        skeleton.name = name;
        skeleton.method = m == QLatin1String("mgptq") ? QString::fromStdString(p.allocator) : m;
        skeleton.model = QString::fromStdString(p.model);
        skeleton.sweepAxis = request.axis;
        skeleton.sweepValue = v;
        Q_EMIT runStarted(skeleton);

        quantizeModel(p, ctx);
        RunData done = ResultReader::readResultFolder(out);
        done.name = name;
        done.sweepAxis = request.axis;
        done.sweepValue = v;
        Q_EMIT runFinished(done);
        evaluate(request, out, name, ctx, i);
    }
}

} // namespace mpq::gui
