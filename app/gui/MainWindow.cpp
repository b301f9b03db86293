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
#include "TradeoffView.h"
#include "TrainingCurvesView.h"
#include "WorkbenchFile.h"
#include "WorkspaceFolders.h"

#include "alloc/MxqProblem.h"
#include "demo/SyntheticModel.h"
#include "model/ModelSource.h"
#include "pipeline/ResultFolder.h"

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
        m_wb.mxqCosts = path;
        loadMxqCosts();
        autoSave();
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
        log(tr("job cancelled: finished points are kept, the point in flight left nothing behind"));
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
        const QString f = QFileDialog::getOpenFileName(this, tr("Open a session or a result.json"), {},
                                                       tr("Sessions and results (*.mpqwb result.json);;All files (*)"));
        if (!f.isEmpty())
            openPath(QFileInfo(f).fileName() == QLatin1String("result.json") ? QFileInfo(f).absolutePath() : f);
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
    try {
        if (QFileInfo(path).isDir() && isResultFolder(path.toStdString())) {
            RunData r = ResultReader::readResultFolder(path);
            if (m_wb.model.isEmpty())
                openModel(r.model);
            r.name = m_wb.uniqueName(r.name);
            m_wb.upsert(r);
            refreshRunList();
            showRun(r.name);
            refreshSummaryViews();
            autoSave();
        } else if (QFileInfo(path).isFile() && !path.endsWith(QLatin1String(".bin"))) {
            QStringList problems;
            Workbench wb = WorkbenchFile::load(path, &problems);
            m_wb = wb;
            m_sessionPath = path;
            if (m_wb.folder.isEmpty())
                m_wb.folder = QFileInfo(path).absolutePath();
            m_modelLabel->setText(tr("Model: %1%2").arg(m_wb.model, m_wb.synthetic ? tr("  [SYNTHETIC]") : QString()));
            for (const QString& p : problems)
                log(tr("warning: run skipped: %1").arg(p));
            loadMxqCosts();
            refreshRunList();
            if (!m_wb.runs.empty())
                showRun(m_wb.runs.front().name);
            refreshSummaryViews();
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

void MainWindow::openModel(const QString& path)
{
    m_wb = Workbench{};
    m_wb.model = path;
    m_wb.synthetic = QFileInfo(path).isDir() && isSyntheticModel(path.toStdString());
    m_wb.folder = WorkspaceFolders::newWorkspace(path);
    m_sessionPath = WorkspaceFolders::sessionFile(m_wb.folder);
    m_currentRun.clear();
    m_resolver->setTable(nullptr);
    m_modelLabel->setText(m_wb.synthetic ? tr("Model: SYNTHETIC LLaMA (random weights) — %1").arg(path)
                                         : tr("Model: %1").arg(path));
    log(tr("model %1; workspace %2").arg(path, m_wb.folder));
    refreshRunList();
    refreshCurrentRun();
    refreshSummaryViews();
    autoSave();
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
    if (request.kind == JobRequest::Kind::Quantize) {
        request.runNames.clear();
        for (size_t i = 0; i < request.values.size(); ++i)
            request.runNames << m_wb.uniqueName(request.pointName(i));
        if (request.method == QLatin1String("mxq") && request.mxqCosts.isEmpty())
            request.mxqCosts = m_wb.mxqCosts.isEmpty() ? QDir(m_wb.folder).filePath(QStringLiteral("mxq-costs.json"))
                                                       : m_wb.mxqCosts;
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
    if (m_sessionPath.isEmpty() || m_wb.model.isEmpty())
        return;
    try {
        WorkbenchFile::save(m_wb, m_sessionPath);
    } catch (const std::exception& e) {
        log(tr("warning: session not saved: %1").arg(QString::fromStdString(e.what())));
    }
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
    // The engine's result folders keep no Hessian; the HDF5 session will (docs/gui.md).
    HessianGraphData g;
    g.tensor = m->label() + QStringLiteral(" of ") + r->name;
    g.available = false;
    m_hessian->setGraph(g);
}

void MainWindow::refreshSummaryViews()
{
    m_tradeoff->setSeries(m_wb.tradeoff(m_dataset), m_dataset, m_wb.reference.value(m_dataset, -1.0));
    m_perplexity->setTable(m_wb.perplexityTable({QStringLiteral("wikitext2"), QStringLiteral("c4")}));
}

void MainWindow::loadMxqCosts()
{
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
    loadMxqCosts();
    autoSave();
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
