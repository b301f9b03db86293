#include "MxqTeachView.h"

#include "QCustomPlotInclude.h"


#include <algorithm>
#include <cmath>

namespace mpq::gui {

namespace {

QString num(double v)
{
    return QString::number(v, 'g', 4);
}

/// "L3 down_proj" from a matrix of the table.
QString shortName(const MxqMatrixCosts& m)
{
    return QStringLiteral("L%1 %2").arg(m.layer).arg(QString::fromStdString(m.linear));
}

} // namespace

MxqTeachView::MxqTeachView(QWidget* parent) : TeachPlayerView(parent, 250, 110, 48)
{
    setToolTip(tr("Teaching mode: MXQ's cost table and how the memory budget is spent, move by move, "
                  "then the mixed integer program's solution"));
    QCustomPlot* p = plot();
    p->axisRect()->insetLayout()->take(p->legend); // kept: it moves into the path's rect below
    p->plotLayout()->clear();
    m_tableRect = new QCPAxisRect(p);
    m_pathRect = new QCPAxisRect(p);
    auto* scale = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 0, m_tableRect);
    p->plotLayout()->addElement(0, 1, scale);
    p->plotLayout()->addElement(0, 2, m_pathRect);
    p->plotLayout()->setColumnStretchFactors({1.0, 0.01, 1.1});
    scale->setLabel(tr("log₁₀ cost"));
    QCPAxis* tx = m_tableRect->axis(QCPAxis::atBottom);
    QCPAxis* ty = m_tableRect->axis(QCPAxis::atLeft);
    ty->setRangeReversed(true);
    tx->setLabel(tr("configuration"));
    tx->setTickLabelRotation(60);
    QCPColorGradient g(QCPColorGradient::gpGrayscale);
    g.setColorStopAt(0.0, QColor(250, 250, 250));
    g.setColorStopAt(1.0, QColor(120, 120, 120));
    m_costs = addHeatMap(m_tableRect, scale, g);
    m_walkChoice = p->addGraph(tx, ty);
    m_walkChoice->setLineStyle(QCPGraph::lsNone);
    m_walkChoice->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(213, 94, 0), 7));
    m_walkChoice->setName(tr("walk"));
    m_mipChoice = p->addGraph(tx, ty);
    m_mipChoice->setLineStyle(QCPGraph::lsNone);
    m_mipChoice->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QPen(QColor(0, 114, 178), 2), Qt::NoBrush, 9));
    m_mipChoice->setName(tr("MIP (the run)"));

    QCPAxis* px = m_pathRect->axis(QCPAxis::atBottom);
    QCPAxis* py = m_pathRect->axis(QCPAxis::atLeft);
    px->setLabel(tr("bits per parameter (Σ storage / parameters)"));
    py->setLabel(tr("Σ cost"));
    m_path = p->addGraph(px, py);
    m_path->setPen(QPen(QColor(213, 94, 0), 1.5));
    m_path->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 3));
    m_path->setName(tr("walk, steepest move first"));
    m_here = p->addGraph(px, py);
    m_here->setLineStyle(QCPGraph::lsNone);
    m_here->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(213, 94, 0), 10));
    m_here->setName(tr("now"));
    m_mipPoint = p->addGraph(px, py);
    m_mipPoint->setLineStyle(QCPGraph::lsNone);
    m_mipPoint->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QPen(QColor(0, 114, 178), 2), Qt::NoBrush, 12));
    m_mipPoint->setName(tr("MIP solution (the run)"));
    m_budget = new QCPItemStraightLine(p);
    m_budget->setClipAxisRect(m_pathRect);
    m_budget->point1->setAxes(px, py);
    m_budget->point2->setAxes(px, py);
    m_budget->setPen(QPen(Qt::black, 1.5, Qt::DashLine));
    p->legend->setVisible(true);
    for (QCPGraph* gr : {m_walkChoice, m_mipChoice, m_here})
        p->legend->removeItem(p->legend->itemWithPlottable(gr));
    m_pathRect->insetLayout()->addElement(p->legend, Qt::AlignTop | Qt::AlignRight);
    styleAxes(p);

    setMessage(tr("Teaching mode for MXQ: show an MXQ run of a session (mpq quantize --method mxq --session, "
                  "which stores its cost table) to watch its budget being spent."));
}

int MxqTeachView::steps() const
{
    return m_run ? int(m_walk.steps.size()) + 1 : 0;
}

void MxqTeachView::setMessage(const QString& message)
{
    setPlaying(false);
    m_run.reset();
    clearPlayer(-1);
    setCaption(message);
    m_costs->data()->clear();
    for (QCPGraph* gr : {m_walkChoice, m_mipChoice, m_path, m_here, m_mipPoint})
        gr->data()->clear();
    m_budget->setVisible(false);
    requestReplot();
}

void MxqTeachView::setRun(std::shared_ptr<const session::MxqRunChoice> run, const QString& label)
{
    setPlaying(false);
    m_walk = mxqWalk(run->table, run->budgetBits); // throws before anything changes
    m_run = std::move(run);
    const MxqCostTable& t = m_run->table;
    const int n = int(t.matrices.size()), K = int(t.configs.size());
    const double params = double(m_walk.parameters);
    setCaption(tr("MXQ on %1: %2 matrices × %3 configurations, budget %4 bits/parameter (%5); %6 moves fit")
                   .arg(label)
                   .arg(n)
                   .arg(K)
                   .arg(num(m_run->budgetBits / params), QString::fromStdString(m_run->budgetSource))
                   .arg(m_walk.steps.size()));
    m_costs->data()->setSize(K, n);
    m_costs->data()->setRange(QCPRange(0, K - 1), QCPRange(0, n - 1));
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < K; ++k)
            m_costs->data()->setCell(k, i, std::log10(std::max(1e-30, t.matrices[size_t(i)].cost[size_t(k)])));
    m_costs->rescaleDataRange(true);
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    for (int k = 0; k < K; ++k)
        xt->addTick(k, QString::fromStdString(t.configs[size_t(k)].label()));
    const int stride = std::max(1, n / 40); // labels no closer than a line
    for (int i = 0; i < n; i += stride)
        yt->addTick(i, shortName(t.matrices[size_t(i)]));
    m_tableRect->axis(QCPAxis::atBottom)->setTicker(xt);
    m_tableRect->axis(QCPAxis::atLeft)->setTicker(yt);
    m_tableRect->axis(QCPAxis::atBottom)->setRange(-0.5, K - 0.5);
    m_tableRect->axis(QCPAxis::atLeft)->setRange(-0.5, n - 0.5);
    QVector<double> mx, my, px, py;
    double mipStorage = 0, mipCost = 0;
    for (int i = 0; i < n; ++i) {
        const int c = m_run->choice[size_t(i)];
        if (c < 0)
            continue;
        mx << c;
        my << i;
        mipStorage += t.matrices[size_t(i)].storageBits[size_t(c)];
        mipCost += t.matrices[size_t(i)].cost[size_t(c)];
    }
    m_mipChoice->setData(mx, my);
    px << m_walk.startStorageBits / params;
    py << m_walk.startCost;
    for (const auto& s : m_walk.steps) {
        px << s.totalStorageBits / params;
        py << s.totalCost;
    }
    m_path->setData(px, py, true);
    m_mipPoint->data()->clear();
    m_mipPoint->addData(mipStorage / params, mipCost);
    m_budget->setVisible(true);
    m_budget->point1->setCoords(m_run->budgetBits / params, 0);
    m_budget->point2->setCoords(m_run->budgetBits / params, 1);
    m_pathRect->axis(QCPAxis::atBottom)->setRange(px.front() - 0.1, std::max(px.back(), m_run->budgetBits / params) + 0.2);
    m_pathRect->axis(QCPAxis::atLeft)->setRange(0, py.front() * 1.05);
    startPlayer(steps());
}

QString MxqTeachView::describe(int step) const
{
    const MxqCostTable& t = m_run->table;
    const double params = double(m_walk.parameters);
    const auto cfg = [&](int k) { return QString::fromStdString(t.configs[size_t(k)].label()); };
    if (step == 0)
        return tr("<b>Start.</b> Every matrix at its smallest configuration: %1 bits/parameter, Σ cost %2. "
                  "The budget (dashed) allows %3. Each matrix's configurations form a staircase of (storage, cost); "
                  "only those on its lower convex hull are worth buying. Next: the move that saves the most cost "
                  "per bit of storage, anywhere in the model.")
            .arg(num(m_walk.startStorageBits / params), num(m_walk.startCost), num(m_run->budgetBits / params));
    if (step <= int(m_walk.steps.size())) {
        const MxqWalkStep& s = m_walk.steps[size_t(step - 1)];
        return tr("<b>Move %1 of %2:</b> %3 from %4 to %5: +%6 bits/parameter, cost −%7 (%8 saved per bit). "
                  "Now %9 bits/parameter, Σ cost %10.")
            .arg(step)
            .arg(m_walk.steps.size())
            .arg(shortName(t.matrices[size_t(s.matrix)]), cfg(s.from), cfg(s.to))
            .arg(num(s.storageBits / params), num(s.costSaved), num(s.rate), num(s.totalStorageBits / params),
                 num(s.totalCost));
    }
    int differ = 0;
    double mipCost = 0;
    for (size_t i = 0; i < t.matrices.size(); ++i) {
        const int c = m_run->choice[i];
        differ += c != m_walk.greedyChoice[i];
        if (c >= 0)
            mipCost += t.matrices[i].cost[size_t(c)];
    }
    const double walkCost = m_walk.steps.empty() ? m_walk.startCost : m_walk.steps.back().totalCost;
    QString blocked = m_walk.blocked.matrix < 0
                          ? tr("Every move fit: the budget does not bind (shadow price 0).")
                          : tr("The next move (%1 to %2, %3 per bit) does not fit: its rate is the budget's shadow "
                               "price λ, the LP relaxation's dual.")
                                .arg(shortName(t.matrices[size_t(m_walk.blocked.matrix)]), cfg(m_walk.blocked.to),
                                     num(m_walk.blocked.rate));
    return tr("<b>The budget is reached.</b> %1 The mixed integer program (crosses) chooses all matrices at once "
              "and can use the budget the walk leaves over: Σ cost %2 against the walk's %3; it differs from the "
              "walk in %4 matrices.")
        .arg(blocked, num(mipCost), num(walkCost))
        .arg(differ);
}

void MxqTeachView::showPosition(int step)
{
    const double params = double(m_walk.parameters);
    const size_t moves = std::min<size_t>(size_t(step), m_walk.steps.size());
    const std::vector<int> c = m_walk.choiceAfter(moves);
    QVector<double> x, y;
    for (size_t i = 0; i < c.size(); ++i) {
        x << c[i];
        y << double(i);
    }
    m_walkChoice->setData(x, y);
    m_here->data()->clear();
    if (moves == 0)
        m_here->addData(m_walk.startStorageBits / params, m_walk.startCost);
    else
        m_here->addData(m_walk.steps[moves - 1].totalStorageBits / params, m_walk.steps[moves - 1].totalCost);
    m_mipChoice->setVisible(step == steps());
    m_mipPoint->setVisible(step == steps());
    setPositionText(tr("step %1 / %2").arg(step).arg(steps()), describe(step));
    requestReplot();
}

} // namespace mpq::gui
