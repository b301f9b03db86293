#pragma once

#include "PlotView.h"
#include "RunComparison.h"

#include <QMap>

#include <vector>

class QComboBox;

namespace mpq::gui {

/// The compared runs on the trade-off plane: average bits per weight (scales and zeros included)
/// against perplexity on a chosen data set, every picked run a labelled marker in its method's
/// colour, the other runs offered for comparison as small grey dots for context, and the
/// unquantized model as a dashed line. GUI thread only.
class CompareTradeoffView : public PlotView {
    Q_OBJECT
public:
    explicit CompareTradeoffView(QWidget* parent = nullptr);
    /// `picked` are drawn in colour and labelled, `others` in grey; `reference` maps data set →
    /// the unquantized model's perplexity.
    void setRuns(const std::vector<CompareEntry>& picked, const std::vector<CompareEntry>& others,
                 const QMap<QString, double>& reference);
    QString dataset() const;
    void setDataset(const QString& dataset);
    /// The point labels drawn now (for tests).
    QStringList pointLabels() const { return m_labels; }

private:
    void redraw();

    std::vector<CompareEntry> m_picked, m_others;
    QMap<QString, double> m_reference;
    QComboBox* m_datasetBox = nullptr;
    QStringList m_labels;
};

} // namespace mpq::gui
