#pragma once

#include "JobRequest.h"
#include "MxqResolver.h"
#include "Workbench.h"

#include <QIcon>
#include <QMainWindow>
#include <QMap>
#include <QThread>
#include <QVariantMap>

#include <deque>
#include <memory>

namespace mpq::session {
class Session;
}

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTabWidget;
class QTreeView;

namespace mpq::gui {

class BitMapView;
class ColumnExplainer;
class GptqTeachView;
class MgptqTeachView;
class MxqTeachView;
class GuidedTour;
class ExplainView;
class CompareView;
class HessianGraphView;
class JobRunner;
class LayerTreeModel;
class PerplexityView;
class TradeoffView;
class GgufTradeoffView;
class GgufCurveBuilder;
class TrainingCurvesView;

/// The workbench's main window: opens models, result folders and HDF5 session files (menu, recent
/// sessions, drag and drop, command line), queues jobs on a worker thread (progress bar, ETA,
/// cancel), shows the results in the views as they arrive. A workspace is one HDF5 session
/// (docs/session-format.md): every job writes into it through the engine, so it is always saved
/// and `mpq` reads it; it exists on disk from the first job on, and only then goes into Recent.
/// Runs have a menu (evaluate, export, resume, rename, delete), each a job. It does no numerics:
/// jobs run in JobRunner on the worker thread, the slider's live MXQ solves in MxqResolver on a
/// thread of their own. GUI thread only; owns both threads and stops them on destruction
/// (cancelling a running job).
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// The application icon from the Qt resource (resources/mpq_workbench.qrc): PNGs of 16-256
    /// pixels and the SVG. Every window of the workbench has it.
    static QIcon applicationIcon();

    /// Errors go to modal dialogs when interactive (the default), else only to the log and
    /// lastError() (tests, screenshots, benchmarks).
    void setInteractive(bool interactive) { m_interactive = interactive; }
    QString lastError() const { return m_lastError; }

    /// Opens a model folder / llama2.c .bin (new workspace with a new session; the model that is
    /// open already keeps its session, so that a running job's results stay in view), a result
    /// folder (shown as a run), an HDF5 session (.h5) or an old `.mpqwb` index. Returns false, after
    /// telling the user why (the engine's message for a bad session), when the path cannot be
    /// opened, and for another model or session while a job runs.
    bool openPath(const QString& path);
    /// Starts an empty HDF5 session at `path` for the open model (an existing file there is
    /// replaced). Refused (false, with the reason) while a job runs or when no model is open.
    bool newSession(const QString& path);
    /// Copies the session to `path` and continues in the copy. Refused while a job runs. Before
    /// any job there is nothing to copy: new jobs then write `path` (nothing goes into Recent yet).
    bool saveSessionAs(const QString& path);
    /// The sessions of File ▸ Open recent, newest first (only files that exist).
    static QStringList recentSessions();

    /// The run menu's jobs on run `name` of the workbench (queued like any job, with progress and
    /// cancel). Each returns false, telling why, when the run cannot take it (e.g. resume of a
    /// complete run, rename of a result folder, evaluate on a synthetic model).
    bool evaluateRun(const QString& name);
    bool exportRun(const QString& name, const QString& format, const QString& folder);
    bool resumeRun(const QString& name);
    bool renameRun(const QString& name, const QString& newName);
    bool deleteRun(const QString& name);
    /// The run menu for `name` (context menu of the run list and the layer browser, Run ▸ Selected
    /// run); the caller owns it. Actions that do not apply are disabled with the reason as tip.
    QMenu* runMenu(const QString& name, QWidget* parent);
    /// Export formats offered, as parseExportFormat() names them.
    static QStringList exportFormats();
    /// Opens the demo model and queues the demo jobs (DemoPlan).
    void startDemo();
    /// Queues a job; it starts when the worker is free.
    void enqueue(JobRequest request);
    bool isBusy() const { return m_busy || !m_queue.empty(); }

    /// The device new jobs run on ("cpu", "cuda:0", …), chosen in the status bar's device box;
    /// the run dialog starts from it and the demo uses it.
    QString device() const;
    /// Chooses the device for new jobs; false (nothing changes) when it is not offered.
    bool setDevice(const QString& id);
    /// The devices offered: "cpu" and each CUDA device LibTorch sees.
    QStringList devices() const;
    /// The device the running job runs on (empty when idle).
    QString runningDevice() const { return m_runningDevice; }
    void cancelJobs();

    /// Uses this MXQ cost table for the live re-solve (and future MXQ runs) of this session.
    void setMxqCosts(const QString& path);
    /// Draws the GGUF trade-off of this cost table ("mpq-gguf-costs" JSON) in the GGUF tab; the
    /// solves run on the worker. Kept when another session or model is opened.
    void setGgufCosts(const QString& path);
    /// Waits (running the event loop) until the GGUF trade-off asked for last is drawn or failed,
    /// at most `ms`; true when nothing is pending any more.
    bool waitForGgufCurve(int ms);
    const Workbench& workbench() const { return m_wb; }
    QString sessionPath() const { return m_sessionPath; }
    QString currentRun() const { return m_currentRun; }
    void showRun(const QString& name);
    void selectTensor(const QString& tensor);
    /// Grabs every view (and the whole window) into PNG files in `dir`; returns the files written.
    QStringList saveScreenshots(const QString& dir);
    /// The column of the selected matrix that saveScreenshots() explains (-1: the largest H_jj).
    void setScreenshotColumn(qint64 column) { m_screenshotColumn = column; }

    BitMapView* bitMapView() const { return m_bitMap; }
    /// The bit map beside the trade-off slider (same content as bitMapView()).
    BitMapView* sideBitMapView() const { return m_sideMap; }
    TradeoffView* tradeoffView() const { return m_tradeoff; }
    GgufTradeoffView* ggufView() const { return m_gguf; }
    MxqResolver* resolver() const { return m_resolver; }
    /// The worker's job runner (lives on the worker thread; tests connect to its signals).
    JobRunner* runner() const { return m_runner; }
    QTabWidget* tabs() const { return m_tabs; }
    /// The Compare runs tab (issue 19).
    CompareView* compareView() const { return m_compare; }
    /// The Explain dock (issue 19) and its worker.
    ExplainView* explainView() const { return m_explain; }
    /// The Teach GPTQ tab (issue 19, teaching mode).
    GptqTeachView* teachView() const { return m_teach; }
    MgptqTeachView* teachMgptqView() const { return m_teachMg; }
    MxqTeachView* teachMxqView() const { return m_teachMxq; }
    /// Help ▸ Guided tour (created on first use).
    GuidedTour* guidedTour();
    ColumnExplainer* explainer() const { return m_explainer; }
    /// Explains `column` of `tensor` of the run shown (what a click in a bit map does): shows the
    /// Explain dock and fills it when the worker is done.
    void explainColumn(const QString& tensor, qint64 column);
    /// Queues an override job (ExplainView's *Quantize override*): `overrideJson` applied to run
    /// `run` of the open session, as a new run named after it.
    void requestOverride(const QString& run, const QString& overrideJson, const QString& description);
    /// Loads the selected matrix of the run shown into the Teach GPTQ tab when that tab is shown.
    void updateTeach();

Q_SIGNALS:
    /// The job queue ran empty (after success, failure or cancel).
    void idle();
    /// A live MXQ solve was drawn (for the slider benchmark).
    void resolvedDrawn(quint64 generation);
    /// A layer of run `run` arrived and is shown (while a job runs).
    void layerShown(const QString& run);

public:
    /// Shows a live MXQ solution in the bit maps and the layer browser (the run list then says
    /// that no stored run is shown; picking a run there shows it again).
    void showResolved(const MxqResolved& r);
    /// Whether the Quantize / New session actions can be used now (a model is open).
    bool canQuantize() const;

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    /// The first time an interactive window is shown, its saved geometry and dock layout return.
    void showEvent(QShowEvent* event) override;

private:
    void buildMenus();
    void buildDocks();
    void startNext();
    void showError(const QString& title, const QString& text);
    void log(const QString& line);
    void autoSave();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void refreshRunList();
    void refreshSummaryViews();
    void refreshCurrentRun();
    void loadMxqCosts();
    /// Re-reads the session snapshot used for the matrix views (after the file changed).
    void reopenSnapshot();
    void showWorkbench(Workbench wb, const QString& sessionPath);
    void openModel(const QString& path);
    void openRunDialog(const QString& method = {}, const std::vector<double>& values = {});
    void onFullRunRequested(const QString& family, const QString& axis, double knob);
    void onProgress(const JobProgress& p);
    void setMaps(const std::vector<MatrixResult>& matrices, const QString& title);
    /// Re-reads the session file into the workbench (after cancel, failure or a run menu job);
    /// result folders shown beside it and the run shown stay.
    void reloadSession();
    /// Puts the session into Recent once a job has written it.
    void noteSessionOnDisk();
    void updateActions();
    bool confirmCancel();
    bool checkSessionRun(const QString& name, const QString& what, bool needIncomplete = false);
    QString runTitle(const RunData& r) const;

    Workbench m_wb;
    QString m_sessionPath;
    std::shared_ptr<const session::Session> m_snapshot; ///< the session as last read (Hessian graphs)
    QString m_currentRun;
    QString m_currentTensor;
    QString m_dataset = QStringLiteral("wikitext2");
    bool m_interactive = true;
    QString m_lastError;

    QThread m_worker;
    JobRunner* m_runner = nullptr;
    MxqResolver* m_resolver = nullptr;
    GgufCurveBuilder* m_ggufBuilder = nullptr;
    QString m_ggufCosts;          ///< the GGUF cost table drawn (absolute path); empty when none
    quint64 m_ggufShown = 0;      ///< generation of the GGUF trade-off drawn or failed last
    std::deque<JobRequest> m_queue;
    bool m_busy = false;
    QMap<QString, JobRequest> m_lastRequest; ///< per method: the template for slider-queued runs
    QString m_runningRun;         ///< the run the running job writes (for the resume hint)
    QString m_runningDevice;      ///< the device of the running job (status bar); empty when idle
    bool m_liveShown = false;     ///< the bit maps show a live MXQ solution, not a stored run
    EvalParams m_evalSettings;    ///< evaluation settings of the last job that evaluated
    bool m_haveEvalSettings = false;
    QVariantMap m_dialogState;    ///< the run dialog's last accepted settings
    QMap<QString, QString> m_renamed; ///< queued renames (old → new), so that the run shown follows

    QTabWidget* m_tabs = nullptr;
    BitMapView* m_bitMap = nullptr;
    BitMapView* m_sideMap = nullptr;
    QSplitter* m_tradeoffSplit = nullptr;
    TradeoffView* m_tradeoff = nullptr;
    GgufTradeoffView* m_gguf = nullptr;
    HessianGraphView* m_hessian = nullptr;
    PerplexityView* m_perplexity = nullptr;
    TrainingCurvesView* m_curves = nullptr;
    CompareView* m_compare = nullptr;
    ExplainView* m_explain = nullptr;
    GptqTeachView* m_teach = nullptr;
    MgptqTeachView* m_teachMg = nullptr;
    MxqTeachView* m_teachMxq = nullptr;
    GuidedTour* m_tour = nullptr;
    QString m_teachMxqKey;
    QString m_teachMgKey;
    QString m_teachKey;           ///< run and matrix the teaching tab plays now
    QDockWidget* m_explainDock = nullptr;
    ColumnExplainer* m_explainer = nullptr;
    QString m_showWhenDone;
    qint64 m_screenshotColumn = -1;       ///< a run to show once its job finishes (an override)
    QThread m_explainThread;      ///< explanations read the session and the weights here, beside jobs
    QThread m_resolveThread;      ///< the trade-off slider's MXQ re-solves (MxqResolver), beside jobs
    bool m_layoutRestored = false;
    LayerTreeModel* m_treeModel = nullptr;
    QTreeView* m_tree = nullptr;
    QComboBox* m_runBox = nullptr;
    QLabel* m_modelLabel = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_eta = nullptr;
    QComboBox* m_deviceBox = nullptr;
    QPushButton* m_cancel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_selectedRunMenu = nullptr;
    QAction* m_quantizeAction = nullptr;
    QAction* m_newSessionAction = nullptr;
    QAction* m_referenceAction = nullptr;
};

} // namespace mpq::gui
