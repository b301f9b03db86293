#pragma once

#include "session/ColumnExplain.h"

#include <QWidget>

class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSpinBox;
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

    /// Override (docs/override.md), below the explanation: what it applies to — the clicked
    /// column's range (Shift+click in a bit map sets its other end), the whole matrix or the
    /// whole decoder layer — and the width (or, for an MXQ run, the configuration to pin).
    enum class Scope { Columns, Matrix, Layer };
    void setOverrideScope(Scope scope);
    /// Extends the column range to `column` (a Shift+click on the same matrix).
    void extendColumns(const QString& tensor, qint64 column);
    void setOverrideBits(int bits);
    /// The override file's JSON for the form as filled in; empty when nothing is explained.
    QString overrideJson() const;
    /// One line for the log: "columns 3–17 of layer 2 · down_proj to 4 bits".
    QString overrideDescription() const;
    QPushButton* overrideButton() const { return m_overrideButton; }

Q_SIGNALS:
    /// *Quantize override* was pressed: run `overrideJson` as a new run of the session.
    void overrideRequested(const QString& run, const QString& overrideJson, const QString& description);

private:
    void updateOverrideForm();

    QLabel* m_title = nullptr;
    QTextBrowser* m_body = nullptr;
    QGroupBox* m_overrideBox = nullptr;
    QComboBox* m_scope = nullptr;
    QSpinBox* m_first = nullptr;
    QSpinBox* m_last = nullptr;
    QSpinBox* m_bits = nullptr;
    QComboBox* m_config = nullptr;
    QPushButton* m_overrideButton = nullptr;
    bool m_has = false;
    session::ColumnExplanation m_current;
};

} // namespace mpq::gui
