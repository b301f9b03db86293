#pragma once

#include "RunData.h"

#include <QAbstractItemModel>

#include <vector>

namespace mpq::gui {

/// The layer browser's model: decoder layers at the top level, their weight matrices below, with
/// shape, average code bits, bits with scales and zeros, and the output error tr(ΔW H ΔWᵀ) (or
/// ‖W − Ŵ‖_F for data-free runs). Read-only. GUI thread only; setRun() resets the model.
class LayerTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { Name, Shape, Bits, BitsWithOverhead, Error, ColumnCount };
    /// The tensor name of a matrix row (empty for layer rows).
    static constexpr int TensorRole = Qt::UserRole + 1;

    explicit LayerTreeModel(QObject* parent = nullptr);

    void setRun(const RunData& run);
    /// The index of a matrix row, invalid when the tensor is not in the run.
    QModelIndex indexOfTensor(const QString& tensor) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Layer {
        int layer = 0;
        std::vector<MatrixResult> matrices;
        // Computed once in setRun(): views ask data() many times per paint, and a 7B-shaped run
        // has matrices of 11008 columns.
        std::vector<double> averageBits;  ///< per matrix
        std::vector<bool> noted;          ///< per matrix: notes() is not empty
        double bits = 0;                  ///< size-weighted average code bits of the layer
        int notedCount = 0;
    };
    QVariant layerData(const Layer& l, int column, int role) const;
    QVariant matrixData(const Layer& l, size_t i, int column, int role) const;

    std::vector<Layer> m_layers;
};

} // namespace mpq::gui
