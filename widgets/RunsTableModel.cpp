#include "RunsTableModel.h"

#include "DurationText.h"
#include "Workbench.h"

#include <QFileInfo>

namespace mpq::gui {

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsTableModel::setRuns(const std::vector<CompareEntry>& runs)
{
    beginResetModel();
    m_runs = runs;
    m_datasets.clear();
    for (const QString& d : {QStringLiteral("wikitext2"), QStringLiteral("c4")})
        for (const CompareEntry& e : m_runs)
            if (e.run.perplexity.contains(d) && !m_datasets.contains(d))
                m_datasets << d;
    for (const CompareEntry& e : m_runs)
        for (auto it = e.run.perplexity.begin(); it != e.run.perplexity.end(); ++it)
            if (!m_datasets.contains(it.key()))
                m_datasets << it.key();
    endResetModel();
}

int RunsTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_runs.size());
}

int RunsTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : FirstPerplexity + int(m_datasets.size()) + 1;
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Run:
        return tr("Run");
    case Source:
        return tr("Source");
    case Method:
        return tr("Method");
    case Settings:
        return tr("Settings");
    case Bits:
        return tr("Code bits");
    case BitsWithOverhead:
        return tr("Bits with scales/zeros");
    default:
        break;
    }
    if (section < FirstPerplexity + int(m_datasets.size()))
        return tr("PPL %1").arg(m_datasets[section - FirstPerplexity]);
    return tr("Time");
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_runs.size()))
        return {};
    const CompareEntry& e = m_runs[size_t(index.row())];
    const RunData& r = e.run;
    const int col = index.column();
    const bool sort = role == SortRole;
    if (role == Qt::ToolTipRole && col == Source)
        return e.source;
    if (role == Qt::TextAlignmentRole)
        return col >= Bits ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    if (role != Qt::DisplayRole && !sort)
        return {};
    switch (col) {
    case Run:
        return e.label;
    case Source:
        return QFileInfo(e.source).fileName();
    case Method:
        return Workbench::familyName(r.method);
    case Settings:
        return RunComparison::settingsText(r);
    case Bits:
        return sort ? QVariant(r.avgBits) : QVariant(QString::number(r.avgBits, 'f', 3));
    case BitsWithOverhead:
        return sort ? QVariant(r.avgBitsWithOverhead) : QVariant(QString::number(r.avgBitsWithOverhead, 'f', 3));
    default:
        break;
    }
    if (col < FirstPerplexity + int(m_datasets.size())) {
        const double p = r.perplexity.value(m_datasets[col - FirstPerplexity], -1);
        if (p <= 0)
            return sort ? QVariant(1e300) : QVariant(tr("—"));
        return sort ? QVariant(p) : QVariant(QString::number(p, 'f', 3));
    }
    return sort ? QVariant(r.seconds) : QVariant(r.seconds > 0 ? DurationText::format(r.seconds) : tr("—"));
}

} // namespace mpq::gui
