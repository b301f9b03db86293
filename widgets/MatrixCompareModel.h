#pragma once

#include "RunComparison.h"

#include <QAbstractTableModel>

namespace mpq::gui {

/// The per-matrix table of a comparison: layer, matrix, tensor, columns, each run's average bits,
/// the spread (max − min), the columns whose width differs, and each run's error. Sort through a
/// QSortFilterProxyModel on SortRole (numbers sort as numbers); filter by tensor name on
/// TensorRole; setOnlyDifferent() hides the matrices every run quantized alike. GUI thread only.
class MatrixCompareModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int SortRole = Qt::UserRole + 1;   ///< the raw number (or text) of a cell
    static constexpr int TensorRole = Qt::UserRole + 2; ///< the row's tensor name

    explicit MatrixCompareModel(QObject* parent = nullptr);
    /// Replaces the rows; `labels` names the runs (column headers).
    void setComparison(std::vector<MatrixComparison> rows, const QStringList& labels);
    /// Shows only the matrices whose bits differ between the runs (or that some run lacks).
    void setOnlyDifferent(bool only);
    bool onlyDifferent() const { return m_onlyDifferent; }
    const MatrixComparison& comparison(int row) const { return m_all[size_t(m_visible[size_t(row)])]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void rebuildVisible();
    int runs() const { return int(m_labels.size()); }

    std::vector<MatrixComparison> m_all;
    std::vector<int> m_visible;
    QStringList m_labels;
    bool m_onlyDifferent = false;
};

} // namespace mpq::gui
