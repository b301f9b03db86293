#include "ExplainView.h"

#include "BitPalette.h"

#include <QLabel>
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
    setToolTip(tr("Explain: why the clicked column got its bits (its Hessian diagonal, the allocator's "
                  "softmax, the predicted error per width, the greedy baseline, its neighbours)"));
    setMessage(tr("Click a column in a bit map to see why it got its bits."));
}

void ExplainView::setMessage(const QString& message)
{
    m_title->setText(message.toHtmlEscaped());
    m_body->clear();
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
