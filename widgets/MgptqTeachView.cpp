#include "MgptqTeachView.h"

#include "QCustomPlotInclude.h"


#include <algorithm>

namespace mpq::gui {

namespace {

QString num(double v)
{
    return QString::number(v, 'g', 3);
}

/// White (0) to dark blue (1): a probability.
QCPColorGradient probabilityGradient()
{
    QCPColorGradient g;
    g.setColorStopAt(0.0, QColor(255, 255, 255));
    g.setColorStopAt(0.5, QColor(107, 174, 214));
    g.setColorStopAt(1.0, QColor(8, 48, 107));
    return g;
}

} // namespace

MgptqTeachView::MgptqTeachView(QWidget* parent) : TeachPlayerView(parent, 400, 130, 48)
{
    setToolTip(tr("Teaching mode: MG-PTQ's allocator trained on one matrix — each column's softmax over the "
                  "widths and its Gumbel-Softmax sample sharpening as the temperature τ falls"));
    QCustomPlot* p = plot();
    p->plotLayout()->clear();
    m_probRect = new QCPAxisRect(p);
    m_sampleRect = new QCPAxisRect(p);
    m_curveRect = new QCPAxisRect(p);
    auto* scale = new QCPColorScale(p);
    auto* top = new QCPLayoutGrid;
    p->plotLayout()->addElement(0, 0, top);
    top->addElement(0, 0, m_probRect);
    top->addElement(1, 0, m_sampleRect);
    top->addElement(0, 1, scale);
    top->setColumnStretchFactors({1.0, 0.01});
    p->plotLayout()->addElement(1, 0, m_curveRect);
    p->plotLayout()->setRowStretchFactors({2.0, 1.0});
    scale->setLabel(tr("probability"));
    scale->setDataRange(QCPRange(0, 1));
    scale->setGradient(probabilityGradient());
    int i = 0;
    for (QCPAxisRect* r : {m_probRect, m_sampleRect}) {
        r->axis(QCPAxis::atBottom)
            ->setLabel(i == 0 ? tr("input column — softmax p over the widths (the allocator's belief)")
                              : tr("input column — this epoch's Gumbel-Softmax sample softmax((logits + g)/τ)"));
        auto* map = addHeatMap(r, scale, probabilityGradient());
        map->setDataRange(QCPRange(0, 1));
        (i == 0 ? m_prob : m_sample) = map;
        ++i;
    }
    QCPAxis* ex = m_curveRect->axis(QCPAxis::atBottom);
    QCPAxis* ey = m_curveRect->axis(QCPAxis::atLeft);
    QCPAxis* ey2 = m_curveRect->axis(QCPAxis::atRight);
    ey2->setVisible(true);
    ex->setLabel(tr("epoch"));
    ey->setLabel(tr("τ (orange)"));
    ey2->setLabel(tr("expected bits (blue)"));
    m_tau = p->addGraph(ex, ey);
    m_tau->setPen(QPen(QColor(213, 94, 0), 2));
    m_tau->setName(tr("τ"));
    m_bits = p->addGraph(ex, ey2);
    m_bits->setPen(QPen(QColor(0, 114, 178), 2));
    m_bits->setName(tr("expected bits"));
    m_now = new QCPItemStraightLine(p);
    m_now->setClipAxisRect(m_curveRect);
    m_now->point1->setAxes(ex, ey);
    m_now->point2->setAxes(ex, ey);
    m_now->setPen(QPen(Qt::black, 1, Qt::DashLine));
    styleAxes(p);

    setMessage(tr("Teaching mode for MG-PTQ: show an MG-PTQ run of a session (the demo makes two) to watch its "
                  "allocator learn the widths of the selected matrix."));
}

int MgptqTeachView::frames() const
{
    return m_trace ? int(m_trace->frames.size()) : 0;
}

void MgptqTeachView::setMessage(const QString& message)
{
    setPlaying(false);
    m_trace.reset();
    clearPlayer(-1);
    setCaption(message);
    m_prob->data()->clear();
    m_sample->data()->clear();
    m_tau->data()->clear();
    m_bits->data()->clear();
    m_now->setVisible(false);
    requestReplot();
}

void MgptqTeachView::setTrace(std::shared_ptr<const MgptqTrace> trace, const QString& label)
{
    setPlaying(false);
    m_trace = std::move(trace);
    const MgptqTrace& t = *m_trace;
    double avg = 0;
    for (auto b : t.columnBits)
        avg += b;
    avg /= double(std::max<size_t>(1, t.columnBits.size()));
    setCaption(tr("MG-PTQ (%1) on %2: %3 columns, widths {%4}, %5, %6 epochs, replayed with the run's seed · "
                  "final allocation %7 bits on average (after the target repair)")
                   .arg(QString::fromStdString(t.allocator), label)
                   .arg(t.cols)
                   .arg([&] {
                       QStringList w;
                       for (int b : t.widths)
                           w << QString::number(b);
                       return w.join(QStringLiteral(", "));
                   }())
                   .arg(QString::fromStdString(t.knob))
                   .arg(t.epochs)
                   .arg(num(avg)));
    const int K = int(t.widths.size());
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int k = 0; k < K; ++k)
        ticker->addTick(k, tr("%1 bits").arg(t.widths[size_t(k)]));
    for (auto [map, rect] : {std::pair<QCPColorMap*, QCPAxisRect*>{m_prob, m_probRect}, {m_sample, m_sampleRect}}) {
        map->data()->setSize(int(t.cols), K);
        map->data()->setRange(QCPRange(0, double(t.cols - 1)), QCPRange(0, double(K - 1)));
        rect->axis(QCPAxis::atLeft)->setTicker(ticker);
        rect->axis(QCPAxis::atLeft)->setRange(-0.5, K - 0.5);
        rect->axis(QCPAxis::atBottom)->setRange(-0.5, double(t.cols) - 0.5);
    }
    QVector<double> e, tau, bits;
    for (const auto& f : t.frames) {
        e << f.epoch;
        tau << f.tau;
        bits << f.expectedBits;
    }
    m_tau->setData(e, tau, true);
    m_bits->setData(e, bits, true);
    m_curveRect->axis(QCPAxis::atBottom)->setRange(0, std::max(1, t.epochs - 1));
    m_curveRect->axis(QCPAxis::atLeft)->setRange(0, std::max(1.0, tau.isEmpty() ? 1.0 : tau.front() * 1.05));
    m_curveRect->axis(QCPAxis::atRight)->setRange(t.widths.front() - 0.1, t.widths.back() + 0.1);
    startPlayer(frames() - 1);
}

QString MgptqTeachView::describeFrame(const MgptqTrace& t, int frame)
{
    const MgptqTraceFrame& f = t.frames[size_t(frame)];
    const bool last = frame + 1 == int(t.frames.size());
    QString s = tr("<b>Epoch %1 of %2</b>: τ = %3, expected width %4 bits (argmax %5), loss %6 = L_quant %7 + α·L_bit "
                   "(L_bit %8). ")
                    .arg(f.epoch + 1)
                    .arg(t.epochs)
                    .arg(num(f.tau), num(f.expectedBits), num(f.argmaxBits), num(f.loss), num(f.lQuant), num(f.lBit));
    if (frame == 0)
        s += tr("The GCN reads each column's weights and its Hessian neighbours and outputs logits over the widths. "
                "Training draws a Gumbel-Softmax sample per column — softmax((logits + g)/τ), g random — whose "
                "mixture of the widths' quantization errors gives L_quant. At the start τ is high: the samples "
                "are soft mixtures.");
    else if (last)
        s += tr("At the last τ the samples are nearly one-hot: training has seen the choices it will make. "
                "Each column takes its argmax; in target mode a greedy repair then moves the cheapest columns "
                "until the average meets the target.");
    else
        s += tr("As τ falls the samples sharpen towards one width per column, and the loss pushes probability "
                "to widths whose error is worth their bits (α weighs the bits).");
    return s;
}

void MgptqTeachView::showPosition(int frame)
{
    const MgptqTrace& t = *m_trace;
    const MgptqTraceFrame& f = t.frames[size_t(frame)];
    const int64_t K = int64_t(t.widths.size());
    for (int64_t j = 0; j < t.cols; ++j)
        for (int64_t k = 0; k < K; ++k) {
            m_prob->data()->setCell(int(j), int(k), f.probabilities[size_t(j * K + k)]);
            m_sample->data()->setCell(int(j), int(k), f.sample[size_t(j * K + k)]);
        }
    m_now->setVisible(true);
    m_now->point1->setCoords(f.epoch, 0);
    m_now->point2->setCoords(f.epoch, 1);
    setPositionText(tr("epoch %1 / %2").arg(f.epoch + 1).arg(t.epochs), describeFrame(t, frame));
    requestReplot();
}

} // namespace mpq::gui
