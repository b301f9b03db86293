#include "ExplainView.h"

#include "BitPalette.h"

#include "pipeline/Override.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

namespace mpq::gui {

namespace {

QString num(double v, int precision = 4)
{
    return QString::number(v, 'g', precision);
}

/// A width as a chip in the bit palette's colour (light text on the dark low widths).
QString chip(int bits)
{
    const QColor c = BitPalette::color(bits);
    const QString fg = c.lightnessF() < 0.55 ? QStringLiteral("#ffffff") : QStringLiteral("#000000");
    return QStringLiteral("<span style=\"background-color:%1;color:%2\">&nbsp;%3&nbsp;</span>")
        .arg(c.name(), fg)
        .arg(bits);
}

QString note(const std::string& text)
{
    return text.empty() ? QString()
                        : QStringLiteral("<p style=\"color:gray\">%1</p>").arg(QString::fromStdString(text).toHtmlEscaped());
}

} // namespace

ExplainView::ExplainView(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_title = new QLabel(this);
    m_title->setWordWrap(true);
    m_title->setTextFormat(Qt::RichText);
    m_body = new QTextBrowser(this);
    m_body->setObjectName(QStringLiteral("explainBody"));
    m_body->setOpenLinks(false);
    layout->addWidget(m_title);
    layout->addWidget(m_body, 1);

    m_overrideBox = new QGroupBox(tr("Override in a new run (re-quantizes from this layer on)"), this);
    auto* form = new QFormLayout(m_overrideBox);
    m_scope = new QComboBox(m_overrideBox);
    m_scope->setObjectName(QStringLiteral("overrideScope"));
    m_scope->addItems({tr("columns"), tr("whole matrix"), tr("whole decoder layer")});
    m_first = new QSpinBox(m_overrideBox);
    m_last = new QSpinBox(m_overrideBox);
    auto* range = new QHBoxLayout;
    range->addWidget(m_first);
    range->addWidget(new QLabel(tr("to"), m_overrideBox));
    range->addWidget(m_last);
    range->addWidget(new QLabel(tr("(Shift+click sets the end)"), m_overrideBox), 1);
    m_bits = new QSpinBox(m_overrideBox);
    m_bits->setRange(1, 8);
    m_bits->setSuffix(tr(" bits"));
    m_config = new QComboBox(m_overrideBox);
    m_config->setToolTip(tr("MXQ: the configuration to pin; the program is re-solved at the run's budget"));
    auto* widthRow = new QHBoxLayout;
    widthRow->addWidget(m_bits);
    widthRow->addWidget(m_config, 1);
    m_overrideButton = new QPushButton(tr("Quantize override"), m_overrideBox);
    m_overrideButton->setToolTip(tr("A new run of the session: the base's layers before this one are copied, "
                                    "this layer and the later ones are quantized again (docs/override.md)"));
    form->addRow(tr("Apply to"), m_scope);
    form->addRow(tr("Columns"), range);
    form->addRow(tr("Set"), widthRow);
    form->addRow(m_overrideButton);
    layout->addWidget(m_overrideBox);
    connect(m_scope, &QComboBox::currentIndexChanged, this, [this] { updateOverrideForm(); });
    connect(m_first, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_last->value() < v)
            m_last->setValue(v);
    });
    connect(m_overrideButton, &QPushButton::clicked, this, [this] {
        const QString json = overrideJson();
        if (!json.isEmpty())
            Q_EMIT overrideRequested(QString::fromStdString(m_current.run), json, overrideDescription());
    });
    setToolTip(tr("Explain: why the clicked column got its bits (its Hessian diagonal, the allocator's "
                  "softmax, the predicted error per width, the greedy baseline, its neighbours)"));
    setMessage(tr("Click a column in a bit map to see why it got its bits."));
}

void ExplainView::setMessage(const QString& message)
{
    m_title->setText(message.toHtmlEscaped());
    m_body->clear();
    m_has = false;
    updateOverrideForm();
}

void ExplainView::updateOverrideForm()
{
    const bool mxq = m_has && m_current.isMxq;
    m_overrideBox->setEnabled(m_has);
    // MXQ quantizes whole matrices: a configuration per matrix, no column ranges.
    if (mxq && m_scope->currentIndex() == int(Scope::Columns))
        m_scope->setCurrentIndex(int(Scope::Matrix));
    const bool columns = m_scope->currentIndex() == int(Scope::Columns);
    m_first->setEnabled(columns && !mxq);
    m_last->setEnabled(columns && !mxq);
    m_bits->setVisible(!mxq || m_current.configs.empty());
    m_config->setVisible(mxq && !m_current.configs.empty());
}

void ExplainView::setOverrideScope(Scope scope)
{
    m_scope->setCurrentIndex(int(scope));
}

void ExplainView::setOverrideBits(int bits)
{
    m_bits->setValue(bits);
}

void ExplainView::extendColumns(const QString& tensor, qint64 column)
{
    if (!m_has || tensor.toStdString() != m_current.tensor)
        return;
    setOverrideScope(Scope::Columns);
    const int a = int(std::min<qint64>(m_current.column, column)), b = int(std::max<qint64>(m_current.column, column));
    m_first->setValue(a);
    m_last->setValue(b);
}

QString ExplainView::overrideJson() const
{
    if (!m_has)
        return {};
    OverrideSpec spec;
    spec.base = m_current.run;
    OverrideEntry e;
    switch (Scope(m_scope->currentIndex())) {
    case Scope::Columns:
        e.tensor = m_current.tensor;
        e.firstColumn = m_first->value();
        e.lastColumn = m_last->value();
        break;
    case Scope::Matrix:
        e.tensor = m_current.tensor;
        break;
    case Scope::Layer:
        e.layer = m_current.layer;
        break;
    }
    if (m_config->isVisible() && m_config->currentIndex() >= 0)
        e.mxq = m_config->currentText().toStdString();
    else
        e.bits = m_bits->value();
    spec.entries.push_back(e);
    return QString::fromStdString(spec.toJson());
}

QString ExplainView::overrideDescription() const
{
    if (!m_has)
        return {};
    const QString what = m_config->isVisible() ? tr("pinned to %1").arg(m_config->currentText())
                                               : tr("to %1 bits").arg(m_bits->value());
    const QString matrix = tr("layer %1 · %2").arg(m_current.layer).arg(QString::fromStdString(m_current.linear));
    switch (Scope(m_scope->currentIndex())) {
    case Scope::Columns:
        return tr("columns %1–%2 of %3 %4").arg(m_first->value()).arg(m_last->value()).arg(matrix, what);
    case Scope::Matrix:
        return tr("%1 %2").arg(matrix, what);
    case Scope::Layer:
        return tr("decoder layer %1 %2").arg(m_current.layer).arg(what);
    }
    return {};
}

QString ExplainView::text() const
{
    return m_title->text() + QLatin1Char('\n') + m_body->toPlainText();
}

void ExplainView::setExplanation(const session::ColumnExplanation& e)
{
    m_title->setText(tr("<b>Column %1</b> of layer %2 · %3 (%4 × %5) — run %6 (%7): %8 bits")
                         .arg(e.column)
                         .arg(e.layer)
                         .arg(QString::fromStdString(e.linear))
                         .arg(e.rows)
                         .arg(e.cols)
                         .arg(QString::fromStdString(e.run).toHtmlEscaped(), QString::fromStdString(e.method))
                         .arg(chip(e.bits)));
    m_body->setHtml(toHtml(e));
    const bool sameMatrix = m_has && m_current.run == e.run && m_current.tensor == e.tensor;
    m_current = e;
    m_has = true;
    m_first->setRange(0, int(e.cols - 1));
    m_last->setRange(0, int(e.cols - 1));
    m_first->setValue(int(e.column));
    m_last->setValue(int(e.column));
    if (!sameMatrix)
        m_bits->setValue(std::min(8, e.bits + 1)); // the usual wish: more bits here
    m_config->clear();
    for (const auto& c : e.configs)
        m_config->addItem(QString::fromStdString(c.label));
    updateOverrideForm();
}

QString ExplainView::toHtml(const session::ColumnExplanation& e)
{
    QString h;
    h += tr("<p>Matrix average %1 bits.").arg(num(e.matrixAverageBits, 3));
    if (e.hasHessian)
        h += tr(" H<sub>jj</sub> = %1: rank %2 of %3 (1 = largest; median %4, this one %5× it).")
                 .arg(num(e.hessianDiagonal))
                 .arg(e.hessianRank)
                 .arg(e.cols)
                 .arg(num(e.hessianMedian))
                 .arg(num(e.hessianMedian > 0 ? e.hessianDiagonal / e.hessianMedian : 0, 3));
    else
        h += tr(" Data-free run: no Hessian.");
    h += QStringLiteral("</p>");

    // Per candidate width.
    h += tr("<p><b>Per width</b> (predicted error = H<sub>jj</sub>·‖W<sub>:,j</sub> − Q<sub>b</sub>(W)<sub>:,j</sub>‖², "
            "the column's own term of tr(ΔW H ΔWᵀ) with RTN)</p>");
    h += QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>bits</th><th>softmax p</th>"
                        "<th>column error ‖E‖²</th><th>predicted error</th></tr>");
    for (const auto& w : e.widths) {
        const bool applied = w.bits == e.bits;
        const QString b0 = applied ? QStringLiteral("<b>") : QString(), b1 = applied ? QStringLiteral("</b>") : QString();
        h += QStringLiteral("<tr><td>%1%2</td><td align=\"right\">%3</td><td align=\"right\">%4</td><td align=\"right\">%5%6%7</td></tr>")
                 .arg(chip(w.bits), applied ? tr(" applied") : QString(),
                      w.probability >= 0 ? QString::number(w.probability, 'f', 3) : QStringLiteral("–"),
                      w.columnError >= 0 ? num(w.columnError) : QStringLiteral("–"), b0,
                      w.predictedError >= 0 ? num(w.predictedError) : QStringLiteral("–"), b1);
    }
    h += QStringLiteral("</table>");
    h += note(e.softmaxNote) + note(e.errorNote);

    if (e.greedyBits > 0)
        h += tr("<p><b>Hessian-greedy baseline</b> at %1 bits (the matrix's average): %2 bits — this column is "
                "%3 of %4 by H<sub>jj</sub>·‖W<sub>:,j</sub>‖², raised in that order.</p>")
                 .arg(num(e.greedyTarget, 3), chip(e.greedyBits))
                 .arg(e.greedyRank)
                 .arg(e.cols);

    if (!e.neighbours.empty()) {
        h += tr("<p><b>Strongest neighbours</b> — %1</p>").arg(QString::fromStdString(e.neighbourSource).toHtmlEscaped());
        h += QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>column</th><th>weight</th><th>bits</th></tr>");
        for (const auto& n : e.neighbours)
            h += QStringLiteral("<tr><td align=\"right\">%1</td><td align=\"right\">%2</td><td>%3</td></tr>")
                     .arg(n.column)
                     .arg(QString::number(n.weight, 'f', 4), chip(n.bits));
        h += QStringLiteral("</table>");
    } else if (!e.neighbourSource.empty()) {
        h += note("Neighbours: " + e.neighbourSource);
    }

    if (e.isMxq) {
        h += tr("<p><b>MXQ configurations of this matrix</b></p>");
        if (!e.configs.empty()) {
            h += QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>config</th><th>cost</th>"
                                "<th>storage (KiB)</th><th>cost + λ·storage</th></tr>");
            double best = 1e300;
            for (const auto& c : e.configs)
                best = std::min(best, c.pricedCost);
            for (const auto& c : e.configs)
                h += QStringLiteral("<tr><td>%1 %2%3</td><td align=\"right\">%4</td><td align=\"right\">%5</td><td align=\"right\">%6%7</td></tr>")
                         .arg(chip(c.bits), QString::fromStdString(c.label), c.chosen ? tr(" <b>chosen</b>") : QString(),
                              num(c.cost), QString::number(c.storageBits / 8192.0, 'f', 1), num(c.pricedCost),
                              c.pricedCost == best ? tr(" (LP's pick)") : QString());
            h += QStringLiteral("</table>");
            h += tr("<p>Budget %1 (%2). Shadow price λ = %3 cost per storage bit = %4 per bit per parameter "
                    "(the LP relaxation's dual of the budget row: what one more bit of average budget would "
                    "save, at the margin).</p>")
                     .arg(QString::number(e.budgetBits / 8.0 / 1024.0 / 1024.0, 'f', 3) + tr(" MiB"),
                          QString::fromStdString(e.budgetSource).toHtmlEscaped(), num(e.shadowPrice),
                          num(e.shadowPricePerBitPerParameter));
        }
        h += note(e.mxqNote);
    }
    return h;
}

} // namespace mpq::gui
