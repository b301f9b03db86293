#pragma once

#include "RunComparison.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace mpq::gui {

/// The runs table of a comparison: run, source, method, settings, code bits, bits with scales and
/// zeros, perplexity per data set, time. One row per picked run; SortRole gives raw numbers for a
/// QSortFilterProxyModel. GUI thread only.
class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int SortRole = Qt::UserRole + 1;
    enum Column { Run, Source, Method, Settings, Bits, BitsWithOverhead, FirstPerplexity };

    explicit RunsTableModel(QObject* parent = nullptr);
    /// Replaces the rows; the perplexity columns are the data sets any run was evaluated on
    /// (WikiText-2 and C4 first).
    void setRuns(const std::vector<CompareEntry>& runs);
    QStringList datasets() const { return m_datasets; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<CompareEntry> m_runs;
    QStringList m_datasets;
};

} // namespace mpq::gui
