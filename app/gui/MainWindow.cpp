#include "MainWindow.h"

#include "BitMapView.h"
#include "DemoPlan.h"
#include "DurationText.h"
#include "HessianGraphView.h"
#include "JobRunner.h"
#include "LayerTreeModel.h"
#include "PerplexityView.h"
#include "ResultReader.h"
#include "RunDialog.h"
#include "SessionReader.h"
#include "TradeoffView.h"
#include "TrainingCurvesView.h"
#include "WorkbenchFile.h"
#include "WorkspaceFolders.h"

#include "alloc/MxqProblem.h"
#include "demo/SyntheticModel.h"
#include "model/ModelSource.h"
#include "pipeline/ResultFolder.h"
#include "session/Session.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeView>
#include <QVBoxLayout>

namespace mpq::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("MPQ Workbench"));
    setAcceptDrops(true);
    resize(1280, 800);

    m_tabs = new QTabWidget(this);
    m_bitMap = new BitMapView(m_tabs);
    m_tradeoff = new TradeoffView(m_tabs);
    m_hessian = new HessianGraphView(m_tabs);
    m_perplexity = new PerplexityView(m_tabs);
    m_curves = new TrainingCurvesView(m_tabs);
    for (auto [view, name] : {std::pair<QWidget*, QString>{m_bitMap, tr("Bit-width map")},
                              {m_tradeoff, tr("α trade-off")},
                              {m_hessian, tr("Hessian graph")},
                              {m_perplexity, tr("Perplexity")},
                              {m_curves, tr("Allocator training")}}) {
        const int i = m_tabs->addTab(view, name);
        m_tabs->setTabToolTip(i, view->toolTip());
    }
    setCentralWidget(m_tabs);
    buildDocks();
    buildMenus();

    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(320);
    m_progress->setVisible(false);
    m_eta = new QLabel(this);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setToolTip(tr("Stop the running job at its next layer, block or epoch; queued jobs are dropped"));
    m_cancel->setEnabled(false);
    statusBar()->addPermanentWidget(m_eta, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, this, &MainWindow::cancelJobs);

    m_runner = new JobRunner;
    m_resolver = new MxqResolver;
    m_runner->moveToThread(&m_worker);
    m_resolver->moveToThread(&m_worker);
    connect(&m_worker, &QThread::finished, m_runner, &QObject::deleteLater);
    connect(&m_worker, &QThread::finished, m_resolver, &QObject::deleteLater);
    m_worker.setObjectName(QStringLiteral("mpq-worker"));
    m_worker.start();

    connect(m_runner, &JobRunner::started, this, [this](const QString& d) { log(d); });
    connect(m_runner, &JobRunner::progress, this, &MainWindow::onProgress);
    connect(m_runner, &JobRunner::warning, this, [this](const QString& w) { log(tr("warning: %1").arg(w)); });
    connect(m_runner, &JobRunner::runStarted, this, [this](const RunData& r) {
        m_wb.upsert(r);
        refreshRunList();
        showRun(r.name);
    });
    connect(m_runner, &JobRunner::layerReady, this, [this](const QString& run, const std::vector<MatrixResult>& m) {
        if (RunData* r = m_wb.run(run)) {
            r->merge(m);
            if (run == m_currentRun)
                refreshCurrentRun();
        }
    });
    connect(m_runner, &JobRunner::runFinished, this, [this](const RunData& r) {
        RunData copy = r;
        if (const RunData* old = m_wb.run(r.name))
            copy.perplexity = old->perplexity;
        m_wb.upsert(copy);
        reopenSnapshot();
        log(tr("%1: %2 bits per weight (%3 with scales and zeros) in %4")
                .arg(r.name).arg(r.avgBits, 0, 'f', 3).arg(r.avgBitsWithOverhead, 0, 'f', 3)
                .arg(DurationText::format(r.seconds)));
        refreshRunList();
        if (r.name == m_currentRun)
            refreshCurrentRun();
        refreshSummaryViews();
        autoSave();
    });
    connect(m_runner, &JobRunner::evaluated, this, [this](const QString& run, const QString& ds, double ppl) {
        if (run.isEmpty())
            m_wb.reference[ds] = ppl;
        else if (RunData* r = m_wb.run(run))
            r->perplexity[ds] = ppl;
        log(tr("perplexity of %1 on %2: %3").arg(run.isEmpty() ? tr("the unquantized model") : run, ds)
                .arg(ppl, 0, 'f', 3));
        refreshSummaryViews();
        autoSave();
    });
    connect(m_runner, &JobRunner::costsReady, this, [this](const QString& path) {
        if (!m_wb.mxqCostTable.isEmpty())
            return; // the session's own table stays in use
        m_wb.mxqCosts = path;
        loadMxqCosts();
    });
    connect(m_runner, &JobRunner::costTableStored, this, [this](const QString& name) {
        m_wb.mxqCostTable = name;
        reopenSnapshot();
        loadMxqCosts();
    });
    const auto jobEnded = [this] {
        m_busy = false;
        m_progress->setVisible(false);
        m_cancel->setEnabled(!m_queue.empty());
        startNext();
    };
    connect(m_runner, &JobRunner::finished, this, [this, jobEnded] {
        log(tr("job finished"));
        m_eta->setText(tr("done"));
        jobEnded();
    });
    connect(m_runner, &JobRunner::cancelled, this, [this, jobEnded] {
        log(tr("job cancelled: finished points are kept; the point in flight keeps its finished layers in the "
               "session (resumable: mpq quantize --resume %1#RUN)").arg(m_wb.sessionFile));
        reopenSnapshot();
        m_eta->setText(tr("cancelled"));
        m_queue.clear();
        jobEnded();
    });
    connect(m_runner, &JobRunner::failed, this, [this, jobEnded](const QString& message) {
        m_eta->setText(tr("failed"));
        m_queue.clear();
        jobEnded();
        showError(tr("The job failed"), message);
    });
    connect(m_resolver, &MxqResolver::solved, this, &MainWindow::onResolved);
    connect(m_resolver, &MxqResolver::failed, this, [this](quint64 generation, const QString& message) {
        if (generation == m_resolver->latest()) {
            m_lastError = tr("MXQ live solve: %1").arg(message);
            m_tradeoff->setResolved(0, tr("MXQ: %1").arg(message));
            Q_EMIT resolvedDrawn(generation);
        }
    });

    connect(m_bitMap, &BitMapView::matrixClicked, this, &MainWindow::selectTensor);
    connect(m_tradeoff, &TradeoffView::pointChosen, this, &MainWindow::showRun);
    connect(m_tradeoff, &TradeoffView::liveResolveRequested, this, [this](double budget) {
        if (m_resolver->hasTable())
            m_resolver->request(budget);
    });
    connect(m_tradeoff, &TradeoffView::fullRunRequested, this, &MainWindow::onFullRunRequested);
    connect(m_tradeoff, &TradeoffView::datasetChanged, this, [this](const QString& ds) {
        m_dataset = ds;
        refreshSummaryViews();
    });
    log(tr("Open a model (File ▸ Open model), a result folder or a session, or run the demo (Run ▸ Demo)."));
}

MainWindow::~MainWindow()
{
    m_queue.clear();
    m_runner->cancel();
    m_worker.quit();
    m_worker.wait();
}

void MainWindow::buildDocks()
{
    auto* browser = new QWidget(this);
    auto* layout = new QVBoxLayout(browser);
    layout->setContentsMargins(4, 4, 4, 4);
    m_modelLabel = new QLabel(tr("No model open"), browser);
    m_modelLabel->setWordWrap(true);
    m_runBox = new QComboBox(browser);
    m_runBox->setToolTip(tr("The run shown in the layer browser, the bit map and the matrix views"));
    m_treeModel = new LayerTreeModel(this);
    m_tree = new QTreeView(browser);
    m_tree->setModel(m_treeModel);
    m_tree->setUniformRowHeights(true);
    m_tree->setToolTip(tr("Layer browser: decoder layers and their matrices with shape, bits and error"));
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(m_modelLabel);
    layout->addWidget(m_runBox);
    layout->addWidget(m_tree, 1);
    auto* dock = new QDockWidget(tr("Layers"), this);
    dock->setObjectName(QStringLiteral("layers"));
    dock->setWidget(browser);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    connect(m_runBox, &QComboBox::currentTextChanged, this, [this](const QString& name) {
        if (!name.isEmpty() && name != m_currentRun)
            showRun(name);
    });
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& i) {
        const QString tensor = i.siblingAtColumn(0).data(LayerTreeModel::TensorRole).toString();
        if (!tensor.isEmpty() && tensor != m_currentTensor)
            selectTensor(tensor);
    });

    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setToolTip(tr("Log: what the jobs did, their warnings and errors"));
    auto* logDock = new QDockWidget(tr("Log"), this);
    logDock->setObjectName(QStringLiteral("log"));
    logDock->setWidget(m_log);
    addDockWidget(Qt::BottomDockWidgetArea, logDock);
    resizeDocks({dock}, {360}, Qt::Horizontal);
    resizeDocks({logDock}, {110}, Qt::Vertical);
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &model…"), QKeySequence::Open, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a Hugging Face model folder"));
        if (!dir.isEmpty())
            openPath(dir);
    });
    file->addAction(tr("Open model &file (.bin)…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open a llama2.c checkpoint"), {}, tr("llama2.c (*.bin)"));
        if (!f.isEmpty())
            openPath(f);
    });
    file->addAction(tr("Open &session or result…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a session or a result.json"), {},
            tr("Sessions and results (*.h5 *.hdf5 *.mpqwb result.json);;All files (*)"));
        if (!f.isEmpty())
            openPath(QFileInfo(f).fileName() == QLatin1String("result.json") ? QFileInfo(f).absolutePath() : f);
    });
    file->addAction(tr("&New session…"), QKeySequence::New, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("New session for %1").arg(m_wb.model), {},
                                                       tr("HDF5 sessions (*.h5)"));
        if (!f.isEmpty())
            newSession(f.endsWith(QLatin1String(".h5")) ? f : f + QStringLiteral(".h5"));
    });
    file->addAction(tr("Save session &as…"), QKeySequence::SaveAs, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the session as"), {}, tr("HDF5 sessions (*.h5)"));
        if (!f.isEmpty())
            saveSessionAs(f.endsWith(QLatin1String(".h5")) ? f : f + QStringLiteral(".h5"));
    });
    m_recentMenu = file->addMenu(tr("Open &recent"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("Export current &plot…"), this, [this] {
        auto* view = qobject_cast<PlotView*>(m_tabs->currentWidget());
        if (!view)
            return;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), {},
                                                          tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)"));
        QString error;
        if (!path.isEmpty() && !view->exportTo(path, &error))
            showError(tr("Export failed"), error);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Quantize…"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] { openRunDialog(); });
    run->addAction(tr("Evaluate the &unquantized model"), this, [this] {
        if (m_wb.model.isEmpty() || m_wb.synthetic)
            return showError(tr("Nothing to evaluate"), tr("Open a real model first (a synthetic model has no tokenizer)."));
        JobRequest r;
        r.kind = JobRequest::Kind::Reference;
        r.params.model = m_wb.model.toStdString();
        r.params.dataDir = WorkspaceFolders::dataDirectory().toStdString();
        r.evalDatasets = {QStringLiteral("wikitext2"), QStringLiteral("c4")};
        enqueue(r);
    });
    QAction* demo = run->addAction(tr("&Demo"), this, &MainWindow::startDemo);
    demo->setToolTip(tr("Open a small model and run a fast GPTQ + MG-PTQ so the maps fill in within a minute"));
    run->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), this, &MainWindow::cancelJobs);
}

void MainWindow::log(const QString& line)
{
    m_log->appendPlainText(QStringLiteral("%1  %2").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), line));
}

void MainWindow::showError(const QString& title, const QString& text)
{
    m_lastError = text;
    log(tr("error: %1").arg(text));
    if (m_interactive)
        QMessageBox::critical(this, title, text);
}

bool MainWindow::openPath(const QString& rawPath)
{
    const QString path = QFileInfo(rawPath).absoluteFilePath();
    if (!QFileInfo::exists(path)) {
        showError(tr("Cannot open"), tr("%1 does not exist.").arg(path));
        return false;
    }
    const bool sessionLike = QFileInfo(path).isFile() && !path.endsWith(QLatin1String(".bin"));
    if (sessionLike && m_busy) {
        showError(tr("A job is running"), tr("Wait for the running job to finish (or cancel it) before opening "
                                             "another session: its results go into %1.").arg(m_wb.sessionFile));
        return false;
    }
    try {
        if (QFileInfo(path).isDir() && isResultFolder(path.toStdString())) {
            RunData r = ResultReader::readResultFolder(path);
            if (m_wb.model.isEmpty())
                openModel(r.model);
            r.name = m_wb.uniqueName(r.name);
            m_wb.upsert(r);
            log(tr("result folder %1 shown as run %2 (result folders stay outside the HDF5 session)").arg(path, r.name));
            refreshRunList();
            showRun(r.name);
            refreshSummaryViews();
        } else if (sessionLike && (session::isHdf5File(path.toStdString()) || !path.endsWith(QLatin1String(".mpqwb")))) {
            // Everything that is not an .mpqwb index goes to the engine's reader, which names the
            // problem of a file that is no session (not HDF5, truncated, foreign, newer).
            Workbench wb = SessionReader::load(path);
            log(tr("session %1: %2 runs, %3 MXQ cost tables").arg(path).arg(wb.runs.size()).arg(wb.mxqCostTable.isEmpty() ? 0 : 1));
            showWorkbench(std::move(wb), path);
        } else if (sessionLike) {
            QStringList problems;
            Workbench wb = WorkbenchFile::load(path, &problems);
            for (const QString& p : problems)
                log(tr("warning: run skipped: %1").arg(p));
            // An index of result folders from before the HDF5 session: its runs are shown, new
            // jobs go into an HDF5 session beside it.
            const QString folder = wb.folder.isEmpty() ? QFileInfo(path).absolutePath() : wb.folder;
            wb.sessionFile = WorkspaceFolders::sessionFile(folder);
            if (QFileInfo::exists(wb.sessionFile)) {
                Workbench h5 = SessionReader::load(wb.sessionFile);
                for (const RunData& r : h5.runs)
                    wb.upsert(r);
                wb.mxqCostTable = h5.mxqCostTable;
            }
            log(tr("old workbench index %1: new jobs go into the HDF5 session %2").arg(path, wb.sessionFile));
            showWorkbench(std::move(wb), wb.sessionFile);
        } else {
            ModelSource::open(path.toStdString()); // validates headers only; throws a readable error
            openModel(path);
        }
    } catch (const std::exception& e) {
        showError(tr("Cannot open %1").arg(QFileInfo(path).fileName()), QString::fromStdString(e.what()));
        return false;
    }
    addRecent(path);
    return true;
}

void MainWindow::showWorkbench(Workbench wb, const QString& sessionPath)
{
    const QString sessionFile = wb.sessionFile;
    m_wb = std::move(wb);
    m_wb.sessionFile = sessionFile;
    m_sessionPath = sessionPath;
    if (m_wb.folder.isEmpty())
        m_wb.folder = QFileInfo(m_wb.sessionFile).absolutePath();
    m_currentRun.clear();
    m_currentTensor.clear();
    m_modelLabel->setText(tr("Model: %1%2\nSession: %3")
                              .arg(m_wb.model.isEmpty() ? tr("(none recorded)") : m_wb.model,
                                   m_wb.synthetic ? tr("  [SYNTHETIC]") : QString(), m_wb.sessionFile));
    reopenSnapshot();
    loadMxqCosts();
    refreshRunList();
    if (!m_wb.runs.empty())
        showRun(m_wb.runs.front().name);
    else
        refreshCurrentRun();
    refreshSummaryViews();
}

void MainWindow::reopenSnapshot()
{
    m_snapshot.reset();
    if (m_wb.sessionFile.isEmpty() || !QFileInfo::exists(m_wb.sessionFile))
        return;
    try {
        m_snapshot = std::make_shared<const session::Session>(session::Session::open(m_wb.sessionFile.toStdString()));
    } catch (const std::exception& e) {
        log(tr("warning: session not readable: %1").arg(QString::fromStdString(e.what())));
    }
}

bool MainWindow::newSession(const QString& rawPath)
{
    const QString path = QFileInfo(rawPath).absoluteFilePath();
    if (isBusy()) {
        showError(tr("A job is running"), tr("Wait for the jobs to finish (or cancel them) before starting a new session."));
        return false;
    }
    if (m_wb.model.isEmpty()) {
        showError(tr("No model"), tr("Open a model first: a session records the runs of one model."));
        return false;
    }
    if (QFileInfo::exists(path) && !QFile::remove(path)) {
        showError(tr("New session"), tr("%1 exists and cannot be replaced.").arg(path));
        return false;
    }
    Workbench wb;
    wb.model = m_wb.model;
    wb.synthetic = m_wb.synthetic;
    wb.folder = QFileInfo(path).absolutePath();
    wb.sessionFile = path;
    log(tr("new session %1 for %2 (written when the first job or evaluation finishes)").arg(path, wb.model));
    showWorkbench(std::move(wb), path);
    addRecent(path);
    return true;
}

bool MainWindow::saveSessionAs(const QString& rawPath)
{
    const QString path = QFileInfo(rawPath).absoluteFilePath();
    if (isBusy()) {
        showError(tr("A job is running"), tr("Wait for the jobs to finish before saving the session elsewhere: the "
                                             "running job's layers are still in the session's journal."));
        return false;
    }
    if (path == m_wb.sessionFile)
        return true;
    if (QFileInfo::exists(m_wb.sessionFile)) {
        // Copy to a temporary beside the target, then rename: the target is the old file or the
        // complete copy, never half a session.
        QFile source(m_wb.sessionFile);
        QSaveFile target(path);
        if (!source.open(QIODevice::ReadOnly) || !target.open(QIODevice::WriteOnly)) {
            showError(tr("Save session as"), tr("cannot copy %1 to %2: %3")
                                                 .arg(m_wb.sessionFile, path,
                                                      source.isOpen() ? target.errorString() : source.errorString()));
            return false;
        }
        while (!source.atEnd())
            target.write(source.read(1 << 20));
        if (!target.commit()) {
            showError(tr("Save session as"), tr("cannot write %1: %2").arg(path, target.errorString()));
            return false;
        }
    }
    log(tr("session saved as %1; new jobs go there").arg(path));
    m_wb.sessionFile = path;
    m_wb.folder = QFileInfo(path).absolutePath();
    m_sessionPath = path;
    reopenSnapshot();
    m_modelLabel->setText(tr("Model: %1\nSession: %2").arg(m_wb.model, m_wb.sessionFile));
    addRecent(path);
    return true;
}

void MainWindow::openModel(const QString& path)
{
    m_wb = Workbench{};
    m_wb.model = path;
    m_wb.synthetic = QFileInfo(path).isDir() && isSyntheticModel(path.toStdString());
    m_wb.folder = WorkspaceFolders::newWorkspace(path);
    m_wb.sessionFile = WorkspaceFolders::sessionFile(m_wb.folder);
    m_sessionPath = m_wb.sessionFile;
    m_snapshot.reset();
    m_currentRun.clear();
    m_resolver->setTable(nullptr);
    m_modelLabel->setText((m_wb.synthetic ? tr("Model: SYNTHETIC LLaMA (random weights) — %1").arg(path)
                                          : tr("Model: %1").arg(path)) +
                          tr("\nSession: %1").arg(m_wb.sessionFile));
    log(tr("model %1; session %2 (written by the first job)").arg(path, m_wb.sessionFile));
    refreshRunList();
    refreshCurrentRun();
    refreshSummaryViews();
}

void MainWindow::startDemo()
{
    try {
        const QString synthetic = QDir(WorkspaceFolders::newWorkspace(QStringLiteral("synthetic"))).filePath(QStringLiteral("model"));
        const DemoPlan plan = DemoPlan::make(WorkspaceFolders::dataDirectory(), synthetic);
        openModel(plan.model);
        log(tr("demo on %1").arg(plan.label));
        setWindowTitle(tr("MPQ Workbench — demo: %1").arg(plan.label));
        for (JobRequest r : plan.jobs)
            enqueue(r);
    } catch (const std::exception& e) {
        showError(tr("The demo could not start"), QString::fromStdString(e.what()));
    }
}

void MainWindow::enqueue(JobRequest request)
{
    if (request.outFolder.isEmpty())
        request.outFolder = m_wb.folder;
    if (request.session.isEmpty())
        request.session = m_wb.sessionFile;
    if (request.kind == JobRequest::Kind::Quantize) {
        request.runNames.clear();
        for (size_t i = 0; i < request.values.size(); ++i) {
            QString name = m_wb.uniqueName(SessionReader::runNameFrom(request.pointName(i)));
            // Points queued but not started yet are not in m_wb: keep their names apart too.
            for (const JobRequest& q : m_queue)
                while (q.runNames.contains(name) || request.runNames.contains(name))
                    name = m_wb.uniqueName(name + QStringLiteral("-q"));
            request.runNames << name;
        }
        if (request.values.size() > 1)
            request.sweepName = SessionReader::runNameFrom(QStringLiteral("sweep-") + request.runNames.front());
        if (request.method == QLatin1String("mxq")) {
            if (request.mxqCostTable.isEmpty())
                request.mxqCostTable = m_wb.mxqCostTable;
            if (request.mxqCosts.isEmpty())
                request.mxqCosts = m_wb.mxqCosts;
        }
        m_lastRequest[request.method] = request;
    }
    m_queue.push_back(request);
    m_cancel->setEnabled(true);
    startNext();
}

void MainWindow::startNext()
{
    if (m_busy)
        return;
    if (m_queue.empty()) {
        Q_EMIT idle();
        return;
    }
    const JobRequest next = m_queue.front();
    m_queue.pop_front();
    m_busy = true;
    m_cancel->setEnabled(true);
    m_progress->setVisible(true);
    m_progress->setRange(0, 0);
    QMetaObject::invokeMethod(m_runner, [runner = m_runner, next] { runner->run(next); }, Qt::QueuedConnection);
}

void MainWindow::cancelJobs()
{
    m_queue.clear();
    if (m_busy) {
        m_runner->cancel();
        m_eta->setText(tr("cancelling…"));
    }
}

void MainWindow::onProgress(const JobProgress& p)
{
    if (p.total > 0) {
        m_progress->setRange(0, int(p.total));
        m_progress->setValue(int(p.done));
    } else {
        m_progress->setRange(0, 0);
    }
    QString text = p.points > 1 ? tr("point %1/%2 · ").arg(p.point + 1).arg(p.points) : QString();
    text += p.stage;
    if (!p.detail.isEmpty())
        text += QStringLiteral(" · ") + p.detail;
    text += tr(" · elapsed %1 · ETA %2").arg(DurationText::format(p.elapsedSeconds), DurationText::format(p.etaSeconds));
    m_eta->setText(text);
}

void MainWindow::autoSave()
{
    // Jobs, evaluations, sweeps and cost tables are written into the HDF5 session by the engine
    // as they finish (each change a complete new file renamed over the old one), so there is
    // nothing left to save here; a missing file only means that no job has finished yet.
    reopenSnapshot();
}

void MainWindow::addRecent(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recent")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue(QStringLiteral("recent"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recent")).toStringList();
    for (const QString& path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openPath(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::refreshRunList()
{
    const QSignalBlocker block(m_runBox);
    m_runBox->clear();
    for (const RunData& r : m_wb.runs)
        m_runBox->addItem(r.name);
    m_runBox->setCurrentText(m_currentRun);
}

void MainWindow::showRun(const QString& name)
{
    if (!m_wb.run(name))
        return;
    m_currentRun = name;
    {
        const QSignalBlocker block(m_runBox);
        m_runBox->setCurrentText(name);
    }
    refreshCurrentRun();
}

void MainWindow::refreshCurrentRun()
{
    const RunData* r = m_wb.run(m_currentRun);
    if (!r) {
        m_treeModel->setRun({});
        m_bitMap->setMatrices({}, tr("No run selected: run a job, open a result, or start the demo."));
        selectTensor({});
        return;
    }
    m_treeModel->setRun(*r);
    m_tree->expandAll();
    const QString title = r->complete ? r->name : tr("%1 (running: %2 matrices so far)").arg(r->name).arg(r->matrices.size());
    m_bitMap->setMatrices(r->matrices, m_wb.synthetic ? tr("[SYNTHETIC model] %1").arg(title) : title);
    if (m_currentTensor.isEmpty() || !r->find(m_currentTensor))
        selectTensor(r->matrices.empty() ? QString() : r->matrices.front().tensor);
    else
        selectTensor(m_currentTensor);
}

void MainWindow::selectTensor(const QString& tensor)
{
    m_currentTensor = tensor;
    const RunData* r = m_wb.run(m_currentRun);
    const MatrixResult* m = r ? r->find(tensor) : nullptr;
    m_bitMap->setSelectedTensor(tensor);
    const QModelIndex idx = m_treeModel->indexOfTensor(tensor);
    if (idx.isValid() && m_tree->currentIndex().siblingAtColumn(0) != idx)
        m_tree->setCurrentIndex(idx);
    if (!m) {
        m_curves->setCurves({}, tr("Select a matrix to see its allocator's training."));
        m_hessian->setGraph({});
        return;
    }
    m_curves->setCurves(m->curves, m->curves.empty() ? tr("%1: no allocator was trained for this matrix (%2)")
                                                           .arg(m->label(), r->method)
                                                     : tr("%1 (%2)").arg(m->label(), r->name));
    HessianGraphData g;
    if (!r->sessionRun.isEmpty()) {
        // Read from the session snapshot; a running job's newer layers need a fresh snapshot.
        for (int attempt = 0; attempt < 2 && !g.available; ++attempt) {
            if (attempt == 1 || !m_snapshot)
                reopenSnapshot();
            if (!m_snapshot)
                break;
            try {
                g = SessionReader::hessianGraph(*m_snapshot, r->sessionRun, tensor);
                break;
            } catch (const std::exception& e) {
                g.source = QString::fromStdString(e.what());
            }
        }
        g.tensor = m->label() + QStringLiteral(" of ") + r->name;
    } else {
        g.tensor = m->label() + QStringLiteral(" of ") + r->name;
        g.source = tr("result folders store no Hessian: run the job into a session to see the graph");
    }
    m_hessian->setGraph(g);
}

void MainWindow::refreshSummaryViews()
{
    m_tradeoff->setSeries(m_wb.tradeoff(m_dataset), m_dataset, m_wb.reference.value(m_dataset, -1.0));
    m_perplexity->setTable(m_wb.perplexityTable({QStringLiteral("wikitext2"), QStringLiteral("c4")}));
}

void MainWindow::loadMxqCosts()
{
    if (!m_wb.mxqCostTable.isEmpty() && m_snapshot) {
        try {
            m_resolver->setTable(std::make_shared<const MxqCostTable>(m_snapshot->mxqCostTable(m_wb.mxqCostTable.toStdString())));
            log(tr("MXQ cost table %1 of the session loaded: the trade-off slider re-solves MXQ live").arg(m_wb.mxqCostTable));
            return;
        } catch (const std::exception& e) {
            log(tr("warning: MXQ cost table not usable: %1").arg(QString::fromStdString(e.what())));
        }
    }
    if (m_wb.mxqCosts.isEmpty() || !QFileInfo::exists(m_wb.mxqCosts)) {
        m_resolver->setTable(nullptr);
        return;
    }
    try {
        m_resolver->setTable(std::make_shared<const MxqCostTable>(MxqCostTable::load(m_wb.mxqCosts.toStdString())));
        log(tr("MXQ cost table loaded: the trade-off slider re-solves MXQ live"));
    } catch (const std::exception& e) {
        log(tr("warning: MXQ cost table not usable: %1").arg(QString::fromStdString(e.what())));
        m_resolver->setTable(nullptr);
    }
}

void MainWindow::setMxqCosts(const QString& path)
{
    m_wb.mxqCosts = QFileInfo(path).absoluteFilePath();
    m_wb.mxqCostTable.clear(); // the file given explicitly wins over the session's table
    loadMxqCosts();
}

void MainWindow::onResolved(const MxqResolved& r)
{
    if (r.generation != m_resolver->latest())
        return; // an older solve: the slider has moved on
    m_bitMap->setMatrices(r.matrices, tr("MXQ live solve at %1 bits/weight (%2, %3 ms; not quantized yet)")
                                          .arg(r.budget, 0, 'f', 3).arg(r.status).arg(r.seconds * 1e3, 0, 'f', 1));
    m_tradeoff->setResolved(r.bitsPerParameter, tr("MXQ solve: %1 bits/weight (not evaluated)").arg(r.bitsPerParameter, 0, 'f', 3));
    Q_EMIT resolvedDrawn(r.generation);
}

void MainWindow::openRunDialog(const QString& method, const std::vector<double>& values)
{
    if (m_wb.model.isEmpty())
        return showError(tr("No model"), tr("Open a model first (File ▸ Open model) or run the demo."));
    RunDialog dialog(this);
    if (!method.isEmpty())
        dialog.preset(method, values);
    while (dialog.exec() == QDialog::Accepted) {
        QString error;
        auto request = dialog.request(m_wb.model, WorkspaceFolders::dataDirectory(), &error);
        if (!request) {
            QMessageBox::warning(this, tr("Check the options"), error);
            continue;
        }
        if (m_wb.synthetic) {
            request->evalDatasets.clear();
            request->params.calibTokens = syntheticCalibrationFile(m_wb.model.toStdString());
        }
        enqueue(*request);
        return;
    }
}

void MainWindow::onFullRunRequested(const QString& family, double knob)
{
    const QString method = family == QLatin1String("MXQ") ? QStringLiteral("mxq")
                           : family.startsWith(QLatin1String("MG-PTQ")) ? QStringLiteral("mgptq")
                                                                         : family.toLower();
    if (m_lastRequest.contains(method)) {
        JobRequest r = m_lastRequest.value(method);
        r.values = {knob};
        log(tr("queued %1 at %2 from the trade-off slider").arg(family).arg(knob, 0, 'g', 4));
        enqueue(r);
    } else {
        openRunDialog(method, {knob});
    }
}

QStringList MainWindow::saveScreenshots(const QString& dir)
{
    QDir().mkpath(dir);
    QStringList files;
    const QStringList names = {QStringLiteral("bitmap"), QStringLiteral("tradeoff"), QStringLiteral("hessian"),
                               QStringLiteral("perplexity"), QStringLiteral("training")};
    for (int i = 0; i < m_tabs->count() && i < names.size(); ++i) {
        m_tabs->setCurrentIndex(i);
        if (auto* view = qobject_cast<PlotView*>(m_tabs->widget(i)))
            view->replotNow();
        QApplication::sendPostedEvents();
        const QString file = QDir(dir).filePath(QStringLiteral("view-%1.png").arg(names[i]));
        if (grab().save(file))
            files << file;
    }
    m_tabs->setCurrentIndex(0);
    return files;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile())
        openPath(urls.front().toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (isBusy() && m_interactive &&
        QMessageBox::question(this, tr("A job is running"), tr("Cancel the running job and quit?")) != QMessageBox::Yes) {
        event->ignore();
        return;
    }
    autoSave();
    event->accept();
}

} // namespace mpq::gui
