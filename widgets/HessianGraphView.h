#pragma once

#include "GraphLayout.h"
#include "HessianGraphData.h"
#include "HessianGraphSummary.h"
#include "PlotView.h"

#include <QImage>
#include <QString>

#include <deque>
#include <memory>
#include <utility>

class QComboBox;
class QCPAxisRect;
class QCPColorMap;
class QCPColorScale;

namespace mpq::gui {

/// The Hessian graph of the selected matrix: the adjacency as a heat map on a logarithmic colour
/// scale (columns in natural or act-order) beside a node-link drawing of the strongest edges with
/// nodes coloured by their assigned bits. Both zoom and pan; hovering a column shows its index,
/// H_jj and bits. Shows why it is empty when the run stored no Hessian. What it draws is derived
/// once per matrix (HessianGraphSummary, O(edges)) and kept for the last kCacheSize graphs with a
/// key, so showing a matrix again, switching the order, zooming and panning never rescan the
/// coupling. GUI thread only.
class HessianGraphView : public PlotView {
    Q_OBJECT
public:
    explicit HessianGraphView(QWidget* parent = nullptr);

    /// Shows a graph; its summary comes from the cache when `data.key` was shown recently.
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
    /// What is derived once per graph: the summary and, once drawn, the heat map's image per order.
    struct Cached {
        HessianGraphSummary summary;
        QImage heat[2]; ///< natural, act-order
    };
    class HeatMap;
    class EdgeLines;
    std::shared_ptr<Cached> cached(const HessianGraphData& data);
    int columnAt(const QPoint& pos) const;
    void onMove(QMouseEvent* event);

    HessianGraphData m_data;  ///< without its coupling (that is in m_summary)
    std::shared_ptr<Cached> m_current;
    std::deque<std::pair<QString, std::shared_ptr<Cached>>> m_cache; ///< newest first
    int m_summariesComputed = 0;
    bool m_actOrder = false;
    std::vector<int64_t> m_order;  ///< position → column
    GraphLayout m_layout;
    QComboBox* m_orderBox = nullptr;
    QCPAxisRect* m_heatRect = nullptr;
    QCPAxisRect* m_graphRect = nullptr;
    HeatMap* m_heat = nullptr;
    EdgeLines* m_edges = nullptr;
    QCPColorScale* m_scale = nullptr;
    int64_t m_heatBlock = 1;  ///< columns per heat-map cell side (1: exact)

public:
    /// Widest heat map drawn cell per column; wider ones are max-pooled in k×k blocks.
    static constexpr int64_t kMaxHeatCells = 512;
    /// Edges drawn in the node-link drawing (the strongest).
    static constexpr int kMaxEdges = 240;
    /// Most node dots drawn around the circle; wider graphs get one dot per k adjacent columns.
    static constexpr int kMaxDots = 512;
    /// Graph summaries kept (keyed by HessianGraphData::key).
    static constexpr int kCacheSize = 8;
    /// Columns per heat-map cell side as last drawn.
    int64_t heatBlock() const { return m_heatBlock; }
    /// How many graph summaries this view has computed (a cached one is not recomputed). For tests.
    int summariesComputed() const { return m_summariesComputed; }
};

} // namespace mpq::gui
