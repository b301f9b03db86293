#pragma once

#include "session/ColumnExplain.h"

#include <QWidget>

class QLabel;
class QTextBrowser;

namespace mpq::gui {

/// The Explain dock: why a column of the shown run got its bit-width — its Hessian diagonal and
/// rank, the allocator's softmax and the predicted error per candidate width, the Hessian-greedy
/// baseline, its strongest graph neighbours, and for MXQ the matrix's configurations with the
/// budget's shadow price (session::explainColumn; docs/explain.md). Filled when a column of a
/// bit map is clicked. GUI thread only.
class ExplainView : public QWidget {
    Q_OBJECT
public:
    explicit ExplainView(QWidget* parent = nullptr);

    /// Shows `e`.
    void setExplanation(const session::ColumnExplanation& e);
    /// Shows a one-line message instead (nothing clicked yet, working, or why it failed).
    void setMessage(const QString& message);
    /// The text shown now (plain), for tests.
    QString text() const;
    /// The explanation as HTML (tables, the widths in the bit palette's colours).
    static QString toHtml(const session::ColumnExplanation& e);

private:
    QLabel* m_title = nullptr;
    QTextBrowser* m_body = nullptr;
};

} // namespace mpq::gui
