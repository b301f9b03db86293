#include "CompareView.h"

#include "BitMapView.h"
#include "CompareTradeoffView.h"
#include "DiffMapView.h"
#include "MatrixCompareModel.h"
#include "PerplexityView.h"
#include "ResultReader.h"
#include "RunsTableModel.h"
#include "SessionReader.h"
#include "WorkbenchFile.h"


#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextStream>
#include <QVBoxLayout>

namespace mpq::gui {

namespace {

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent)
{
    auto* t = new QTableView(parent);
    t->setModel(model);
    t->setSortingEnabled(true);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    t->setTabKeyNavigation(false); // Tab leaves the table; arrows, PgUp/PgDn, Home/End move in it
    t->verticalHeader()->setVisible(false);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent)
{
    setToolTip(tr("Compare runs: pick two or more runs (of this session, other sessions or result folders) and see "
                  "their bit maps side by side, where they differ, a table per matrix and their trade-off."));
    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);

    // Left: the runs offered, checkable.
    auto* left = new QWidget(split);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(4, 4, 4, 4);
    leftLayout->addWidget(new QLabel(tr("Runs to compare:"), left));
    m_list = new QListWidget(left);
    m_list->setObjectName(QStringLiteral("compareRuns"));
    m_list->setToolTip(tr("Tick the runs to compare (Space ticks the current one); the first two ticked are A and B "
                          "of the difference map"));
    leftLayout->addWidget(m_list, 1);
    auto* add = new QPushButton(tr("Add session or result…"), left);
    add->setToolTip(tr("Offer the runs of another HDF5 session, a result folder's result.json or an .mpqwb index"));
    leftLayout->addWidget(add);
    m_hint = new QLabel(left);
    m_hint->setWordWrap(true);
    leftLayout->addWidget(m_hint);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Add runs to compare"), {},
                                                       tr("Sessions and results (*.h5 *.hdf5 *.mpqwb result.json);;All files (*)"));
        if (f.isEmpty())
            return;
        QString error;
        const QString path = QFileInfo(f).fileName() == QLatin1String("result.json") ? QFileInfo(f).absolutePath() : f;
        if (!addSource(path, &error))
            QMessageBox::warning(this, tr("Cannot add %1").arg(QFileInfo(path).fileName()), error);
    });
    connect(m_list, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        const QString id = item->data(Qt::UserRole).toString();
        const bool on = item->checkState() == Qt::Checked;
        if (on == m_picked.contains(id))
            return;
        if (on)
            m_picked << id;
        else
            m_picked.removeAll(id);
        m_userPicked = true;
        refresh();
    });

    // Right: the views.
    m_tabs = new QTabWidget(split);
    m_tabs->setDocumentMode(true);
    auto* side = new QSplitter(Qt::Horizontal, m_tabs);
    side->setObjectName(QStringLiteral("sideBySide"));
    for (int i = 0; i < kMaxMaps; ++i) {
        auto* map = new BitMapView(side);
        map->setObjectName(QStringLiteral("compareMap%1").arg(i));
        map->setMinimumPlotSize(QSize(150, 220)); // four side by side fit a 1280-pixel window
        side->addWidget(map);
        m_maps.push_back(map);
        connect(map, &BitMapView::columnRangeChanged, this, [this, map](double a, double b) {
            if (m_syncing)
                return;
            m_syncing = true;
            for (BitMapView* other : m_maps)
                if (other != map && other->isVisibleTo(this))
                    other->setColumnRange(a, b);
            m_syncing = false;
        });
        connect(map, &BitMapView::rowRangeChanged, this, [this, map](double a, double b) {
            if (m_syncing)
                return;
            m_syncing = true;
            for (BitMapView* other : m_maps)
                if (other != map && other->isVisibleTo(this))
                    other->setRowRange(a, b);
            m_syncing = false;
        });
        connect(map, &BitMapView::matrixClicked, this, &CompareView::selectTensor);
    }
    m_tabs->addTab(side, tr("Side by side"));
    m_tabs->setTabToolTip(0, tr("The picked runs' bit maps side by side: zoom, pan and the selected matrix stay in step"));

    auto* diffPage = new QWidget(m_tabs);
    auto* diffLayout = new QVBoxLayout(diffPage);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    auto* diffTools = new QHBoxLayout;
    m_diffA = new QComboBox(diffPage);
    m_diffB = new QComboBox(diffPage);
    m_diffA->setToolTip(tr("Run A (subtracted)"));
    m_diffB->setToolTip(tr("Run B"));
    diffTools->addWidget(new QLabel(tr("B"), diffPage));
    diffTools->addWidget(m_diffB, 1);
    diffTools->addWidget(new QLabel(tr("minus A"), diffPage));
    diffTools->addWidget(m_diffA, 1);
    diffLayout->addLayout(diffTools);
    m_diff = new DiffMapView(diffPage);
    diffLayout->addWidget(m_diff, 1);
    connect(m_diffA, &QComboBox::activated, this, [this] { refreshDifference(); });
    connect(m_diffB, &QComboBox::activated, this, [this] { refreshDifference(); });
    connect(m_diff, &BitMapView::matrixClicked, this, &CompareView::selectTensor);
    m_tabs->addTab(diffPage, tr("Difference"));
    m_tabs->setTabToolTip(1, m_diff->toolTip());

    m_matrixModel = new MatrixCompareModel(this);
    m_matrixProxy = new QSortFilterProxyModel(this);
    m_matrixProxy->setSourceModel(m_matrixModel);
    m_matrixProxy->setSortRole(MatrixCompareModel::SortRole);
    m_matrixProxy->setFilterRole(MatrixCompareModel::TensorRole);
    m_matrixProxy->setFilterKeyColumn(0);
    m_matrixProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_matrixTable = makeTable(m_matrixProxy, m_tabs);
    m_matrixTable->setObjectName(QStringLiteral("matrixCompareTable"));
    auto* matrixTools = new QWidget(m_tabs);
    auto* mt = new QHBoxLayout(matrixTools);
    mt->setContentsMargins(0, 0, 0, 0);
    m_filter = new QLineEdit(matrixTools);
    m_filter->setPlaceholderText(tr("Filter by tensor name (e.g. mlp.down, layers.3., regular expressions allowed)"));
    m_filter->setClearButtonEnabled(true);
    m_onlyDifferent = new QCheckBox(tr("only matrices that differ"), matrixTools);
    mt->addWidget(m_filter, 1);
    mt->addWidget(m_onlyDifferent);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& t) {
        m_matrixProxy->setFilterRegularExpression(QRegularExpression(t, QRegularExpression::CaseInsensitiveOption));
    });
    connect(m_onlyDifferent, &QCheckBox::toggled, m_matrixModel, &MatrixCompareModel::setOnlyDifferent);
    const auto chooseRow = [this](const QModelIndex& i) {
        const QString tensor = i.data(MatrixCompareModel::TensorRole).toString();
        if (!tensor.isEmpty() && !m_syncing)
            selectTensor(tensor);
    };
    connect(m_matrixTable, &QTableView::activated, this, chooseRow);
    connect(m_matrixTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this, chooseRow);
    m_tabs->addTab(buildTablePage(m_matrixTable, matrixTools, QStringLiteral("matrices.csv")), tr("Matrices"));
    m_tabs->setTabToolTip(2, tr("One row per matrix: each run's average bits, the spread, the columns that differ and "
                                "each run's error; click a header to sort, Enter or a click shows the matrix in the maps"));

    m_tradeoff = new CompareTradeoffView(m_tabs);
    m_tabs->addTab(m_tradeoff, tr("Trade-off"));
    m_tabs->setTabToolTip(3, m_tradeoff->toolTip());
    m_perplexity = new PerplexityView(m_tabs);
    m_tabs->addTab(m_perplexity, tr("Perplexity"));
    m_tabs->setTabToolTip(4, tr("Perplexity of the compared runs on each data set"));

    m_runsModel = new RunsTableModel(this);
    m_runsProxy = new QSortFilterProxyModel(this);
    m_runsProxy->setSourceModel(m_runsModel);
    m_runsProxy->setSortRole(RunsTableModel::SortRole);
    m_runsTable = makeTable(m_runsProxy, m_tabs);
    m_runsTable->setObjectName(QStringLiteral("runsTable"));
    m_tabs->addTab(buildTablePage(m_runsTable, nullptr, QStringLiteral("runs.csv")), tr("Runs"));
    m_tabs->setTabToolTip(5, tr("The compared runs: method, settings, bits, perplexities and time"));

    split->addWidget(left);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({230, 1000});
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int page) {
        if (page >= 0 && page < PageCount)
            bringUpToDate(Page(page));
    });
    refresh();
}

void CompareView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    bringUpToDate(Page(m_tabs->currentIndex()));
}

std::vector<BitMapView*> CompareView::maps()
{
    bringUpToDate(SideBySidePage);
    return m_maps;
}

DiffMapView* CompareView::differenceMap()
{
    bringUpToDate(DifferencePage);
    return m_diff;
}

CompareTradeoffView* CompareView::tradeoffView()
{
    bringUpToDate(TradeoffPage);
    return m_tradeoff;
}

PerplexityView* CompareView::perplexityView()
{
    bringUpToDate(PerplexityPage);
    return m_perplexity;
}

QTableView* CompareView::matrixTable()
{
    bringUpToDate(MatricesPage);
    return m_matrixTable;
}

QTableView* CompareView::runsTable()
{
    bringUpToDate(RunsPage);
    return m_runsTable;
}

MatrixCompareModel* CompareView::matrixModel()
{
    bringUpToDate(MatricesPage);
    return m_matrixModel;
}

RunsTableModel* CompareView::runsModel()
{
    bringUpToDate(RunsPage);
    return m_runsModel;
}

QSortFilterProxyModel* CompareView::matrixProxy()
{
    bringUpToDate(MatricesPage);
    return m_matrixProxy;
}

QWidget* CompareView::buildTablePage(QTableView* table, QWidget* tools, const QString& csvName)
{
    auto* page = new QWidget(m_tabs);
    auto* l = new QVBoxLayout(page);
    l->setContentsMargins(4, 4, 4, 4);
    auto* row = new QHBoxLayout;
    if (tools)
        row->addWidget(tools, 1);
    else
        row->addStretch(1);
    auto* csv = new QPushButton(tr("Export CSV…"), page);
    csv->setToolTip(tr("Write the table as shown (sorted and filtered) to a CSV file"));
    row->addWidget(csv);
    l->addLayout(row);
    l->addWidget(table, 1);
    connect(csv, &QPushButton::clicked, this, [this, table, csvName] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export table"), csvName, tr("CSV data (*.csv)"));
        if (f.isEmpty())
            return;
        QString error;
        if (!writeTableCsv(table->model(), f.endsWith(QLatin1String(".csv")) ? f : f + QStringLiteral(".csv"), &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
    return page;
}

bool CompareView::writeTableCsv(const QAbstractItemModel* model, const QString& path, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error)
            *error = tr("could not write %1 (%2)").arg(path, f.errorString());
        return false;
    }
    QTextStream out(&f);
    const auto field = [](const QVariant& v) {
        QString s = v.toString();
        if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
            s = QLatin1Char('"') + s.replace(QLatin1String("\""), QLatin1String("\"\"")) + QLatin1Char('"');
        return s;
    };
    for (int c = 0; c < model->columnCount(); ++c)
        out << (c ? "," : "") << field(model->headerData(c, Qt::Horizontal));
    out << '\n';
    for (int r = 0; r < model->rowCount(); ++r) {
        for (int c = 0; c < model->columnCount(); ++c) {
            // Numbers as numbers (full precision), text as shown.
            const QVariant raw = model->index(r, c).data(MatrixCompareModel::SortRole);
            const QVariant shown = model->index(r, c).data(Qt::DisplayRole);
            const bool numeric = raw.typeId() == QMetaType::Double && shown.toString() != QStringLiteral("—");
            out << (c ? "," : "") << (numeric ? QString::number(raw.toDouble(), 'g', 10) : field(shown));
        }
        out << '\n';
    }
    out.flush();
    return f.error() == QFile::NoError;
}

void CompareView::setWorkbench(const Workbench& wb)
{
    m_reference = wb.reference;
    std::vector<CompareEntry> pool;
    const QString session = wb.sessionFile.isEmpty() ? tr("this session") : wb.sessionFile;
    for (const RunData& r : wb.runs) {
        CompareEntry e;
        e.source = r.sessionRun.isEmpty() && !r.resultDir.isEmpty() ? r.resultDir : session;
        e.id = e.source + QLatin1Char('#') + r.name;
        e.label = r.name;
        e.run = r;
        pool.push_back(std::move(e));
    }
    for (const CompareEntry& e : m_extra)
        if (std::none_of(pool.begin(), pool.end(), [&](const CompareEntry& p) { return p.id == e.id; }))
            pool.push_back(e);
    m_pool = std::move(pool);
    QStringList keep;
    for (const QString& id : m_picked)
        if (entry(id))
            keep << id;
    m_picked = keep;
    if (m_picked.isEmpty() && !m_userPicked)
        for (const CompareEntry& e : m_pool)
            if (e.run.complete && m_picked.size() < 2)
                m_picked << e.id;
    rebuildList();
    refresh();
}

bool CompareView::addSource(const QString& rawPath, QString* error)
{
    const QString path = QFileInfo(rawPath).absoluteFilePath();
    std::vector<RunData> runs;
    QMap<QString, double> reference;
    try {
        if (QFileInfo(path).isDir()) {
            runs.push_back(ResultReader::readResultFolder(path));
        } else if (path.endsWith(QLatin1String(".mpqwb"))) {
            QStringList problems;
            const Workbench wb = WorkbenchFile::load(path, &problems);
            runs = wb.runs;
            reference = wb.reference;
        } else {
            const Workbench wb = SessionReader::load(path);
            runs = wb.runs;
            reference = wb.reference;
        }
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    const QString file = QFileInfo(path).fileName();
    for (RunData& r : runs) {
        CompareEntry e;
        e.source = r.resultDir.isEmpty() ? path : r.resultDir;
        e.id = e.source + QLatin1Char('#') + r.name;
        e.label = QFileInfo(path).isDir() ? r.name : file + QStringLiteral(": ") + r.name;
        e.run = std::move(r);
        m_extra.erase(std::remove_if(m_extra.begin(), m_extra.end(), [&](const CompareEntry& x) { return x.id == e.id; }),
                      m_extra.end());
        m_extra.push_back(e);
        const auto same = std::find_if(m_pool.begin(), m_pool.end(), [&](const CompareEntry& p) { return p.id == e.id; });
        if (same == m_pool.end())
            m_pool.push_back(e);
        else
            *same = e;
    }
    for (auto it = reference.begin(); it != reference.end(); ++it)
        if (!m_reference.contains(it.key()))
            m_reference.insert(it.key(), it.value());
    rebuildList();
    refresh();
    return true;
}

void CompareView::setPicked(const QStringList& idsOrLabels)
{
    m_picked.clear();
    for (const QString& s : idsOrLabels)
        for (const CompareEntry& e : m_pool)
            if ((e.id == s || e.label == s) && !m_picked.contains(e.id))
                m_picked << e.id;
    m_userPicked = true;
    rebuildList();
    refresh();
}

const CompareEntry* CompareView::entry(const QString& id) const
{
    for (const CompareEntry& e : m_pool)
        if (e.id == id)
            return &e;
    return nullptr;
}

std::vector<CompareEntry> CompareView::pickedEntries() const
{
    std::vector<CompareEntry> out;
    for (const QString& id : m_picked)
        if (const CompareEntry* e = entry(id))
            out.push_back(*e);
    return out;
}

void CompareView::rebuildList()
{
    const QSignalBlocker block(m_list);
    m_list->clear();
    for (const CompareEntry& e : m_pool) {
        auto* item = new QListWidgetItem(e.label, m_list);
        item->setData(Qt::UserRole, e.id);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
        item->setCheckState(m_picked.contains(e.id) ? Qt::Checked : Qt::Unchecked);
        item->setToolTip(tr("%1\n%2 · %3 bits per weight · %4").arg(e.source, Workbench::familyName(e.run.method))
                             .arg(e.run.avgBitsWithOverhead, 0, 'f', 3).arg(RunComparison::settingsText(e.run)));
    }
}

void CompareView::refresh()
{
    const std::vector<CompareEntry> picked = pickedEntries();
    m_hint->setText(picked.size() < 2 ? tr("Tick at least two runs.")
                                      : tr("%1 runs picked.").arg(picked.size()));
    // Difference pair: the first two picked unless chosen (the boxes are cheap; the map is a page).
    const QString a = m_diffA->currentData().toString(), b = m_diffB->currentData().toString();
    for (QComboBox* box : {m_diffA, m_diffB}) {
        const QSignalBlocker block(box);
        box->clear();
        for (const CompareEntry& e : picked)
            box->addItem(e.label, e.id);
    }
    const int ia = m_diffA->findData(a), ib = m_diffB->findData(b);
    m_diffA->setCurrentIndex(ia >= 0 && ia != ib ? ia : 0);
    m_diffB->setCurrentIndex(ib >= 0 && ib != m_diffA->currentIndex() ? ib : std::min<int>(1, int(picked.size()) - 1));
    // Every page is stale; the one shown is rebuilt now, the others when they are shown (with 4
    // runs of a 7B model, rebuilding all six took 70 ms of CPU per pick).
    for (bool& stale : m_stale)
        stale = true;
    if (isVisible())
        bringUpToDate(Page(m_tabs->currentIndex()));
    Q_EMIT pickedChanged(m_picked);
}

void CompareView::bringUpToDate(Page page)
{
    if (page < 0 || page >= PageCount || !m_stale[page])
        return;
    m_stale[page] = false;
    ++m_builds[page];
    buildPage(page);
}

void CompareView::buildPage(Page page)
{
    const std::vector<CompareEntry> picked = pickedEntries();
    const bool wasSyncing = m_syncing;
    m_syncing = true; // applying the selected matrix to the rebuilt page is no new choice
    switch (page) {
    case SideBySidePage:
        for (size_t i = 0; i < m_maps.size(); ++i) {
            BitMapView* map = m_maps[i];
            if (i < picked.size()) {
                map->setMatrices(picked[i].run.matrices, picked[i].label);
                map->setVisible(true);
            } else {
                map->setVisible(i == 0);
                if (i == 0)
                    map->setMatrices({}, tr("Pick runs to compare (list on the left)."));
            }
            if (!m_tensor.isEmpty() && map->selectedTensor() != m_tensor)
                map->setSelectedTensor(m_tensor);
        }
        break;
    case DifferencePage: {
        const CompareEntry* a = entry(m_diffA->currentData().toString());
        const CompareEntry* b = entry(m_diffB->currentData().toString());
        if (!a || !b || a == b)
            m_diff->clear(tr("Pick two runs to see where their bits differ."));
        else
            m_diff->setRuns(a->run, a->label, b->run, b->label);
        if (!m_tensor.isEmpty() && m_diff->selectedTensor() != m_tensor)
            m_diff->setSelectedTensor(m_tensor);
        break;
    }
    case MatricesPage: {
        std::vector<const RunData*> runs;
        QStringList labels;
        for (const CompareEntry& e : picked) {
            runs.push_back(&e.run);
            labels << e.label;
        }
        m_matrixModel->setComparison(RunComparison::matrices(runs), labels);
        m_matrixTable->resizeColumnsToContents();
        if (!m_tensor.isEmpty())
            selectTableRow(m_tensor);
        break;
    }
    case TradeoffPage: {
        std::vector<CompareEntry> others;
        for (const CompareEntry& e : m_pool)
            if (!m_picked.contains(e.id))
                others.push_back(e);
        m_tradeoff->setRuns(picked, others, m_reference);
        break;
    }
    case PerplexityPage: {
        PerplexityTable t;
        t.datasets = {QStringLiteral("wikitext2"), QStringLiteral("c4")};
        for (const QString& d : t.datasets)
            t.reference.push_back(m_reference.value(d, -1));
        for (const CompareEntry& e : picked) {
            PerplexityTable::Entry pe;
            pe.method = Workbench::familyName(e.run.method);
            pe.knob = Workbench::knobText(e.run);
            pe.run = e.label;
            pe.avgBits = e.run.avgBitsWithOverhead;
            bool any = false;
            for (const QString& d : t.datasets) {
                pe.value.push_back(e.run.perplexity.value(d, -1));
                any = any || pe.value.back() > 0;
            }
            if (any)
                t.entries.push_back(std::move(pe));
        }
        m_perplexity->setTable(t);
        break;
    }
    case RunsPage:
        m_runsModel->setRuns(picked);
        m_runsTable->resizeColumnsToContents();
        break;
    case PageCount:
        break;
    }
    m_syncing = wasSyncing;
}

void CompareView::setDifferencePair(int a, int b)
{
    m_diffA->setCurrentIndex(a);
    m_diffB->setCurrentIndex(b);
    refreshDifference();
}

void CompareView::refreshDifference()
{
    m_stale[DifferencePage] = true;
    if (isVisible() && m_tabs->currentIndex() == DifferencePage)
        bringUpToDate(DifferencePage);
}

void CompareView::selectTableRow(const QString& tensor)
{
    for (int r = 0; r < m_matrixProxy->rowCount(); ++r) {
        const QModelIndex i = m_matrixProxy->index(r, 0);
        if (i.data(MatrixCompareModel::TensorRole).toString() == tensor) {
            if (m_matrixTable->currentIndex().row() != r)
                m_matrixTable->setCurrentIndex(i);
            m_matrixTable->scrollTo(i);
            break;
        }
    }
}

void CompareView::selectTensor(const QString& tensor)
{
    if (m_syncing)
        return;
    m_syncing = true;
    m_tensor = tensor;
    // Pages not up to date take the selection when they are rebuilt.
    if (!m_stale[SideBySidePage])
        for (BitMapView* map : m_maps)
            if (map->selectedTensor() != tensor)
                map->setSelectedTensor(tensor);
    if (!m_stale[DifferencePage] && m_diff->selectedTensor() != tensor)
        m_diff->setSelectedTensor(tensor);
    if (!m_stale[MatricesPage])
        selectTableRow(tensor);
    m_syncing = false;
    Q_EMIT matrixChosen(tensor);
}

} // namespace mpq::gui
