#include "MainWindow.h"

#include "BitMapView.h"
#include "ColumnExplainer.h"
#include "ExplainView.h"
#include "GptqTeachView.h"
#include "MgptqTeachView.h"
#include "MxqTeachView.h"
#include "CompareView.h"
#include "DemoPlan.h"
#include "DurationText.h"
#include "GgufCurveBuilder.h"
#include "GgufTradeoffView.h"
#include "GuidedTour.h"
#include "HelpMenu.h"
#include "HessianGraphView.h"
#include "JobRunner.h"
#include "LayerTreeModel.h"
#include "PerplexityView.h"
#include "ResultReader.h"
#include "RunDialog.h"
#include "SessionReader.h"
#include "TradeoffView.h"
#include "TrainingCurvesView.h"
#include "WindowState.h"
#include "WorkbenchFile.h"
#include "WorkspaceFolders.h"

#include "alloc/mxq/MxqProblem.h"
#include "core/Device.h"
#include "core/Error.h"
#include "export/Export.h"
#include "demo/SyntheticModel.h"
#include "model/ModelSource.h"
#include "runs/ResultFolder.h"
#include "alloc/mgptq/MgptqTrace.h"
#include "quant/GptqTrace.h"
#include "session/ColumnExplain.h"
#include "session/Session.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHeaderView>
#include <QIcon>
#include <QImage>
#include <QInputDialog>
#include <QLineEdit>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QScreen>
#include <QSplitter>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

// Q_INIT_RESOURCE must be called outside a namespace.
static void initIconResource()
{
    Q_INIT_RESOURCE(mpq_workbench);
}

namespace mpq::gui {

QIcon MainWindow::applicationIcon()
{
    initIconResource();
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/mpq-workbench-%1.png").arg(size), QSize(size, size));
    icon.addFile(QStringLiteral(":/icons/mpq-workbench.svg"));
    return icon;
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("MPQ Workbench"));
    setWindowIcon(applicationIcon());
    setAcceptDrops(true);
    resize(1280, 800);

    m_tabs = new QTabWidget(this);
    m_bitMap = new BitMapView(m_tabs);
    // The trade-off tab: the curves and the slider, with the bit map beside them, so that
    // dragging the slider shows the allocation change (the splitter can fold the map away).
    m_tradeoffSplit = new QSplitter(Qt::Horizontal, m_tabs);
    m_tradeoff = new TradeoffView(m_tradeoffSplit);
    m_sideMap = new BitMapView(m_tradeoffSplit);
    m_sideMap->setObjectName(QStringLiteral("sideBitMap"));
    m_tradeoffSplit->addWidget(m_tradeoff);
    m_tradeoffSplit->addWidget(m_sideMap);
    m_tradeoffSplit->setStretchFactor(0, 3);
    m_tradeoffSplit->setStretchFactor(1, 2);
    m_tradeoffSplit->setToolTip(m_tradeoff->toolTip());
    m_hessian = new HessianGraphView(m_tabs);
    m_perplexity = new PerplexityView(m_tabs);
    m_curves = new TrainingCurvesView(m_tabs);
    m_gguf = new GgufTradeoffView(m_tabs);
    m_compare = new CompareView(m_tabs);
    m_teach = new GptqTeachView(m_tabs);
    m_teachMg = new MgptqTeachView(m_tabs);
    m_teachMxq = new MxqTeachView(m_tabs);
    for (auto [view, name] : {std::pair<QWidget*, QString>{m_bitMap, tr("Bit-width map")},
                              {m_tradeoffSplit, tr("α trade-off")},
                              {m_hessian, tr("Hessian graph")},
                              {m_perplexity, tr("Perplexity")},
                              {m_curves, tr("Allocator training")},
                              {m_gguf, tr("GGUF mixes")},
                              {m_compare, tr("Compare runs")},
                              {m_teach, tr("Teach GPTQ")},
                              {m_teachMg, tr("Teach MG-PTQ")},
                              {m_teachMxq, tr("Teach MXQ")}}) {
        const int i = m_tabs->addTab(view, name);
        m_tabs->setTabToolTip(i, view->toolTip());
    }
    setCentralWidget(m_tabs);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { updateTeach(); });
    buildDocks();
    buildMenus();

    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(320);
    m_progress->setVisible(false);
    m_eta = new QLabel(this);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setToolTip(tr("Stop the running job at its next layer, block or epoch; queued jobs are dropped"));
    m_cancel->setEnabled(false);
    // The device of new jobs: CPU and each CUDA device LibTorch sees (CPU only with Debian's
    // CPU-only LibTorch). The running job's device is named in the progress text.
    m_deviceBox = new QComboBox(this);
    m_deviceBox->setObjectName(QStringLiteral("deviceBox"));
    for (const DeviceChoice& d : availableDevices())
        m_deviceBox->addItem(QString::fromStdString(d.id == "cpu" ? std::string("CPU") : d.id), QString::fromStdString(d.id));
    for (int i = 0; i < m_deviceBox->count(); ++i)
        m_deviceBox->setItemData(i, QString::fromStdString(deviceDescription(m_deviceBox->itemData(i).toString().toStdString())),
                                 Qt::ToolTipRole);
    m_deviceBox->setToolTip(m_deviceBox->count() > 1
                                ? tr("Device of new jobs (the running job keeps its own)")
                                : tr("Device of new jobs: this build's LibTorch sees no CUDA device"));
    auto* deviceLabel = new QLabel(tr("Device:"), this);
    statusBar()->addPermanentWidget(deviceLabel);
    statusBar()->addPermanentWidget(m_deviceBox);
    statusBar()->addPermanentWidget(m_eta, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (confirmCancel())
            cancelJobs();
    });

    m_runner = new JobRunner;
    m_resolver = new MxqResolver;
    m_ggufBuilder = new GgufCurveBuilder;
    m_runner->moveToThread(&m_worker);
    m_ggufBuilder->moveToThread(&m_worker);
    connect(&m_worker, &QThread::finished, m_runner, &QObject::deleteLater);
    connect(&m_worker, &QThread::finished, m_ggufBuilder, &QObject::deleteLater);
    m_worker.setObjectName(QStringLiteral("mpq-worker"));
    m_worker.start();
    // The slider's MXQ re-solves run on their own thread: a job on the worker (hours of GPTQ)
    // must not hold them up, nor they the job.
    m_resolver->moveToThread(&m_resolveThread);
    connect(&m_resolveThread, &QThread::finished, m_resolver, &QObject::deleteLater);
    m_resolveThread.setObjectName(QStringLiteral("mpq-mxq-resolve"));
    m_resolveThread.start();
    m_explainer = new ColumnExplainer;
    m_explainer->moveToThread(&m_explainThread);
    connect(&m_explainThread, &QThread::finished, m_explainer, &QObject::deleteLater);
    m_explainThread.setObjectName(QStringLiteral("mpq-explain"));
    m_explainThread.start();
    connect(m_explainer, &ColumnExplainer::explained, this,
            [this](quint64 generation, const mpq::session::ColumnExplanation& e) {
                if (generation == m_explainer->latest())
                    m_explain->setExplanation(e);
            });
    connect(m_explainer, &ColumnExplainer::failed, this, [this](quint64 generation, const QString& message) {
        if (generation == m_explainer->latest())
            m_explain->setMessage(message);
    });

    connect(m_runner, &JobRunner::started, this, [this](const QString& d) { log(d); });
    connect(m_runner, &JobRunner::progress, this, &MainWindow::onProgress);
    connect(m_runner, &JobRunner::warning, this, [this](const QString& w) { log(tr("warning: %1").arg(w)); });
    connect(m_runner, &JobRunner::note, this, [this](const QString& n) { log(n); });
    connect(m_runner, &JobRunner::runStarted, this, [this](const RunData& r) {
        RunData running = r;
        running.status = QStringLiteral("running");
        m_runningRun = r.name;
        m_wb.upsert(running);
        refreshRunList();
        showRun(r.name);
        noteSessionOnDisk();
    });
    connect(m_runner, &JobRunner::layerReady, this, [this](const QString& run, const std::vector<MatrixResult>& m) {
        if (RunData* r = m_wb.run(run)) {
            r->merge(m);
            if (run == m_currentRun && !m_liveShown)
                refreshCurrentRun();
            Q_EMIT layerShown(run);
        }
    });
    connect(m_runner, &JobRunner::runFinished, this, [this](const RunData& r) {
        RunData copy = r;
        if (const RunData* old = m_wb.run(r.name))
            copy.perplexity = old->perplexity;
        m_wb.upsert(copy);
        m_runningRun.clear();
        reopenSnapshot();
        log(tr("%1: %2 bits per weight (%3 with scales and zeros) in %4")
                .arg(r.name).arg(r.avgBits, 0, 'f', 3).arg(r.avgBitsWithOverhead, 0, 'f', 3)
                .arg(DurationText::format(r.seconds)));
        refreshRunList();
        if (r.name == m_currentRun)
            refreshCurrentRun();
        refreshSummaryViews();
        autoSave();
        if (r.name == m_showWhenDone) {
            m_showWhenDone.clear();
            showRun(r.name);
        }
    });
    connect(m_runner, &JobRunner::evaluated, this, [this](const QString& run, const QString& ds, double ppl) {
        if (run.isEmpty())
            m_wb.reference[ds] = ppl;
        else if (RunData* r = m_wb.run(run))
            r->perplexity[ds] = ppl;
        log(tr("perplexity of %1 on %2: %3").arg(run.isEmpty() ? tr("the unquantized model") : run, ds)
                .arg(ppl, 0, 'f', 3));
        refreshSummaryViews();
        noteSessionOnDisk();
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
    connect(m_runner, &JobRunner::sessionChanged, this, [this] {
        reloadSession();
        noteSessionOnDisk();
    });
    connect(m_runner, &JobRunner::exported, this, [this](const QString& folder, const QString& summary) {
        log(tr("%1 — in %2").arg(summary, folder));
    });
    const auto jobEnded = [this] {
        m_busy = false;
        m_runningRun.clear();
        m_runningDevice.clear();
        m_progress->setVisible(false);
        m_cancel->setEnabled(!m_queue.empty());
        noteSessionOnDisk();
        updateActions();
        startNext();
    };
    connect(m_runner, &JobRunner::finished, this, [this, jobEnded] {
        log(tr("job finished"));
        m_eta->setText(tr("done"));
        jobEnded();
    });
    connect(m_runner, &JobRunner::cancelled, this, [this, jobEnded] {
        const QString run = m_runningRun;
        const bool inSession = !run.isEmpty() && m_wb.run(run) && !m_wb.run(run)->sessionRun.isEmpty();
        if (inSession)
            log(tr("job cancelled: finished points are kept; run %1 keeps its finished layers in the session "
                   "(Run ▸ Selected run ▸ Resume, or: mpq quantize --resume %2#%1)").arg(run, m_wb.sessionFile));
        else
            log(tr("job cancelled: finished points are kept"));
        m_eta->setText(tr("cancelled"));
        m_queue.clear();
        reloadSession(); // the cancelled run's status and stored layers, as the session has them
        jobEnded();
    });
    connect(m_runner, &JobRunner::failed, this, [this, jobEnded](const QString& message) {
        m_eta->setText(tr("failed"));
        m_queue.clear();
        reloadSession();
        jobEnded();
        showError(tr("The job failed"), message);
    });
    connect(m_ggufBuilder, &GgufCurveBuilder::built, this, [this](const GgufCurve& curve) {
        if (curve.generation != m_ggufBuilder->latest())
            return; // another table was asked for since
        m_ggufShown = curve.generation;
        m_gguf->setCurve(curve);
        log(tr("GGUF trade-off of %1: %2 MIP mixes and %3 llama.cpp presets (%4 ms)")
                .arg(curve.source)
                .arg(curve.tradeoff.mixes.size())
                .arg(curve.tradeoff.presets.size())
                .arg(curve.seconds * 1e3, 0, 'f', 0));
    });
    connect(m_ggufBuilder, &GgufCurveBuilder::failed, this, [this](quint64 generation, const QString& message) {
        if (generation != m_ggufBuilder->latest())
            return;
        m_ggufShown = generation;
        m_gguf->setCurveError(message);
        log(tr("warning: GGUF cost table not usable: %1").arg(message));
    });
    connect(m_resolver, &MxqResolver::solved, this, &MainWindow::showResolved);
    connect(m_resolver, &MxqResolver::failed, this, [this](quint64 generation, const QString& message) {
        if (generation == m_resolver->latest()) {
            m_lastError = tr("MXQ live solve: %1").arg(message);
            m_tradeoff->setResolved(0, tr("MXQ: %1").arg(message));
            Q_EMIT resolvedDrawn(generation);
        }
    });

    connect(m_bitMap, &BitMapView::matrixClicked, this, &MainWindow::selectTensor);
    connect(m_sideMap, &BitMapView::matrixClicked, this, &MainWindow::selectTensor);
    connect(m_bitMap, &BitMapView::columnClicked, this, &MainWindow::explainColumn);
    connect(m_sideMap, &BitMapView::columnClicked, this, &MainWindow::explainColumn);
    for (BitMapView* map : {m_bitMap, m_sideMap})
        connect(map, &BitMapView::columnShiftClicked, m_explain, &ExplainView::extendColumns);
    connect(m_explain, &ExplainView::overrideRequested, this,
            [this](const QString& run, const QString& json, const QString& description) {
                requestOverride(run, json, description);
            });
    connect(m_compare, &CompareView::matrixChosen, this, [this](const QString& t) {
        if (const RunData* r = m_wb.run(m_currentRun); r && r->find(t))
            selectTensor(t);
    });
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
    updateActions();
    log(tr("Open a model (File ▸ Open model), a result folder or a session, or run the demo (Run ▸ Demo)."));
}

MainWindow::~MainWindow()
{
    m_queue.clear();
    m_runner->cancel();
    m_worker.quit();
    m_worker.wait();
    m_resolveThread.quit();
    m_resolveThread.wait();
    m_explainThread.quit();
    m_explainThread.wait();
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
    m_runBox->setObjectName(QStringLiteral("runBox"));
    m_runBox->setPlaceholderText(tr("(no stored run shown)"));
    // activated, not currentTextChanged: picking the run already listed shows it again (after a
    // live MXQ solution took the bit map).
    connect(m_runBox, &QComboBox::activated, this, [this](int i) {
        const QString name = m_runBox->itemText(i);
        if (!name.isEmpty())
            showRun(name);
    });
    m_runBox->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_runBox, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        const QString name = m_runBox->currentText();
        if (name.isEmpty() || !m_wb.run(name))
            return;
        QMenu* menu = runMenu(name, this);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(m_runBox->mapToGlobal(pos));
    });
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_tree, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        if (m_currentRun.isEmpty() || !m_wb.run(m_currentRun))
            return;
        QMenu* menu = runMenu(m_currentRun, this);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(m_tree->viewport()->mapToGlobal(pos));
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
    // Explain (issue 19): on the right, hidden until a column is clicked, so the views keep
    // their width until then.
    m_explain = new ExplainView(this);
    m_explainDock = new QDockWidget(tr("Explain"), this);
    m_explainDock->setObjectName(QStringLiteral("explain"));
    m_explainDock->setWidget(m_explain);
    addDockWidget(Qt::RightDockWidgetArea, m_explainDock);
    m_explainDock->hide();
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
    m_newSessionAction = file->addAction(tr("&New session…"), QKeySequence::New, this, [this] {
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
    file->addAction(tr("Open &GGUF cost table…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a GGUF cost table (mpq quantize --method gguf-mxq --gguf-costs FILE)"), {},
            tr("GGUF cost tables (*.json);;All files (*)"));
        if (!f.isEmpty()) {
            setGgufCosts(f);
            m_tabs->setCurrentWidget(m_gguf);
        }
    });
    m_recentMenu = file->addMenu(tr("Open &recent session"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("Export current &plot…"), this, [this] {
        auto* view = qobject_cast<PlotView*>(m_tabs->currentWidget());
        if (!view && m_tabs->currentWidget() == m_tradeoffSplit)
            view = m_tradeoff;
        if (!view)
            return;
        QString filter;
        const QString path = PlotView::withFilterSuffix(
            QFileDialog::getSaveFileName(this, tr("Export plot"), {}, PlotView::exportFilter(), &filter), filter);
        QString error;
        if (!path.isEmpty() && !view->exportTo(path, &error))
            showError(tr("Export failed"), error);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_quantizeAction = run->addAction(tr("&Quantize…"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] { openRunDialog(); });
    m_referenceAction = run->addAction(tr("Evaluate the &unquantized model"), this, [this] {
        if (m_wb.model.isEmpty() || m_wb.synthetic)
            return showError(tr("Nothing to evaluate"), tr("Open a real model first (a synthetic model has no tokenizer)."));
        JobRequest r;
        r.kind = JobRequest::Kind::Reference;
        r.params.model = m_wb.model.toStdString();
        r.params.dataDir = WorkspaceFolders::dataDirectory().toStdString();
        r.evalDatasets = {QStringLiteral("wikitext2"), QStringLiteral("c4")};
        if (m_haveEvalSettings)
            r.eval = m_evalSettings;
        enqueue(r);
    });
    m_selectedRunMenu = run->addMenu(tr("Selected &run"));
    connect(m_selectedRunMenu, &QMenu::aboutToShow, this, [this] {
        m_selectedRunMenu->clear();
        if (!m_wb.run(m_currentRun)) {
            m_selectedRunMenu->addAction(tr("(no run selected)"))->setEnabled(false);
            return;
        }
        QMenu* menu = runMenu(m_currentRun, m_selectedRunMenu);
        for (QAction* a : menu->actions())
            m_selectedRunMenu->addAction(a);
    });
    QAction* demo = run->addAction(tr("&Demo"), this, &MainWindow::startDemo);
    demo->setToolTip(tr("Open a small model and run a fast GPTQ + MG-PTQ so the maps fill in within a minute"));
    // No Esc shortcut: a stray Esc must not throw away a long job; Cancel asks first.
    run->addAction(tr("&Cancel the running job…"), this, [this] {
        if (confirmCancel())
            cancelJobs();
    });
    QMenu* help = HelpMenu::add(this);
    QAction* tour = new QAction(tr("&Guided tour (demo)"), help);
    tour->setObjectName(QStringLiteral("guidedTourAction"));
    tour->setToolTip(tr("Walks through the workbench on the demo's runs: bit map, Explain, Override, GPTQ / MG-PTQ / "
                        "MXQ step by step, trade-off, comparison"));
    connect(tour, &QAction::triggered, this, [this] { guidedTour()->start(); });
    help->insertAction(help->actions().isEmpty() ? nullptr : help->actions().at(1), tour);
}

bool MainWindow::canQuantize() const
{
    return !m_wb.model.isEmpty();
}

void MainWindow::updateActions()
{
    const bool model = canQuantize();
    const QString why = model ? QString() : tr("Open a model first (File ▸ Open model) or run the demo.");
    for (QAction* a : {m_quantizeAction, m_newSessionAction}) {
        a->setEnabled(model);
        a->setToolTip(why);
    }
    m_referenceAction->setEnabled(model && !m_wb.synthetic);
}

bool MainWindow::confirmCancel()
{
    if (!isBusy())
        return false;
    if (!m_interactive)
        return true;
    return QMessageBox::question(this, tr("Cancel the job?"),
                                 tr("Stop the running job at its next layer, block or epoch and drop the queued "
                                    "jobs? Finished points are kept; a cancelled run keeps its finished layers and "
                                    "can be resumed.")) == QMessageBox::Yes;
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
    const bool resultFolder = QFileInfo(path).isDir() && isResultFolder(path.toStdString());
    if (isBusy() && !resultFolder) {
        // The running job writes into this window's session: the same model (or that session)
        // stays in view; anything else waits, so that no job writes into a session no one sees.
        if (path == m_wb.model || path == m_wb.sessionFile) {
            log(tr("%1 is open: the running job writes into %2").arg(path, m_wb.sessionFile));
            return true;
        }
        showError(tr("A job is running"), tr("Wait for the running job to finish (or cancel it) before opening "
                                             "another model or session: its results go into %1.").arg(m_wb.sessionFile));
        return false;
    }
    try {
        if (resultFolder) {
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
            for (const QString& p : wb.problems)
                log(tr("warning: not shown: %1").arg(p));
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
            if (path == m_wb.model) {
                log(tr("%1 is open already; its runs stay in session %2 (File ▸ New session for a fresh one)")
                        .arg(path, m_wb.sessionFile));
                return true;
            }
            openModel(path);
            return true; // Recent lists sessions: this one goes there when a job writes it
        }
    } catch (const std::exception& e) {
        showError(tr("Cannot open %1").arg(QFileInfo(path).fileName()), QString::fromStdString(e.what()));
        return false;
    }
    if (session::isHdf5File(path.toStdString()))
        addRecent(path);
    else
        noteSessionOnDisk();
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
    m_liveShown = false;
    m_tradeoff->clearResolved();
    updateActions();
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

void MainWindow::reloadSession()
{
    if (m_wb.sessionFile.isEmpty() || !QFileInfo::exists(m_wb.sessionFile)) {
        reopenSnapshot();
        return;
    }
    Workbench fresh;
    try {
        fresh = SessionReader::load(m_wb.sessionFile);
    } catch (const std::exception& e) {
        log(tr("warning: session not readable: %1").arg(QString::fromStdString(e.what())));
        return;
    }
    // Result folders shown beside the session stay; the session's runs are taken as stored.
    for (const RunData& r : m_wb.runs)
        if (r.sessionRun.isEmpty())
            fresh.upsert(r);
    if (fresh.model.isEmpty())
        fresh.model = m_wb.model;
    fresh.synthetic = m_wb.synthetic;
    fresh.folder = m_wb.folder;
    fresh.mxqCosts = m_wb.mxqCosts;
    if (fresh.mxqCostTable.isEmpty())
        fresh.mxqCostTable = m_wb.mxqCostTable;
    QString keep = m_currentRun;
    while (m_renamed.contains(keep) && !fresh.run(keep))
        keep = m_renamed.take(keep);
    m_wb = std::move(fresh);
    reopenSnapshot();
    refreshRunList();
    if (m_wb.run(keep) && !m_liveShown) {
        showRun(keep);
    } else if (!m_wb.run(keep)) {
        m_currentRun.clear();
        if (m_wb.runs.empty())
            refreshCurrentRun();
        else
            showRun(m_wb.runs.front().name);
    }
    refreshSummaryViews();
}

QStringList MainWindow::exportFormats()
{
    // Every format the engine accepts (parseExportFormat is the one list; names it does not know
    // in this build are left out).
    QStringList out;
    for (const char* name : {"hf", "gptq", "mpq-packed", "gguf"}) {
        try {
            parseExportFormat(name);
            out << QString::fromLatin1(name);
        } catch (const std::exception&) {
        }
    }
    return out;
}

bool MainWindow::checkSessionRun(const QString& name, const QString& what, bool needIncomplete)
{
    const RunData* r = m_wb.run(name);
    if (!r) {
        showError(what, tr("There is no run named %1.").arg(name));
        return false;
    }
    if (r->sessionRun.isEmpty()) {
        showError(what, tr("%1 is a result folder shown beside the session (%2): only session runs can be resumed, "
                           "renamed or deleted here.").arg(name, r->resultDir));
        return false;
    }
    if (isBusy() && name == m_runningRun) {
        showError(what, tr("%1 is being written by the running job: wait for it (or cancel it) first.").arg(name));
        return false;
    }
    if (needIncomplete && r->complete) {
        showError(what, tr("%1 is complete: there is nothing to resume.").arg(name));
        return false;
    }
    return true;
}

bool MainWindow::evaluateRun(const QString& name)
{
    const RunData* r = m_wb.run(name);
    if (!r)
        return showError(tr("Evaluate"), tr("There is no run named %1.").arg(name)), false;
    if (m_wb.synthetic)
        return showError(tr("Evaluate"), tr("The synthetic model has no tokenizer: there is no perplexity to measure.")),
               false;
    if (!r->complete)
        return showError(tr("Evaluate"), tr("%1 is %2: resume it first (run menu ▸ Resume).").arg(name, r->status)), false;
    JobRequest j;
    j.kind = JobRequest::Kind::Evaluate;
    j.run = r->sessionRun.isEmpty() ? r->resultDir : r->sessionRun;
    j.shownAs = name;
    j.session = r->sessionRun.isEmpty() ? QString() : m_wb.sessionFile;
    j.params.model = m_wb.model.toStdString();
    j.params.dataDir = WorkspaceFolders::dataDirectory().toStdString();
    j.evalDatasets = {QStringLiteral("wikitext2"), QStringLiteral("c4")};
    if (m_haveEvalSettings)
        j.eval = m_evalSettings; // comparable with the session's other evaluations
    enqueue(j);
    return true;
}

bool MainWindow::exportRun(const QString& name, const QString& format, const QString& folder)
{
    const RunData* r = m_wb.run(name);
    if (!r)
        return showError(tr("Export"), tr("There is no run named %1.").arg(name)), false;
    if (!r->complete)
        return showError(tr("Export"), tr("%1 is %2: only complete runs can be exported.").arg(name, r->status)), false;
    if (!exportFormats().contains(format))
        return showError(tr("Export"), tr("unknown export format \"%1\" (%2)").arg(format, exportFormats().join(QStringLiteral(", ")))),
               false;
    if (folder.isEmpty())
        return showError(tr("Export"), tr("Choose a folder to export into.")), false;
    JobRequest j;
    j.kind = JobRequest::Kind::Export;
    j.run = r->sessionRun.isEmpty() ? r->resultDir : r->sessionRun;
    j.shownAs = name;
    j.session = r->sessionRun.isEmpty() ? QString() : m_wb.sessionFile;
    j.exportFormat = format;
    j.exportDir = QFileInfo(folder).absoluteFilePath();
    enqueue(j);
    return true;
}

bool MainWindow::resumeRun(const QString& name)
{
    if (!checkSessionRun(name, tr("Resume"), true))
        return false;
    JobRequest j;
    j.kind = JobRequest::Kind::Resume;
    j.run = name;
    j.session = m_wb.sessionFile;
    enqueue(j);
    return true;
}

bool MainWindow::renameRun(const QString& name, const QString& newName)
{
    if (!checkSessionRun(name, tr("Rename")))
        return false;
    try {
        session::checkRunName(newName.toStdString());
    } catch (const std::exception& e) {
        return showError(tr("Rename"), QString::fromStdString(e.what())), false;
    }
    if (m_wb.run(newName))
        return showError(tr("Rename"), tr("There is a run named %1 already.").arg(newName)), false;
    JobRequest j;
    j.kind = JobRequest::Kind::Rename;
    j.run = name;
    j.newName = newName;
    j.session = m_wb.sessionFile;
    m_renamed[name] = newName; // the run shown follows it once the session is re-read
    enqueue(j);
    return true;
}

bool MainWindow::deleteRun(const QString& name)
{
    if (!checkSessionRun(name, tr("Delete")))
        return false;
    JobRequest j;
    j.kind = JobRequest::Kind::Delete;
    j.run = name;
    j.session = m_wb.sessionFile;
    enqueue(j);
    return true;
}

QMenu* MainWindow::runMenu(const QString& name, QWidget* parent)
{
    auto* menu = new QMenu(parent);
    const RunData* r = m_wb.run(name);
    if (!r) {
        menu->addAction(tr("(no such run)"))->setEnabled(false);
        return menu;
    }
    menu->setToolTipsVisible(true);
    const bool inSession = !r->sessionRun.isEmpty();
    const bool runningThis = name == m_runningRun;
    const auto disable = [](QAction* a, const QString& why) {
        a->setEnabled(false);
        a->setToolTip(why);
    };
    QAction* title = menu->addAction(tr("%1 — %2, %3").arg(name, Workbench::familyName(r->method),
                                                           r->complete ? tr("complete") : r->status));
    title->setEnabled(false);
    menu->addSeparator();

    QAction* eval = menu->addAction(tr("&Evaluate (perplexity on WikiText-2 and C4)"), this, [this, name] { evaluateRun(name); });
    if (m_wb.synthetic)
        disable(eval, tr("The synthetic model has no tokenizer"));
    else if (!r->complete)
        disable(eval, tr("The run is not complete"));

    QMenu* exportMenu = menu->addMenu(tr("E&xport checkpoint"));
    exportMenu->setToolTipsVisible(true);
    for (const QString& format : exportFormats()) {
        const QString text = format == QLatin1String("hf")           ? tr("Hugging Face folder, dequantized fp16 (hf)…")
                             : format == QLatin1String("gptq")       ? tr("GPTQ packed checkpoint (gptq)…")
                             : format == QLatin1String("mpq-packed") ? tr("MPQ packed, per-column bits (mpq-packed)…")
                             : format == QLatin1String("gguf")       ? tr("GGUF file for llama.cpp (gguf)…")
                                                                      : format + QStringLiteral("…");
        QAction* a = exportMenu->addAction(text, this, [this, name, format] {
            const QString folder = QFileDialog::getSaveFileName(
                this, tr("Export %1 as %2 into a new folder").arg(name, format),
                QDir(m_wb.folder).filePath(QStringLiteral("%1-%2").arg(name, format)));
            if (!folder.isEmpty())
                exportRun(name, format, folder);
        });
        if (!r->complete)
            disable(a, tr("The run is not complete"));
    }
    if (!r->complete)
        exportMenu->setEnabled(false);

    QAction* resume = menu->addAction(tr("&Resume from the last stored layer"), this, [this, name] { resumeRun(name); });
    if (!inSession)
        disable(resume, tr("A result folder cannot be resumed"));
    else if (r->complete)
        disable(resume, tr("The run is complete"));
    else if (runningThis)
        disable(resume, tr("The run is being written now"));
    menu->addSeparator();
    QAction* rename = menu->addAction(tr("Re&name…"), this, [this, name] {
        bool ok = false;
        const QString to = QInputDialog::getText(this, tr("Rename run"), tr("New name (A-Z a-z 0-9 . _ -):"),
                                                 QLineEdit::Normal, name, &ok);
        if (ok && !to.isEmpty() && to != name)
            renameRun(name, to);
    });
    QAction* del = menu->addAction(tr("&Delete…"), this, [this, name] {
        if (!m_interactive ||
            QMessageBox::question(this, tr("Delete run"),
                                  tr("Delete run %1 with its layers, evaluations and sweep points from %2? This cannot "
                                     "be undone.").arg(name, m_wb.sessionFile)) == QMessageBox::Yes)
            deleteRun(name);
    });
    for (QAction* a : {rename, del}) {
        if (!inSession)
            disable(a, tr("Result folders are shown beside the session, not stored in it"));
        else if (runningThis)
            disable(a, tr("The run is being written now"));
    }
    return menu;
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
    log(tr("new session %1 for %2 (written by the first job; then listed in File ▸ Open recent session)").arg(path, wb.model));
    showWorkbench(std::move(wb), path);
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
    if (m_wb.model.isEmpty() && m_wb.runs.empty()) {
        showError(tr("Save session as"), tr("There is no session to save: open a model or a session first."));
        return false;
    }
    if (!QFileInfo::exists(m_wb.sessionFile)) {
        // No job has written the session yet: there is nothing to copy. New jobs go to `path`,
        // which goes into Recent once it exists.
        if (QFileInfo::exists(path) && !QFile::remove(path)) {
            showError(tr("Save session as"), tr("%1 exists and cannot be replaced.").arg(path));
            return false;
        }
        log(tr("nothing saved yet (no job has written the session): new jobs will write %1").arg(path));
        m_wb.sessionFile = path;
        m_wb.folder = QFileInfo(path).absolutePath();
        m_sessionPath = path;
        m_modelLabel->setText(tr("Model: %1\nSession: %2 (not written yet)").arg(m_wb.model, m_wb.sessionFile));
        return true;
    }
    {
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
    // The folder is only named here: the first job creates it with the session, so a workspace
    // without jobs leaves nothing on disk.
    m_wb.folder = WorkspaceFolders::newWorkspace(path);
    m_wb.sessionFile = WorkspaceFolders::sessionFile(m_wb.folder);
    m_sessionPath = m_wb.sessionFile;
    m_snapshot.reset();
    m_currentRun.clear();
    m_liveShown = false;
    m_tradeoff->clearResolved();
    m_resolver->setTable(nullptr);
    updateActions();
    QStringList earlier;
    for (const QString& session : recentSessions())
        if (QSettings().value(QStringLiteral("sessionModel/") + session).toString() == path)
            earlier << session;
    if (!earlier.isEmpty())
        log(tr("earlier sessions of this model (File ▸ Open recent session): %1").arg(earlier.join(QStringLiteral(", "))));
    m_modelLabel->setText((m_wb.synthetic ? tr("Model: SYNTHETIC LLaMA (random weights) — %1").arg(path)
                                          : tr("Model: %1").arg(path)) +
                          tr("\nSession: %1").arg(m_wb.sessionFile));
    log(tr("model %1; session %2 (written by the first job)").arg(path, m_wb.sessionFile));
    setWindowTitle(tr("MPQ Workbench"));
    refreshRunList();
    refreshCurrentRun();
    refreshSummaryViews();
}

void MainWindow::startDemo()
{
    try {
        if (isBusy())
            return showError(tr("A job is running"), tr("Wait for the running job to finish (or cancel it) before "
                                                        "starting the demo."));
        // Named only: DemoPlan writes the synthetic model there only when no real model is found.
        const QString synthetic = QDir(WorkspaceFolders::newWorkspace(QStringLiteral("synthetic"))).filePath(QStringLiteral("model"));
        const DemoPlan plan = DemoPlan::make(WorkspaceFolders::dataDirectory(), synthetic);
        openModel(plan.model);
        if (!plan.synthetic && !plan.jobs.empty()) {
            m_evalSettings = plan.jobs.front().eval;
            m_haveEvalSettings = true;
        }
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
    const bool writesRuns = request.kind == JobRequest::Kind::Quantize || request.kind == JobRequest::Kind::Reference;
    if (request.outFolder.isEmpty())
        request.outFolder = m_wb.folder;
    // Jobs that compute run on the device chosen now (a resume runs where its stored settings say).
    if (writesRuns || request.kind == JobRequest::Kind::Evaluate) {
        request.params.device = device().toStdString();
        request.eval.device = request.params.device;
    }
    // The run menu's jobs name their session themselves (empty: a result folder).
    if (request.session.isEmpty() && writesRuns)
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
    if (!request.evalDatasets.isEmpty() &&
        (request.kind == JobRequest::Kind::Quantize || request.kind == JobRequest::Kind::Reference)) {
        m_evalSettings = request.eval;
        m_haveEvalSettings = true;
    }
    m_queue.push_back(request);
    m_cancel->setEnabled(true);
    startNext();
}

QString MainWindow::device() const
{
    return m_deviceBox->currentData().toString();
}

bool MainWindow::setDevice(const QString& id)
{
    const int i = m_deviceBox->findData(id);
    if (i < 0)
        return false;
    m_deviceBox->setCurrentIndex(i);
    return true;
}

QStringList MainWindow::devices() const
{
    QStringList out;
    for (int i = 0; i < m_deviceBox->count(); ++i)
        out << m_deviceBox->itemData(i).toString();
    return out;
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
    const bool computes = next.kind == JobRequest::Kind::Quantize || next.kind == JobRequest::Kind::Reference ||
                          next.kind == JobRequest::Kind::Evaluate;
    m_runningDevice = computes ? QString::fromStdString(next.params.device) : QString();
    if (computes)
        log(tr("%1 — on %2 (%3)").arg(next.describe(), m_runningDevice,
                                      QString::fromStdString(deviceDescription(next.params.device))));
    m_eta->setText(computes ? tr("on %1 · starting…").arg(m_runningDevice) : tr("starting…"));
    m_cancel->setEnabled(true);
    m_progress->setVisible(true);
    m_progress->setRange(0, 0);
    if (next.kind == JobRequest::Kind::Resume)
        if (RunData* r = m_wb.run(next.run)) {
            r->status = QStringLiteral("running");
            m_runningRun = r->name;
            if (r->name == m_currentRun)
                refreshCurrentRun();
        }
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
    QString text = m_runningDevice.isEmpty() ? QString() : tr("on %1 · ").arg(m_runningDevice);
    if (p.points > 1)
        text += tr("point %1/%2 · ").arg(p.point + 1).arg(p.points);
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
    QStringList recent = settings.value(QStringLiteral("recentSessions")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue(QStringLiteral("recentSessions"), recent);
    if (path == m_wb.sessionFile && !m_wb.model.isEmpty())
        settings.setValue(QStringLiteral("sessionModel/") + path, m_wb.model);
    rebuildRecentMenu();
}

QStringList MainWindow::recentSessions()
{
    QStringList out;
    for (const QString& path : QSettings().value(QStringLiteral("recentSessions")).toStringList())
        if (QFileInfo(path).isFile())
            out << path;
    return out;
}

void MainWindow::noteSessionOnDisk()
{
    if (!m_wb.sessionFile.isEmpty() && QFileInfo(m_wb.sessionFile).isFile() &&
        recentSessions().value(0) != m_wb.sessionFile)
        addRecent(m_wb.sessionFile);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentSessions();
    QSettings settings;
    for (const QString& path : recent) {
        const QString model = settings.value(QStringLiteral("sessionModel/") + path).toString();
        const QString text = model.isEmpty() ? path : tr("%1  —  %2").arg(path, QFileInfo(model).fileName());
        m_recentMenu->addAction(text, this, [this, path] { openPath(path); });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::refreshRunList()
{
    const QSignalBlocker block(m_runBox);
    m_runBox->clear();
    for (const RunData& r : m_wb.runs)
        m_runBox->addItem(r.name);
    m_runBox->setCurrentIndex(m_liveShown ? -1 : m_runBox->findText(m_currentRun));
}

void MainWindow::showRun(const QString& name)
{
    if (!m_wb.run(name))
        return;
    m_currentRun = name;
    m_liveShown = false;
    m_tradeoff->clearResolved();
    m_tradeoff->followRun(name); // the slider shows where the run sits on its knob
    {
        const QSignalBlocker block(m_runBox);
        m_runBox->setCurrentIndex(m_runBox->findText(name));
    }
    refreshCurrentRun();
}

QString MainWindow::runTitle(const RunData& r) const
{
    if (r.complete)
        return r.name;
    const QString status = r.status.isEmpty() ? QStringLiteral("running") : r.status;
    if (status == QLatin1String("running"))
        return tr("%1 (running: %2 matrices so far)").arg(r.name).arg(r.matrices.size());
    return tr("%1 (%2: %3 matrices stored; resumable from the run menu)").arg(r.name, status).arg(r.matrices.size());
}

void MainWindow::setMaps(const std::vector<MatrixResult>& matrices, const QString& title)
{
    m_bitMap->setMatrices(matrices, title);
    m_sideMap->setMatrices(matrices, title);
}

void MainWindow::refreshCurrentRun()
{
    const RunData* r = m_wb.run(m_currentRun);
    if (!r) {
        m_treeModel->setRun({});
        setMaps({}, tr("No run selected: run a job, open a result, or start the demo."));
        selectTensor({});
        return;
    }
    m_treeModel->setRun(*r);
    m_tree->expandAll();
    const QString title = runTitle(*r);
    setMaps(r->matrices, m_wb.synthetic ? tr("[SYNTHETIC model] %1").arg(title) : title);
    if (m_currentTensor.isEmpty() || !r->find(m_currentTensor))
        selectTensor(r->matrices.empty() ? QString() : r->matrices.front().tensor);
    else
        selectTensor(m_currentTensor);
}

void MainWindow::selectTensor(const QString& tensor)
{
    m_currentTensor = tensor;
    updateTeach();
    const RunData* r = m_wb.run(m_currentRun);
    const MatrixResult* m = r ? r->find(tensor) : nullptr;
    m_bitMap->setSelectedTensor(tensor);
    m_sideMap->setSelectedTensor(tensor);
    if (m_liveShown) {
        m_curves->setCurves({}, tr("A live MXQ solution is shown: MXQ trains no allocator."));
        HessianGraphData none;
        none.tensor = tensor;
        none.source = tr("a live MXQ solution is data-free: it has no Hessian");
        m_hessian->setGraph(none);
        return;
    }
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
        if (!g.available && !r->complete && g.source.contains(QLatin1String("no ")))
            g.source = tr("this layer is not in the session yet (the job is writing it)");
    } else {
        g.tensor = m->label() + QStringLiteral(" of ") + r->name;
        g.source = tr("result folders store no Hessian: run the job into a session to see the graph");
    }
    m_hessian->setGraph(g);
}

void MainWindow::refreshSummaryViews()
{
    m_tradeoff->setSeries(m_wb.tradeoff(m_dataset), m_dataset, m_wb.reference.value(m_dataset, -1.0));
    m_perplexity->setTable(m_wb.perplexityTable(m_wb.evaluatedDatasets()));
    m_gguf->setRuns(m_wb.ggufRuns(m_dataset), m_dataset);
    m_compare->setWorkbench(m_wb);
}

void MainWindow::setGgufCosts(const QString& path)
{
    m_ggufCosts = QFileInfo(path).absoluteFilePath();
    m_ggufBuilder->request(m_ggufCosts);
}

bool MainWindow::waitForGgufCurve(int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (m_ggufShown != m_ggufBuilder->latest() && clock.elapsed() < ms) {
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(5);
    }
    return m_ggufShown == m_ggufBuilder->latest();
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

void MainWindow::showResolved(const MxqResolved& r)
{
    if (r.generation != m_resolver->latest())
        return; // an older solve: the slider has moved on
    // The bit map, the layer browser and the run list all say the same: a live solution, no
    // stored run. Picking a run in the run list shows that run again.
    m_liveShown = true;
    {
        const QSignalBlocker block(m_runBox);
        m_runBox->setCurrentIndex(-1);
        m_runBox->setPlaceholderText(tr("MXQ live solve at %1 bits/weight (not a stored run)").arg(r.budget, 0, 'f', 3));
    }
    RunData live;
    live.name = tr("MXQ live solve");
    live.method = QStringLiteral("mxq");
    live.matrices = r.matrices;
    m_treeModel->setRun(live);
    m_tree->expandAll();
    setMaps(r.matrices, tr("MXQ live solve at %1 bits/weight (%2, %3 ms; not quantized yet)")
                            .arg(r.budget, 0, 'f', 3).arg(r.status).arg(r.seconds * 1e3, 0, 'f', 1));
    m_tradeoff->setResolved(r.bitsPerParameter, tr("MXQ solve: %1 bits/weight (not evaluated)").arg(r.bitsPerParameter, 0, 'f', 3));
    Q_EMIT resolvedDrawn(r.generation);
}

void MainWindow::openRunDialog(const QString& method, const std::vector<double>& values)
{
    if (m_wb.model.isEmpty())
        return showError(tr("No model"), tr("Open a model first (File ▸ Open model) or run the demo."));
    RunDialog dialog(this);
    if (m_dialogState.isEmpty())
        m_dialogState = QSettings().value(QStringLiteral("runDialog")).toMap();
    // The settings of the last job started from the dialog, on the main window's device.
    QVariantMap state = m_dialogState;
    state.insert(QStringLiteral("device"), device());
    dialog.restoreState(state);
    if (!method.isEmpty())
        dialog.preset(method, values);
    while (dialog.exec() == QDialog::Accepted) {
        QString error;
        auto request = dialog.request(m_wb.model, WorkspaceFolders::dataDirectory(), &error);
        if (!request) {
            QMessageBox::warning(this, tr("Check the options"), error);
            continue;
        }
        m_dialogState = dialog.state();
        QSettings().setValue(QStringLiteral("runDialog"), m_dialogState);
        setDevice(QString::fromStdString(request->params.device)); // the dialog's choice becomes the window's
        if (m_wb.synthetic) {
            request->evalDatasets.clear();
            request->params.calibTokens = syntheticCalibrationFile(m_wb.model.toStdString());
        }
        enqueue(*request);
        return;
    }
}

void MainWindow::onFullRunRequested(const QString& family, const QString& axis, double knob)
{
    const QString method = family == QLatin1String("MXQ") ? QStringLiteral("mxq")
                           : family.startsWith(QLatin1String("MG-PTQ")) || family == QLatin1String("Hessian-greedy")
                               ? QStringLiteral("mgptq")
                               : family.toLower();
    if (m_lastRequest.contains(method)) {
        JobRequest r = m_lastRequest.value(method);
        r.axis = axis; // the series' knob: α and target bits are different jobs
        r.values = {knob};
        log(tr("queued %1 at %2 from the trade-off slider").arg(family).arg(knob, 0, 'g', 4));
        enqueue(r);
    } else {
        openRunDialog(method, {knob});
    }
}

void MainWindow::requestOverride(const QString& run, const QString& overrideJson, const QString& description)
{
    const RunData* r = m_wb.run(m_currentRun);
    if (!r || r->sessionRun != run || m_wb.sessionFile.isEmpty()) {
        log(tr("override: run %1 is not a run of the open session").arg(run));
        return;
    }
    JobRequest j;
    j.kind = JobRequest::Kind::Override;
    j.session = m_wb.sessionFile;
    j.run = run;
    j.shownAs = r->name;
    j.newName = m_wb.uniqueName(run.left(48) + QStringLiteral("-override"));
    j.overrideJson = overrideJson;
    log(tr("override of %1: %2, as run %3").arg(run, description, j.newName));
    m_showWhenDone = j.newName;
    enqueue(j);
}

GuidedTour* MainWindow::guidedTour()
{
    if (!m_tour)
        m_tour = new GuidedTour(this);
    return m_tour;
}

void MainWindow::updateTeach()
{
    if (m_teachMxq && m_tabs->currentWidget() == m_teachMxq) {
        // The stored run last picked, also while the slider shows a live solution of its table.
        const RunData* r = m_wb.run(m_currentRun);
        if (!r || r->sessionRun.isEmpty() || r->method != QLatin1String("mxq") || !QFileInfo::exists(m_wb.sessionFile)) {
            m_teachMxqKey.clear();
            m_teachMxq->setMessage(tr("Teaching mode for MXQ walks through the budget of an MXQ run of a session "
                                      "(Run ▸ Quantize… with MXQ stores its cost table): show one."));
            return;
        }
        const QString key = m_wb.sessionFile + QLatin1Char('#') + r->sessionRun;
        if (key == m_teachMxqKey)
            return;
        m_teachMxqKey = key;
        try {
            auto run = std::make_shared<session::MxqRunChoice>(
                session::mxqRunChoice(m_wb.sessionFile.toStdString(), r->sessionRun.toStdString()));
            m_teachMxq->setRun(std::move(run), r->name);
        } catch (const std::exception& e) {
            m_teachMxq->setMessage(tr("%1: %2").arg(r->name, QString::fromStdString(e.what())));
        }
        return;
    }
    if (m_teachMg && m_tabs->currentWidget() == m_teachMg) {
        const RunData* r = m_liveShown ? nullptr : m_wb.run(m_currentRun);
        if (!r || r->sessionRun.isEmpty() || r->matrices.empty() || !r->method.startsWith(QLatin1String("mgptq")) ||
            !QFileInfo::exists(m_wb.sessionFile)) {
            m_teachMgKey.clear();
            m_teachMg->setMessage(tr("Teaching mode for MG-PTQ replays the allocator of an MG-PTQ run of a session: "
                                     "show one (the demo makes two) and select a matrix."));
            return;
        }
        const MatrixResult* m = r->find(m_currentTensor);
        if (!m)
            m = &r->matrices.front();
        const QString key = m_wb.sessionFile + QLatin1Char('#') + r->sessionRun + QLatin1Char('#') + m->tensor;
        if (key == m_teachMgKey)
            return;
        m_teachMgKey = key;
        try {
            // The allocator trains again on this one matrix (the demo's: 40 epochs, well under a
            // second on the CPU), on the GUI thread.
            auto t = std::make_shared<MgptqTrace>(traceMgptqFromSession(m_wb.sessionFile.toStdString(),
                                                                        r->sessionRun.toStdString(), m->tensor.toStdString()));
            m_teachMg->setTrace(std::move(t), tr("%1 of %2").arg(m->label(), r->name));
        } catch (const std::exception& e) {
            m_teachMg->setMessage(tr("%1: %2").arg(m->label(), QString::fromStdString(e.what())));
        }
        return;
    }
    if (!m_teach || m_tabs->currentWidget() != m_teach)
        return;
    const RunData* r = m_liveShown ? nullptr : m_wb.run(m_currentRun);
    if (!r || r->sessionRun.isEmpty() || r->matrices.empty() || !QFileInfo::exists(m_wb.sessionFile)) {
        m_teachKey.clear();
        m_teach->setMessage(tr("Teaching mode plays GPTQ on a matrix of a session run (its full Hessian is "
                               "stored there): show one, e.g. run the demo (Run ▸ Demo)."));
        return;
    }
    const MatrixResult* m = r->find(m_currentTensor);
    if (!m)
        m = &r->matrices.front();
    const QString key = m_wb.sessionFile + QLatin1Char('#') + r->sessionRun + QLatin1Char('#') + m->tensor;
    if (key == m_teachKey)
        return;
    m_teachKey = key;
    GptqTraceOptions o;
    o.bits = std::clamp(int(std::lround(m->averageBits())), 2, 8); // the run's width of the matrix
    try {
        // At most 65536 weights (GptqTraceOptions::maxCells): milliseconds on the GUI thread.
        auto t = std::make_shared<GptqTrace>(traceGptqFromSession(m_wb.sessionFile.toStdString(),
                                                                  r->sessionRun.toStdString(), m->tensor.toStdString(), o));
        m_teach->setTrace(std::move(t), tr("%1 of %2").arg(m->label(), r->name));
    } catch (const std::exception& e) {
        m_teach->setMessage(tr("%1: %2").arg(m->label(), QString::fromStdString(e.what())));
    }
}

void MainWindow::explainColumn(const QString& tensor, qint64 column)
{
    if (!m_explainDock->isVisible()) {
        m_explainDock->show();
        resizeDocks({m_explainDock}, {420}, Qt::Horizontal);
    }
    m_explainDock->raise();
    const RunData* r = m_liveShown ? nullptr : m_wb.run(m_currentRun);
    if (m_liveShown) {
        m_explain->setMessage(tr("A live MXQ solution is shown: it is not stored, so there is nothing to explain. "
                                 "Pick a stored run in the run list."));
        return;
    }
    if (!r || r->sessionRun.isEmpty() || m_wb.sessionFile.isEmpty()) {
        m_explain->setMessage(tr("Explain reads the session's stored arrays: %1 is a result folder, not a session run.")
                                  .arg(r ? r->name : tr("this run")));
        return;
    }
    m_explain->setMessage(tr("Explaining column %1 of %2 …").arg(column).arg(tensor));
    m_explainer->request(m_wb.sessionFile, r->sessionRun, tensor, column);
}

QStringList MainWindow::saveScreenshots(const QString& dir)
{
    QDir().mkpath(dir);
    QStringList files;
    const QStringList names = {QStringLiteral("bitmap"),     QStringLiteral("tradeoff"), QStringLiteral("hessian"),
                               QStringLiteral("perplexity"), QStringLiteral("training"), QStringLiteral("gguf"),
                               QStringLiteral("compare"), QStringLiteral("teach-gptq"),
                               QStringLiteral("teach-mgptq"), QStringLiteral("teach-mxq")};
    waitForGgufCurve(60000); // a cost table asked for on the command line is solved on the worker
    for (int i = 0; i < m_tabs->count() && i < names.size(); ++i) {
        m_tabs->setCurrentIndex(i);
        QApplication::sendPostedEvents();
        QApplication::processEvents(); // lay out the tab before drawing it
        for (PlotView* view : m_tabs->widget(i)->findChildren<PlotView*>())
            view->replotNow();
        // The teaching tab a few columns into its second block: a column just quantized, its
        // error spread over the block, the first block's update applied.
        if (m_tabs->widget(i) == m_teach && m_teach->hasTrace())
            m_teach->setStep(std::min(m_teach->steps(), 23));
        if (m_tabs->widget(i) == m_teachMg && m_teachMg->hasTrace()) // a quarter: samples half sharp
            m_teachMg->setFrame(m_teachMg->frames() / 4);
        if (m_tabs->widget(i) == m_teachMxq && m_teachMxq->hasRun()) // the end: walk and MIP side by side
            m_teachMxq->setStep(m_teachMxq->steps());
        if (auto* view = qobject_cast<PlotView*>(m_tabs->widget(i)))
            view->replotNow();
        QApplication::sendPostedEvents();
        const QString file = QDir(dir).filePath(QStringLiteral("view-%1.png").arg(names[i]));
        const QImage image = grab().toImage();
        if (image.save(file))
            files << file;
        // The bit map also in grey: the palette's lightness order is what a greyscale print keeps.
        if (i == 0 && image.convertToFormat(QImage::Format_Grayscale8).save(QDir(dir).filePath(QStringLiteral("view-bitmap-grey.png"))))
            files << QDir(dir).filePath(QStringLiteral("view-bitmap-grey.png"));
    }
    // The Explain dock on the bit map: the selected matrix's column with the largest H_jj (or
    // column 0), explained here on the GUI thread (a batch window has nothing else to do).
    if (const RunData* r = m_liveShown ? nullptr : m_wb.run(m_currentRun);
        r && !r->sessionRun.isEmpty() && !r->matrices.empty() && QFileInfo::exists(m_wb.sessionFile)) {
        const MatrixResult* m = r->find(m_currentTensor);
        if (!m)
            m = &r->matrices.front();
        try {
            m_tabs->setCurrentIndex(0);
            auto e = session::explainColumn(m_wb.sessionFile.toStdString(), r->sessionRun.toStdString(),
                                            m->tensor.toStdString(), 0);
            if (m_screenshotColumn >= 0) {
                e = session::explainColumn(m_wb.sessionFile.toStdString(), r->sessionRun.toStdString(),
                                           m->tensor.toStdString(), m_screenshotColumn);
            } else if (e.hasHessian) { // the column the Hessian weighs most
                const session::MatrixDetail d =
                    session::Session::open(m_wb.sessionFile.toStdString()).matrix(r->sessionRun.toStdString(), m->tensor.toStdString());
                const auto top = std::max_element(d.hessianDiagonal.begin(), d.hessianDiagonal.end());
                e = session::explainColumn(m_wb.sessionFile.toStdString(), r->sessionRun.toStdString(),
                                           m->tensor.toStdString(), int64_t(top - d.hessianDiagonal.begin()));
            }
            m_explainDock->show();
            resizeDocks({m_explainDock}, {440}, Qt::Horizontal);
            m_explain->setExplanation(e);
            QApplication::sendPostedEvents();
            QApplication::processEvents();
            m_bitMap->replotNow();
            const QString file = QDir(dir).filePath(QStringLiteral("view-explain.png"));
            if (grab().toImage().save(file))
                files << file;
            m_explainDock->hide();
        } catch (const std::exception& e) {
            log(tr("screenshot of Explain: %1").arg(QString::fromStdString(e.what())));
        }
    }
    // The run menu over the window (a popup: grabbed from the screen where there is one).
    if (!m_currentRun.isEmpty() && m_wb.run(m_currentRun) && QGuiApplication::primaryScreen() &&
        QGuiApplication::platformName() != QLatin1String("offscreen")) {
        m_tabs->setCurrentIndex(1); // over the trade-off tab
        QMenu* menu = runMenu(m_currentRun, this);
        const QPoint at = m_runBox->mapToGlobal(QPoint(m_runBox->width() / 2, m_runBox->height()));
        menu->popup(at);
        const auto settle = [] {
            for (int k = 0; k < 20; ++k) {
                QApplication::processEvents();
                QThread::msleep(10);
            }
        };
        settle();
        // With the export submenu open, so that its formats show.
        QRect area = frameGeometry().united(menu->geometry());
        for (QAction* a : menu->actions())
            if (a->menu() && a->isEnabled()) {
                menu->setActiveAction(a);
                a->menu()->popup(menu->mapToGlobal(menu->actionGeometry(a).topRight()));
                settle();
                area = area.united(a->menu()->geometry());
            }
        const QString file = QDir(dir).filePath(QStringLiteral("view-runmenu.png"));
        if (QGuiApplication::primaryScreen()->grabWindow(0, area.x(), area.y(), area.width(), area.height()).save(file))
            files << file;
        menu->close();
        delete menu;
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
    if (m_interactive)
        WindowState::save(this);
    event->accept();
}

void MainWindow::showEvent(QShowEvent* event)
{
    if (!m_layoutRestored && m_interactive)
        WindowState::restore(this);
    m_layoutRestored = true;
    QMainWindow::showEvent(event);
}

} // namespace mpq::gui
