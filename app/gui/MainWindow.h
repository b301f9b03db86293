#pragma once

#include "JobRequest.h"
#include "MxqResolver.h"
#include "Workbench.h"

#include <QMainWindow>
#include <QMap>
#include <QThread>

#include <deque>
#include <memory>

namespace mpq::session {
class Session;
}

class QComboBox;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTreeView;

namespace mpq::gui {

class BitMapView;
class HessianGraphView;
class JobRunner;
class LayerTreeModel;
class PerplexityView;
class TradeoffView;
class TrainingCurvesView;

/// The workbench's main window: opens models, result folders and HDF5 session files (menu, recent
/// files, drag and drop, command line), queues jobs on a worker thread (progress bar, ETA, cancel),
/// shows the results in the views as they arrive. Every job writes into the window's HDF5 session
/// (docs/session-format.md) through the engine, so the session is always saved and `mpq` reads it. It does no
/// numerics: jobs run in JobRunner, live MXQ solves in MxqResolver, both on the worker thread.
/// GUI thread only; owns the worker thread and stops it on destruction (cancelling a running job).
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Errors go to modal dialogs when interactive (the default), else only to the log and
    /// lastError() (tests, screenshots, benchmarks).
    void setInteractive(bool interactive) { m_interactive = interactive; }
    QString lastError() const { return m_lastError; }

    /// Opens a model folder / llama2.c .bin (new workspace with a new session), a result folder
    /// (shown as a run), an HDF5 session (.h5) or an old `.mpqwb` index. Returns false, after telling
    /// the user why (the engine's message for a bad session), when the path cannot be opened.
    bool openPath(const QString& path);
    /// Starts an empty HDF5 session at `path` for the open model (an existing file there is
    /// replaced). Refused (false, with the reason) while a job runs or when no model is open.
    bool newSession(const QString& path);
    /// Copies the session to `path` and continues in the copy. Refused while a job runs.
    bool saveSessionAs(const QString& path);
    /// Opens the demo model and queues the demo jobs (DemoPlan).
    void startDemo();
    /// Queues a job; it starts when the worker is free.
    void enqueue(JobRequest request);
    bool isBusy() const { return m_busy || !m_queue.empty(); }
    void cancelJobs();

    /// Uses this MXQ cost table for the live re-solve (and future MXQ runs) of this session.
    void setMxqCosts(const QString& path);
    const Workbench& workbench() const { return m_wb; }
    QString sessionPath() const { return m_sessionPath; }
    QString currentRun() const { return m_currentRun; }
    void showRun(const QString& name);
    void selectTensor(const QString& tensor);
    /// Grabs every view (and the whole window) into PNG files in `dir`; returns the files written.
    QStringList saveScreenshots(const QString& dir);

    BitMapView* bitMapView() const { return m_bitMap; }
    TradeoffView* tradeoffView() const { return m_tradeoff; }
    MxqResolver* resolver() const { return m_resolver; }
    QTabWidget* tabs() const { return m_tabs; }

Q_SIGNALS:
    /// The job queue ran empty (after success, failure or cancel).
    void idle();
    /// A live MXQ solve was drawn (for the slider benchmark).
    void resolvedDrawn(quint64 generation);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

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
    void onFullRunRequested(const QString& family, double knob);
    void onProgress(const JobProgress& p);
    void onResolved(const MxqResolved& r);

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
    std::deque<JobRequest> m_queue;
    bool m_busy = false;
    QMap<QString, JobRequest> m_lastRequest; ///< per method: the template for slider-queued runs

    QTabWidget* m_tabs = nullptr;
    BitMapView* m_bitMap = nullptr;
    TradeoffView* m_tradeoff = nullptr;
    HessianGraphView* m_hessian = nullptr;
    PerplexityView* m_perplexity = nullptr;
    TrainingCurvesView* m_curves = nullptr;
    LayerTreeModel* m_treeModel = nullptr;
    QTreeView* m_tree = nullptr;
    QComboBox* m_runBox = nullptr;
    QLabel* m_modelLabel = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_eta = nullptr;
    QPushButton* m_cancel = nullptr;
    QMenu* m_recentMenu = nullptr;
};

} // namespace mpq::gui
