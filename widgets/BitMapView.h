#pragma once

#include "MatrixResult.h"
#include "PlotView.h"

#include <vector>

class QCPColorMap;
class QCPColorScale;
class QCPItemRect;

namespace mpq::gui {

/// The bit-width map: one row per weight matrix, one cell per input column coloured by its
/// bit-width, a legend of the widths and each row labelled with its matrix and average bits.
/// Clicking a row selects that matrix. GUI thread only.
class BitMapView : public PlotView {
    Q_OBJECT
public:
    explicit BitMapView(QWidget* parent = nullptr);

    /// Shows `matrices` (in order, top to bottom) under `title`; an empty list shows `title` as
    /// the reason there is nothing to draw. Redraws at once.
    void setMatrices(const std::vector<MatrixResult>& matrices, const QString& title);
    /// Outlines the row of `tensor` (none when empty or absent).
    void setSelectedTensor(const QString& tensor);
    /// Tensor names in row order (top row first).
    QStringList tensors() const { return m_tensors; }
    /// The row labels drawn now (rows without a label are left out: when rows are shorter than a
    /// line of text only every k-th row is labelled, so that labels never overlap).
    QStringList rowLabels() const;
    /// Every k-th row gets a label when rows are `pixelsPerRow` high and a label `lineHeight`.
    static int labelStride(double pixelsPerRow, double lineHeight);

Q_SIGNALS:
    /// A row was clicked.
    void matrixClicked(const QString& tensor);

private:
    void onPress(QMouseEvent* event);
    void updateSelection();
    void applyRowLabels();

    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_selection = nullptr;
    QStringList m_tensors;
    std::vector<int64_t> m_cols;
    QStringList m_labels;       ///< one per row
    int m_stride = 1;           ///< rows per label as drawn
    QString m_selected;
};

} // namespace mpq::gui
