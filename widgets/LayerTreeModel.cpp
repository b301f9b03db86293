#include "LayerTreeModel.h"

#include <QColor>

namespace mpq::gui {

namespace {
// Internal ids: 0 for a layer row, layer index + 1 for a matrix row.
constexpr quintptr kLayerRow = 0;

QString errorText(const MatrixResult& m)
{
    if (m.outputError >= 0)
        return QString::number(m.outputError, 'g', 4);
    if (m.frobeniusError >= 0)
        return QStringLiteral("‖ΔW‖ %1").arg(m.frobeniusError, 0, 'g', 4);
    return QStringLiteral("—");
}

// A matrix that needs the user's attention (GPTQ's fallback, an expert's all-token Hessian).
const QColor kNoteColor(0xb0, 0x50, 0x00);
const QString kNoteMark = QStringLiteral(" \u26a0"); // ⚠

QString matrixTooltip(const MatrixResult& m)
{
    QStringList lines{m.tensor};
    if (m.hessianSource == QLatin1String("routed") && m.calibrationTokens >= 0)
        lines << QStringLiteral("Hessian from the %1 calibration tokens routed to this expert").arg(m.calibrationTokens);
    lines << m.notes();
    return lines.join(QLatin1Char('\n'));
}
} // namespace

LayerTreeModel::LayerTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void LayerTreeModel::setRun(const RunData& run)
{
    beginResetModel();
    m_layers.clear();
    for (const MatrixResult& m : run.matrices) {
        if (m_layers.empty() || m_layers.back().layer != m.layer) {
            m_layers.emplace_back();
            m_layers.back().layer = m.layer;
        }
        m_layers.back().matrices.push_back(m);
    }
    for (Layer& l : m_layers) {
        double bits = 0, weights = 0;
        for (const MatrixResult& m : l.matrices) {
            l.averageBits.push_back(m.averageBits());
            l.noted.push_back(!m.notes().isEmpty());
            l.notedCount += l.noted.back() ? 1 : 0;
            bits += l.averageBits.back() * double(m.rows * m.cols);
            weights += double(m.rows * m.cols);
        }
        l.bits = weights > 0 ? bits / weights : -1;
    }
    endResetModel();
}

QModelIndex LayerTreeModel::indexOfTensor(const QString& tensor) const
{
    for (size_t l = 0; l < m_layers.size(); ++l)
        for (size_t r = 0; r < m_layers[l].matrices.size(); ++r)
            if (m_layers[l].matrices[r].tensor == tensor)
                return createIndex(int(r), 0, quintptr(l + 1));
    return {};
}

QModelIndex LayerTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < int(m_layers.size()) ? createIndex(row, column, kLayerRow) : QModelIndex();
    if (parent.internalId() != kLayerRow || parent.row() >= int(m_layers.size()))
        return {};
    if (row >= int(m_layers[size_t(parent.row())].matrices.size()))
        return {};
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex LayerTreeModel::parent(const QModelIndex& child) const
{
    if (!child.isValid() || child.internalId() == kLayerRow)
        return {};
    return createIndex(int(child.internalId() - 1), 0, kLayerRow);
}

int LayerTreeModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid())
        return int(m_layers.size());
    if (parent.column() != 0 || parent.internalId() != kLayerRow)
        return 0;
    return int(m_layers[size_t(parent.row())].matrices.size());
}

int LayerTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant LayerTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Matrix");
    case Shape: return tr("Shape");
    case Bits: return tr("Bits");
    case BitsWithOverhead: return tr("Bits + s/z");
    case Error: return tr("Error");
    }
    return {};
}

QVariant LayerTreeModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid())
        return {};
    if (index.internalId() == kLayerRow)
        return layerData(m_layers[size_t(index.row())], index.column(), role);
    const Layer& l = m_layers[size_t(index.internalId() - 1)];
    return matrixData(l, size_t(index.row()), index.column(), role);
}

QVariant LayerTreeModel::layerData(const Layer& l, int column, int role) const
{
    const int noted = l.notedCount;
    if (role == Qt::ForegroundRole && column == Name && noted > 0)
        return kNoteColor;
    if (role == Qt::ToolTipRole && noted > 0)
        return noted == 1 ? tr("1 matrix of this layer needs attention (GPTQ's fallback or an expert's all-token Hessian)")
                          : tr("%1 matrices of this layer need attention (GPTQ's fallback or an expert's all-token Hessian)").arg(noted);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (column) {
    case Name: return tr("layer %1").arg(l.layer) + (noted > 0 ? kNoteMark : QString());
    case Shape: return tr("%1 matrices").arg(l.matrices.size());
    case Bits: return l.bits >= 0 ? QString::number(l.bits, 'f', 3) : QString();
    default: return {};
    }
}

QVariant LayerTreeModel::matrixData(const Layer& l, size_t i, int column, int role) const
{
    const MatrixResult& m = l.matrices[i];
    if (role == TensorRole)
        return m.tensor;
    if (role == Qt::ToolTipRole)
        return matrixTooltip(m);
    if (role == Qt::ForegroundRole && column == Name && l.noted[i])
        return kNoteColor;
    // Error is the last column and may be wider than the dock: left-aligned so that it shows.
    if (role == Qt::TextAlignmentRole && column != Name && column != Error)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case Name: return l.noted[i] ? m.linear + kNoteMark : m.linear;
    case Shape: return QStringLiteral("%1 × %2").arg(m.rows).arg(m.cols);
    case Bits: return QString::number(l.averageBits[i], 'f', 3);
    case BitsWithOverhead: return m.bitsWithOverhead >= 0 ? QString::number(m.bitsWithOverhead, 'f', 3) : QStringLiteral("—");
    case Error: return errorText(m);
    }
    return {};
}

} // namespace mpq::gui
