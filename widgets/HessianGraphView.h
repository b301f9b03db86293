#pragma once

#include "GraphLayout.h"
#include "HessianGraphData.h"
#include "PlotView.h"

class QComboBox;
class QCPAxisRect;
class QCPColorMap;
class QCPColorScale;

namespace mpq::gui {

/// The Hessian graph of the selected matrix: the adjacency as a heat map on a logarithmic colour
/// scale (columns in natural or act-order) beside a node-link drawing of the strongest edges with
/// nodes coloured by their assigned bits. Both zoom and pan; hovering a column shows its index,
/// H_jj and bits. Shows why it is empty when the run stored no Hessian. GUI thread only.
class HessianGraphView : public PlotView {
    Q_OBJECT
public:
    explicit HessianGraphView(QWidget* parent = nullptr);

    void setGraph(const HessianGraphData& data);
    /// Natural (false) or act-order (true) column order of the heat map and the circle.
    void setActOrder(bool actOrder);
    /// The hover text for the column under a point of the plot (empty when none). For tests.
    QString hoverText(const QPoint& pos) const;
    /// The colour scale's tick labels as drawn now. For tests (labels must not repeat).
    QStringList colorScaleLabels() const;

protected:
    /// Over a column, the plot's tooltip is that column's readout, not the view's description.
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuild();
    int columnAt(const QPoint& pos) const;
    void onMove(QMouseEvent* event);

    HessianGraphData m_data;
    bool m_actOrder = false;
    std::vector<int64_t> m_order;  ///< position → column
    GraphLayout m_layout;
    QComboBox* m_orderBox = nullptr;
    QCPAxisRect* m_heatRect = nullptr;
    QCPAxisRect* m_graphRect = nullptr;
    QCPColorMap* m_heat = nullptr;
    QCPColorScale* m_scale = nullptr;
    int64_t m_heatBlock = 1;  ///< columns per heat-map cell side (1: exact)

public:
    /// Widest heat map drawn cell per column; wider ones are max-pooled in k×k blocks.
    static constexpr int64_t kMaxHeatCells = 512;
    /// Columns per heat-map cell side as last drawn.
    int64_t heatBlock() const { return m_heatBlock; }
};

} // namespace mpq::gui
