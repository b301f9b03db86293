#pragma once

#include "RunComparison.h"
#include "Workbench.h"

#include <QWidget>

#include <vector>

class QAbstractItemModel;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;

namespace mpq::gui {

class BitMapView;
class CompareTradeoffView;
class DiffMapView;
class MatrixCompareModel;
class PerplexityView;
class RunsTableModel;

/// Compare runs: pick two or more runs of the open session, of other session files and of result
/// folders (list on the left), then see their bit maps side by side (zoom, pan and the selected
/// matrix kept in step), the difference map of two of them, a per-matrix table (sortable,
/// filtered by tensor name or to the matrices that differ), their points on the trade-off plane
/// and in the perplexity bars, and a table of the runs (method, settings, bits, perplexities,
/// time). Reads files only through SessionReader / ResultReader / WorkbenchFile (small, on the
/// GUI thread, as the main window opens sessions). Pages are built lazily: picking runs (or a new
/// workbench) rebuilds only the page shown, and a page shown later is brought up to date then
/// (the accessors below bring their page up to date too). GUI thread only.
class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    /// The open session's runs (and result folders shown beside it). Runs of other sources added
    /// with addSource() stay; picks that still exist stay; with nothing picked yet, the first
    /// two complete runs are picked.
    void setWorkbench(const Workbench& wb);
    /// Adds the runs of another HDF5 session, result folder or .mpqwb index. False, with the
    /// reader's message in `error`, when it cannot be read.
    bool addSource(const QString& path, QString* error = nullptr);
    /// Every run offered, and the picked ones (ids, in pick order).
    const std::vector<CompareEntry>& pool() const { return m_pool; }
    QStringList picked() const { return m_picked; }
    /// Picks these runs (ids or labels); unknown ones are ignored.
    void setPicked(const QStringList& idsOrLabels);
    /// The difference map's runs, as indices into picked().
    void setDifferencePair(int a, int b);
    /// Selects a matrix in every map and in the table.
    void selectTensor(const QString& tensor);

    /// The pages, in tab order.
    enum Page { SideBySidePage, DifferencePage, MatricesPage, TradeoffPage, PerplexityPage, RunsPage, PageCount };

    QTabWidget* tabs() const { return m_tabs; }
    /// The side-by-side maps (one per picked run, at most kMaxMaps shown).
    std::vector<BitMapView*> maps();
    DiffMapView* differenceMap();
    CompareTradeoffView* tradeoffView();
    PerplexityView* perplexityView();
    QTableView* matrixTable();
    QTableView* runsTable();
    MatrixCompareModel* matrixModel();
    RunsTableModel* runsModel();
    QSortFilterProxyModel* matrixProxy();
    /// Whether a page shows the current picks (false: it is rebuilt when shown). For tests.
    bool isPageUpToDate(Page page) const { return !m_stale[page]; }
    /// How many times a page has been rebuilt. For tests.
    int pageBuilds(Page page) const { return m_builds[page]; }
    QLineEdit* matrixFilter() const { return m_filter; }
    QCheckBox* onlyDifferent() const { return m_onlyDifferent; }
    /// Writes a table model as CSV (header line, then its rows as shown).
    static bool writeTableCsv(const QAbstractItemModel* model, const QString& path, QString* error = nullptr);

    static constexpr int kMaxMaps = 4;

Q_SIGNALS:
    /// A matrix was chosen in a map or the table (the main window can show it elsewhere too).
    void matrixChosen(const QString& tensor);
    /// The picked runs changed.
    void pickedChanged(const QStringList& ids);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rebuildList();
    /// Marks every page stale and rebuilds the one shown.
    void refresh();
    void refreshDifference();
    /// Rebuilds `page` if it is stale.
    void bringUpToDate(Page page);
    void buildPage(Page page);
    void selectTableRow(const QString& tensor);
    std::vector<CompareEntry> pickedEntries() const;
    const CompareEntry* entry(const QString& id) const;
    QWidget* buildTablePage(QTableView* table, QWidget* tools, const QString& csvName);

    std::vector<CompareEntry> m_pool;
    std::vector<CompareEntry> m_extra;  ///< runs of sources added with addSource()
    QMap<QString, double> m_reference;
    QStringList m_picked;
    bool m_userPicked = false;

    QListWidget* m_list = nullptr;
    QLabel* m_hint = nullptr;
    QTabWidget* m_tabs = nullptr;
    std::vector<BitMapView*> m_maps;
    DiffMapView* m_diff = nullptr;
    QComboBox* m_diffA = nullptr;
    QComboBox* m_diffB = nullptr;
    CompareTradeoffView* m_tradeoff = nullptr;
    PerplexityView* m_perplexity = nullptr;
    MatrixCompareModel* m_matrixModel = nullptr;
    QSortFilterProxyModel* m_matrixProxy = nullptr;
    QTableView* m_matrixTable = nullptr;
    QLineEdit* m_filter = nullptr;
    QCheckBox* m_onlyDifferent = nullptr;
    RunsTableModel* m_runsModel = nullptr;
    QSortFilterProxyModel* m_runsProxy = nullptr;
    QTableView* m_runsTable = nullptr;
    bool m_syncing = false;
    QString m_tensor;  ///< the selected matrix, applied to pages as they are built
    bool m_stale[PageCount] = {true, true, true, true, true, true};
    int m_builds[PageCount] = {};
};

} // namespace mpq::gui
