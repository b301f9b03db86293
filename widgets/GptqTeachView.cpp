#include "GptqTeachView.h"

#include "QCustomPlotInclude.h"

#include <QKeyEvent>
#include <QLabel>
#include <QSlider>
#include <QTextStream>

#include <algorithm>
#include <cmath>

namespace mpq::gui {

namespace {

/// Blue (negative) – white – red (positive): a signed quantity around zero.
QCPColorGradient diverging()
{
    QCPColorGradient g;
    g.setColorStopAt(0.0, QColor(33, 102, 172));
    g.setColorStopAt(0.5, QColor(247, 247, 247));
    g.setColorStopAt(1.0, QColor(178, 24, 43));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

double maxAbs(const std::vector<float>& v)
{
    double m = 0;
    for (float x : v)
        m = std::max(m, double(std::abs(x)));
    return m > 0 ? m : 1;
}

QString num(double v)
{
    return QString::number(v, 'g', 3);
}

} // namespace

GptqTeachView::GptqTeachView(QWidget* parent) : TeachPlayerView(parent, 350, 110, 64)
{
    setToolTip(tr("Teaching mode: GPTQ on one matrix step by step — each column rounded to its grid, its "
                  "error spread over the columns still to come, block by block"));
    QCustomPlot* p = plot();
    p->plotLayout()->clear();
    m_leftRect = new QCPAxisRect(p);
    m_rightRect = new QCPAxisRect(p);
    m_weightScale = new QCPColorScale(p);
    m_changeScale = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 0, m_leftRect);
    p->plotLayout()->addElement(0, 1, m_weightScale);
    p->plotLayout()->addElement(0, 2, m_rightRect);
    p->plotLayout()->addElement(0, 3, m_changeScale);
    p->plotLayout()->setColumnStretchFactors({1.0, 0.01, 1.0, 0.01});
    m_weightScale->setLabel(tr("weight"));
    m_changeScale->setLabel(tr("change from W"));
    int i = 0;
    for (auto [rect, scale, title] :
         {std::tuple<QCPAxisRect*, QCPColorScale*, QString>{m_leftRect, m_weightScale,
                                                            tr("working weights (quantized columns hold Q)")},
          {m_rightRect, m_changeScale, tr("change from W: error · compensation")}}) {
        QCPAxis* x = rect->axis(QCPAxis::atBottom);
        QCPAxis* y = rect->axis(QCPAxis::atLeft);
        y->setRangeReversed(true);
        x->setLabel(title);
        y->setLabel(tr("output row"));
        (i == 0 ? m_weights : m_change) = addHeatMap(rect, scale, diverging());
        m_blockMark[i] = new QCPItemRect(p);
        m_columnMark[i] = new QCPItemRect(p);
        for (QCPItemRect* r : {m_blockMark[i], m_columnMark[i]}) {
            r->setClipAxisRect(rect);
            r->topLeft->setAxes(x, y);
            r->bottomRight->setAxes(x, y);
            r->setBrush(Qt::NoBrush);
            r->setVisible(false);
        }
        m_blockMark[i]->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
        m_columnMark[i]->setPen(QPen(Qt::black, 2));
        ++i;
    }
    styleAxes(p);

    slider()->setObjectName(QStringLiteral("teachSlider"));
    textLabel()->setObjectName(QStringLiteral("teachText"));
    textLabel()->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    p->installEventFilter(this);
    setMessage(tr("Teaching mode: select a matrix of a session run that stores its full Hessian "
                  "(the demo's runs do) to watch GPTQ quantize it step by step."));
}

int GptqTeachView::steps() const
{
    return m_trace ? int(m_trace->steps.size()) : 0;
}

void GptqTeachView::setMessage(const QString& message)
{
    setPlaying(false);
    m_trace.reset();
    clearPlayer(0);
    setCaption(message);
    m_weights->data()->clear();
    m_change->data()->clear();
    for (int i = 0; i < 2; ++i) {
        m_columnMark[i]->setVisible(false);
        m_blockMark[i]->setVisible(false);
    }
    requestReplot();
}

void GptqTeachView::setTrace(std::shared_ptr<const GptqTrace> trace, const QString& label)
{
    setPlaying(false);
    m_trace = std::move(trace);
    m_label = label;
    const GptqTrace& t = *m_trace;
    setCaption(tr("GPTQ on %1 (%2 × %3), %4 bits, per-row grid, blocks of %5 columns, λ = %6 · output error "
                  "tr(ΔW H ΔWᵀ): GPTQ %7, round-to-nearest on the same grid %8")
                   .arg(label).arg(t.rows).arg(t.cols).arg(t.bits).arg(t.blockSize)
                   .arg(num(t.damping), num(t.gptqOutputError), num(t.rtnOutputError)));
    for (auto* map : {m_weights, m_change}) {
        map->data()->setSize(int(t.cols), int(t.rows));
        map->data()->setRange(QCPRange(0, double(t.cols - 1)), QCPRange(0, double(t.rows - 1)));
    }
    const double w = maxAbs(t.original);
    m_weights->setDataRange(QCPRange(-w, w));
    double c = 0;
    for (const auto& s : t.steps)
        c = std::max(c, maxAbs(s.change));
    m_change->setDataRange(QCPRange(-c, c));
    for (QCPAxisRect* r : {m_leftRect, m_rightRect}) {
        r->axis(QCPAxis::atBottom)->setRange(-0.5, double(t.cols) - 0.5);
        r->axis(QCPAxis::atLeft)->setRange(-0.5, double(t.rows) - 0.5);
    }
    startPlayer(steps());
}

QString GptqTeachView::describeStep(const GptqTrace& t, int step)
{
    if (step <= 0)
        return tr("<b>Start.</b> W as trained. GPTQ walks the columns left to right in blocks of %1. Each "
                  "column is rounded to its row's %2-bit grid; the rounding error is then pushed onto the "
                  "columns not yet quantized, weighted by how the inputs co-vary (the Hessian H through the "
                  "Cholesky factor U of H⁻¹), so that the layer's output changes as little as possible.")
            .arg(t.blockSize)
            .arg(t.bits);
    const GptqTraceStep& s = t.steps[size_t(step - 1)];
    if (s.kind == GptqTraceStep::Kind::BlockUpdate)
        return tr("<b>Step %1 of %2 — lazy batch update.</b> Block %3–%4 is done. Its errors, collected "
                  "column by column, are applied to all %5 later columns at once: W[:, %6:] −= Err · U[%3:%6, %6:] "
                  "(one matrix product instead of %7 small updates; the same result). Largest change to a weight: %8.")
            .arg(step)
            .arg(t.steps.size())
            .arg(s.blockStart)
            .arg(s.blockEnd - 1)
            .arg(t.cols - s.blockEnd)
            .arg(s.blockEnd)
            .arg(s.blockEnd - s.blockStart)
            .arg(num(s.maxUpdate));
    double meanErr = 0;
    for (float e : s.columnError)
        meanErr += std::abs(e);
    meanErr /= double(std::max<size_t>(1, s.columnError.size()));
    const double hinv = t.hinvDiagonal[size_t(s.column)];
    QString rest = s.column + 1 < s.blockEnd
                       ? tr("The error, divided by U<sub>jj</sub> = %1, is subtracted from columns %2–%3 of this "
                            "block in proportion to U<sub>j,k</sub> (largest change %4); columns from %5 on wait "
                            "for the block's update.")
                             .arg(num(hinv))
                             .arg(s.column + 1)
                             .arg(s.blockEnd - 1)
                             .arg(num(s.maxUpdate))
                             .arg(s.blockEnd)
                       : tr("The last column of its block: its error joins the block's, to be applied to the "
                            "later columns next.");
    return tr("<b>Step %1 of %2 — quantize column %3</b> (block %4–%5, H<sub>jj</sub> = %6). Each row's weight "
              "is rounded to the nearest of its %7 grid levels: mean |w − q| = %8, GPTQ's loss (w − q)²/(2U<sub>jj</sub>²) "
              "summed over rows = %9. ")
               .arg(step)
               .arg(t.steps.size())
               .arg(s.column)
               .arg(s.blockStart)
               .arg(s.blockEnd - 1)
               .arg(num(t.hessianDiagonal[size_t(s.column)]))
               .arg(1 << t.bits)
               .arg(num(meanErr), num(s.loss)) +
           rest;
}

void GptqTeachView::showPosition(int step)
{
    const GptqTrace& t = *m_trace;
    const std::vector<float>& w = step == 0 ? t.original : t.steps[size_t(step - 1)].weights;
    for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t c = 0; c < t.cols; ++c) {
            m_weights->data()->setCell(int(c), int(r), w[size_t(r * t.cols + c)]);
            m_change->data()->setCell(int(c), int(r),
                                      step == 0 ? 0.0 : t.steps[size_t(step - 1)].change[size_t(r * t.cols + c)]);
        }
    const GptqTraceStep* s = step == 0 ? nullptr : &t.steps[size_t(step - 1)];
    for (int i = 0; i < 2; ++i) {
        m_blockMark[i]->setVisible(s != nullptr);
        m_columnMark[i]->setVisible(s && s->kind == GptqTraceStep::Kind::Column);
        if (!s)
            continue;
        m_blockMark[i]->topLeft->setCoords(double(s->blockStart) - 0.5, -0.5);
        m_blockMark[i]->bottomRight->setCoords(double(s->blockEnd) - 0.5, double(t.rows) - 0.5);
        if (s->kind == GptqTraceStep::Kind::Column) {
            m_columnMark[i]->topLeft->setCoords(double(s->column) - 0.5, -0.5);
            m_columnMark[i]->bottomRight->setCoords(double(s->column) + 0.5, double(t.rows) - 0.5);
        }
    }
    setPositionText(tr("step %1 / %2").arg(step).arg(steps()), describeStep(t, step));
    requestReplot();
}

bool GptqTeachView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot() && event->type() == QEvent::KeyPress) {
        switch (static_cast<QKeyEvent*>(event)->key()) {
        case Qt::Key_Right:
            next();
            return true;
        case Qt::Key_Left:
            previous();
            return true;
        case Qt::Key_Home:
            setStep(0);
            return true;
        case Qt::Key_End:
            setStep(steps());
            return true;
        case Qt::Key_Space:
            setPlaying(!playing());
            return true;
        default:
            break;
        }
    }
    return TeachPlayerView::eventFilter(watched, event);
}

bool GptqTeachView::writeCsv(QTextStream& out) const
{
    if (!m_trace)
        return false;
    const GptqTrace& t = *m_trace;
    const int shown = step();
    const std::vector<float>& w = shown == 0 ? t.original : t.steps[size_t(shown - 1)].weights;
    out << "step,row,column,weight,change\n";
    for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t c = 0; c < t.cols; ++c)
            out << shown << ',' << r << ',' << c << ',' << QString::number(w[size_t(r * t.cols + c)], 'g', 9) << ','
                << QString::number(shown == 0 ? 0.0f : t.steps[size_t(shown - 1)].change[size_t(r * t.cols + c)],
                                   'g', 9)
                << '\n';
    return true;
}

} // namespace mpq::gui
