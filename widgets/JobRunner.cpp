#include "JobRunner.h"

#include "pipeline/Method.h"
#include "pipeline/Override.h"
#include "pipeline/Sweep.h"

#include "ResultReader.h"
#include "SessionReader.h"

#include "alloc/mxq/MxqCostChoice.h"
#include "alloc/mxq/MxqSolver.h"
#include "core/Error.h"
#include "core/JobContext.h"
#include "export/Export.h"
#include "runs/ResultFolder.h"
#include "session/EvaluationRecord.h"
#include "session/RunEdits.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>
#include <functional>

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

void JobRunner::attach(JobContext& ctx, int point, int points, const QString& partialDir, const QString& run,
                       const QString& session)
{
    ctx.setWarningHandler([this](const std::string& w) { Q_EMIT warning(QString::fromStdString(w)); });
    ctx.setProgressHandler([this, point, points](const Progress& p) {
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
    });
    // The pipeline tells when a layer is stored (docs/session-format.md): the session reader
    // overlays the journal, so the maps fill in from the session while the job runs.
    ctx.setLayerHandler([this, partialDir, run, session](int64_t layer, int64_t) {
        if (!session.isEmpty()) {
            try {
                const session::Session s = session::Session::open(session.toStdString());
                std::vector<MatrixResult> m = SessionReader::readLayer(s, run.toStdString(), layer);
                if (!m.empty())
                    Q_EMIT layerReady(run, m);
            } catch (const std::exception& e) {
                Q_EMIT warning(tr("could not read the layer just stored: %1").arg(QString::fromStdString(e.what())));
            }
        }
        // Without a session, the layer's file in the result's .partial folder.
        if (!partialDir.isEmpty()) {
            const QString file = QString::fromStdString(resultLayerFile(partialDir.toStdString(), layer));
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
        else if (request.kind == JobRequest::Kind::Quantize)
            runQuantize(request, ctx);
        else
            runOnRun(request, ctx);
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

void JobRunner::runOnRun(const JobRequest& request, JobContext& ctx)
{
    if (request.run.isEmpty())
        throw Error("the job names no run");
    Q_EMIT started(request.describe());
    const std::string file = request.session.toStdString();
    const std::string run = request.run.toStdString();
    // A step that is one file rewrite: progress 0/1 → 1/1, cancellable before it starts.
    const auto oneStep = [&](const QString& stage, const std::function<void()>& work) {
        JobProgress p;
        p.stage = stage;
        p.detail = request.run;
        p.total = 1;
        Q_EMIT progress(p);
        if (m_cancel.load())
            throw Cancelled();
        work();
        p.done = 1;
        Q_EMIT progress(p);
    };
    switch (request.kind) {
    case JobRequest::Kind::Evaluate:
        if (request.evalDatasets.isEmpty())
            throw Error("no data set to evaluate on");
        evaluate(request, request.runSpec(), request.shownAs.isEmpty() ? request.run : request.shownAs, ctx, 0);
        break;
    case JobRequest::Kind::Export: {
        ExportParams e;
        e.input = request.runSpec().toStdString();
        e.format = parseExportFormat(request.exportFormat.toStdString());
        e.outDir = request.exportDir.toStdString();
        attach(ctx, 0, 1, QString(), QString(), QString());
        const ExportReport r = exportRun(e, ctx);
        for (const std::string& w : r.warnings)
            Q_EMIT warning(QString::fromStdString(w));
        Q_EMIT exported(QString::fromStdString(r.outDir),
                        tr("%1 export of %2: %3 files, %4 MB, %5 quantized matrices")
                            .arg(QString::fromStdString(r.format), request.run)
                            .arg(r.files.size())
                            .arg(double(r.bytes) / 1e6, 0, 'f', 1)
                            .arg(r.quantizedMatrices));
        break;
    }
    case JobRequest::Kind::Resume: {
        if (file.empty())
            throw Error("only a run of a session can be resumed");
        QuantizeParams p;
        p.session = file;
        p.runName = run;
        p.resume = true;
        attach(ctx, 0, 1, QString(), request.run, request.session);
        quantizeModel(p, ctx);
        RunData done = SessionReader::readRun(session::Session::open(file), run);
        Q_EMIT runFinished(done);
        break;
    }
    case JobRequest::Kind::Override: {
        if (file.empty())
            throw Error("only a run of a session can be overridden");
        OverrideParams op;
        op.session = file;
        op.source = "override of " + run;
        op.spec = OverrideSpec::fromJson(request.overrideJson.toStdString(), op.source);
        op.runName = request.newName.toStdString();
        attach(ctx, 0, 1, QString(), request.newName, request.session);
        const QuantizeReport r = quantizeOverride(op, ctx); // warnings went to the log as they came
        Q_EMIT runFinished(SessionReader::readRun(session::Session::open(file), session::splitRunSpec(r.sessionRun).second));
        break;
    }
    case JobRequest::Kind::Rename:
        if (file.empty())
            throw Error("only a run of a session can be renamed");
        oneStep(tr("renaming"), [&] { session::renameRun(file, run, request.newName.toStdString()); });
        break;
    case JobRequest::Kind::Delete:
        if (file.empty())
            throw Error("only a run of a session can be deleted");
        oneStep(tr("deleting"), [&] { session::deleteRun(file, run); });
        break;
    default:
        throw Error("not a job on a run");
    }
    if (!file.empty())
        Q_EMIT sessionChanged();
}

std::vector<std::pair<QString, double>> JobRunner::evaluate(const JobRequest& request, const QString& model,
                                                            const QString& run, JobContext& ctx, int point)
{
    std::vector<std::pair<QString, double>> measured;
    for (const QString& ds : request.evalDatasets) {
        if (m_cancel.load())
            throw Cancelled();
        EvalParams e = request.eval;
        e.model = model.toStdString();
        e.tokenizer = request.params.tokenizer;
        e.dataset = ds.toStdString();
        e.device = request.params.device;
        e.dataDir = request.params.dataDir;
        attach(ctx, point, int(std::max<size_t>(request.values.size(), 1)), QString(), QString(), QString());
        const EvalResult r = evaluatePerplexity(e, ctx);
        if (!request.session.isEmpty()) {
            session::addEvaluation(request.session.toStdString(), session::evaluationRecord(run.toStdString(), e.model, r));
        }
        measured.emplace_back(ds, r.perplexity);
        Q_EMIT evaluated(run, ds, r.perplexity);
    }
    return measured;
}

void JobRunner::runQuantize(const JobRequest& request, JobContext& ctx)
{
    if (request.values.empty())
        throw Error("the job has no point to quantize");
    const bool inSession = !request.session.isEmpty();
    if (!inSession && request.outFolder.isEmpty())
        throw Error("the job has neither a session nor an output folder");
    if (!inSession)
        QDir().mkpath(request.outFolder);
    const std::string sessionFile = request.session.toStdString();
    Q_EMIT started(tr("%1: %2 point(s)").arg(request.method).arg(request.values.size()));

    // The loop is the engine's (pipeline/Sweep.h); here: run names, signals and the cost table's sources.
    const int points = int(request.values.size());
    const QString m = request.method;
    SweepParams sp;
    sp.base = request.params;
    sp.method.method = parseMethod(m.toStdString());
    sp.method.mgptq = request.params.mgptq;
    // mgptq: α when the request's axis says so, else target bits.
    sp.axis = sp.method.method != Method::Mgptq       ? sweepAxisOf(sp.method)
              : request.axis == QLatin1String("alpha") ? SweepAxis::Alpha
                                                       : SweepAxis::TargetBits;
    sp.values = request.values;
    sp.eval = request.eval;
    for (const QString& ds : request.evalDatasets)
        sp.evalDatasets.push_back(ds.toStdString());
    if (inSession) {
        sp.session = sessionFile;
        if (points > 1)
            sp.sweepName = request.sweepName.toStdString();
    }
    sp.sweepModel = request.params.model;

    std::optional<MxqCostTable> costs;
    const auto nameOf = [&](size_t i) {
        return int(i) < request.runNames.size() ? request.runNames[int(i)] : request.pointName(i);
    };
    const auto outOf = [&](size_t i) {
        return inSession ? QString() : QDir(request.outFolder).filePath(folderName(nameOf(i)));
    };
    SweepHooks hooks;
    hooks.prepare = [&](size_t i, const std::optional<uint64_t>&, QuantizeParams& p) {
        const QString name = nameOf(i);
        const QString out = outOf(i);
        p.out = out.toStdString();
        if (inSession) {
            session::checkRunName(name.toStdString());
            p.session = sessionFile;
            p.runName = name.toStdString();
        }
        attach(ctx, int(i), points,
               inSession ? QString() : QString::fromStdString(partialResultFolder(out.toStdString())), name,
               request.session);
    };
    hooks.mxqCosts = [&](const QuantizeParams& p) -> const MxqCostTable& {
        const QString file = request.mxqCosts;
        if (inSession && !request.mxqCostTable.isEmpty() && QFileInfo::exists(request.session)) {
            costs = session::Session::open(sessionFile).mxqCostTable(request.mxqCostTable.toStdString());
        } else if (!file.isEmpty() && QFileInfo::exists(file)) {
            costs = MxqCostTable::load(file.toStdString());
        } else {
            MxqCostParams cp =
                mxqCostParams(p, request.mxqConfigs, kMxqCalibrationWindows, kMxqCalibrationSeqlen);
            cp.costKind = request.mxqCost.toStdString();
            const std::string choice = resolveAutoMxqCost(cp, p.budget);
            if (!choice.empty())
                Q_EMIT note(QStringLiteral("MXQ cost %1").arg(QString::fromStdString(choice)));
            if (cp.costKind == "probed")
                for (double v : request.values)
                    cp.budgets.push_back(MxqBudget::bitsPerParameter(v));
            costs = computeMxqCosts(cp, ctx);
            costs->costChoice = choice;
            if (!file.isEmpty())
                costs->save(file.toStdString());
        }
        if (!file.isEmpty() && QFileInfo::exists(file))
            Q_EMIT costsReady(file);
        return *costs;
    };
    hooks.quantizing = [&](const SweepRun& run) {
        RunData skeleton;
        skeleton.name = nameOf(run.index);
        skeleton.method = sp.method.method == Method::Mgptq ? QString::fromStdString(run.params.allocator) : m;
        skeleton.model = QString::fromStdString(run.params.model);
        skeleton.sweepAxis = request.axis;
        skeleton.sweepValue = run.value;
        skeleton.status = QStringLiteral("running");
        if (inSession)
            skeleton.sessionRun = skeleton.name; // the Hessian view reads the layers from the session as they land
        Q_EMIT runStarted(skeleton);
    };
    hooks.quantized = [&](const SweepRun& run) {
        RunData done;
        if (inSession) {
            // The MXQ cost table goes into the session under the run's name, as `mpq quantize
            // --method mxq --session` stores it, for the budget slider's live re-solve.
            if (costs && sp.method.method == Method::Mxq) {
                const session::Session s = session::Session::open(sessionFile);
                const auto names = s.mxqCostTableNames();
                if (request.mxqCostTable.isEmpty() ||
                    std::find(names.begin(), names.end(), request.mxqCostTable.toStdString()) == names.end()) {
                    session::saveMxqCostTable(sessionFile, run.params.runName, *costs);
                    Q_EMIT costTableStored(nameOf(run.index));
                }
            }
            done = SessionReader::readRun(session::Session::open(sessionFile), run.params.runName);
        } else {
            done = ResultReader::readResultFolder(outOf(run.index));
        }
        done.name = nameOf(run.index);
        done.sweepAxis = request.axis;
        done.sweepValue = run.value;
        Q_EMIT runFinished(done);
        attach(ctx, int(run.index), points, QString(), QString(), QString()); // the evaluations' progress
    };
    hooks.evaluated = [&](const SweepRun& run, const EvalResult& r) {
        const std::string& ds = run.evaluations.back().first;
        Q_EMIT evaluated(nameOf(run.index), QString::fromStdString(ds), r.perplexity);
    };
    runSweep(sp, hooks, ctx);
}

} // namespace mpq::gui
