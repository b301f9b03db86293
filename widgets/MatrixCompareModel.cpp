#include "MatrixCompareModel.h"

#include <QBrush>
#include <QColor>

#include <cmath>

namespace mpq::gui {

namespace {
// Fixed columns before and between the per-run columns.
enum Fixed { Layer, Matrix, Tensor, Columns, FixedCount };
} // namespace

MatrixCompareModel::MatrixCompareModel(QObject* parent) : QAbstractTableModel(parent) {}

void MatrixCompareModel::setComparison(std::vector<MatrixComparison> rows, const QStringList& labels)
{
    beginResetModel();
    m_all = std::move(rows);
    m_labels = labels;
    rebuildVisible();
    endResetModel();
}

void MatrixCompareModel::setOnlyDifferent(bool only)
{
    if (only == m_onlyDifferent)
        return;
    beginResetModel();
    m_onlyDifferent = only;
    rebuildVisible();
    endResetModel();
}

void MatrixCompareModel::rebuildVisible()
{
    m_visible.clear();
    for (size_t i = 0; i < m_all.size(); ++i)
        if (!m_onlyDifferent || m_all[i].changedColumns > 0 || !m_all[i].inAll)
            m_visible.push_back(int(i));
}

int MatrixCompareModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

int MatrixCompareModel::columnCount(const QModelIndex& parent) const
{
    // fixed, bits per run, spread, changed columns, error per run
    return parent.isValid() ? 0 : FixedCount + runs() + 2 + runs();
}

QVariant MatrixCompareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
    const int n = runs();
    if (role == Qt::ToolTipRole) {
        if (section >= FixedCount && section < FixedCount + n)
            return tr("Average code bits per column of this matrix in run %1").arg(m_labels[section - FixedCount]);
        if (section == FixedCount + n)
            return tr("Largest minus smallest average bits over the runs");
        if (section == FixedCount + n + 1)
            return tr("Input columns whose bit-width is not the same in every run");
        if (section > FixedCount + n + 1)
            return tr("Output error tr(ΔW H ΔWᵀ) (‖W − Ŵ‖_F for data-free runs) in run %1")
                .arg(m_labels[section - FixedCount - n - 2]);
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Layer:
        return tr("Layer");
    case Matrix:
        return tr("Matrix");
    case Tensor:
        return tr("Tensor");
    case Columns:
        return tr("Columns");
    default:
        break;
    }
    if (section < FixedCount + n)
        return tr("bits: %1").arg(m_labels[section - FixedCount]);
    if (section == FixedCount + n)
        return tr("spread");
    if (section == FixedCount + n + 1)
        return tr("changed columns");
    return tr("error: %1").arg(m_labels[section - FixedCount - n - 2]);
}

QVariant MatrixCompareModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_visible.size()))
        return {};
    const MatrixComparison& c = m_all[size_t(m_visible[size_t(index.row())])];
    const int col = index.column();
    const int n = runs();
    if (role == TensorRole)
        return c.tensor;
    if (role == Qt::TextAlignmentRole)
        return col >= Columns ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    if (role == Qt::ToolTipRole)
        return c.tensor;
    const bool sort = role == SortRole;
    if (role != Qt::DisplayRole && !sort)
        return {};
    const auto number = [&](double v, int decimals) -> QVariant {
        if (std::isnan(v))
            return sort ? QVariant(-1.0) : QVariant(tr("—"));
        return sort ? QVariant(v) : QVariant(QString::number(v, 'f', decimals));
    };
    switch (col) {
    case Layer:
        return c.layer;
    case Matrix:
        return c.linear;
    case Tensor:
        return c.tensor;
    case Columns:
        return qlonglong(c.cols);
    default:
        break;
    }
    if (col < FixedCount + n)
        return number(c.avgBits[size_t(col - FixedCount)], 3);
    if (col == FixedCount + n)
        return number(c.spread, 3);
    if (col == FixedCount + n + 1)
        return sort ? QVariant(qlonglong(c.changedColumns))
                    : QVariant(c.cols > 0 ? tr("%1 (%2%)").arg(c.changedColumns).arg(100.0 * double(c.changedColumns) / double(c.cols), 0, 'f', 1)
                                          : QString::number(c.changedColumns));
    const double e = c.error[size_t(col - FixedCount - n - 2)];
    if (std::isnan(e))
        return sort ? QVariant(-1.0) : QVariant(tr("—"));
    return sort ? QVariant(e) : QVariant(QString::number(e, 'g', 4));
}

} // namespace mpq::gui
