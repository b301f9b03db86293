#include "GuidedTour.h"

#include "BitMapView.h"
#include "CompareView.h"
#include "GptqTeachView.h"
#include "MainWindow.h"
#include "MgptqTeachView.h"
#include "MxqTeachView.h"

#include "session/Session.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace mpq::gui {

GuidedTour::GuidedTour(MainWindow* window) : QFrame(window), m_window(window)
{
    setObjectName(QStringLiteral("guidedTour"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    auto* layout = new QVBoxLayout(this);
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::RichText);
    m_text = new QLabel(this);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_back = new QPushButton(tr("◀ Back"), this);
    m_next = new QPushButton(tr("Next ▶"), this);
    auto* close = new QPushButton(tr("Close"), this);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_back);
    buttons->addWidget(m_next);
    buttons->addStretch(1);
    buttons->addWidget(close);
    layout->addWidget(m_title);
    layout->addWidget(m_text, 1);
    layout->addLayout(buttons);
    setFixedWidth(400);
    connect(m_back, &QPushButton::clicked, this, [this] { setStop(m_stop - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { setStop(m_stop + 1); });
    connect(close, &QPushButton::clicked, this, &QWidget::hide);
    connect(window, &MainWindow::idle, this, [this] {
        if (m_waiting) {
            m_waiting = false;
            setStop(0);
        }
    });
    window->installEventFilter(this);
    build();
    hide();
}

QString GuidedTour::runOf(const QString& methodPrefix) const
{
    // The last complete session run of that method (the demo's second MG-PTQ run mixes most).
    QString name;
    for (const RunData& r : m_window->workbench().runs)
        if (r.method.startsWith(methodPrefix) && !r.sessionRun.isEmpty() && r.complete)
            name = r.name;
    return name;
}

void GuidedTour::build()
{
    MainWindow* w = m_window;
    auto tab = [w](QWidget* page) { w->tabs()->setCurrentWidget(page); };
    auto show = [this, w](const QString& prefix) {
        const QString run = runOf(prefix);
        if (!run.isEmpty() && run != w->currentRun())
            w->showRun(run);
        return !run.isEmpty();
    };
    m_stops = {
        {tr("1. The bit-width map"),
         tr("One row per weight matrix, one cell per input column, coloured by the bits MG-PTQ gave it "
            "(dark few, light many). Here: the demo's MG-PTQ run at a 2.5-bit target. Wheel to zoom, drag to "
            "pan, Ctrl+F to find a tensor."),
         [=] {
             show(QStringLiteral("mgptq"));
             tab(w->bitMapView());
         }},
        {tr("2. Why did this column get its bits?"),
         tr("A click on a column opens <b>Explain</b> on the right: the column's Hessian diagonal H<sub>jj</sub> "
            "(how strongly its input fires) and rank, the allocator's probabilities for each width, the "
            "predicted error at each width, what a greedy baseline would pick, and its strongest neighbours. "
            "The tour clicked the column the Hessian weighs most in the first matrix."),
         [=] {
             show(QStringLiteral("mgptq"));
             tab(w->bitMapView());
             const RunData* r = w->workbench().run(w->currentRun());
             if (!r || r->matrices.empty())
                 return;
             qint64 column = 0;
             try {
                 const auto d = session::Session::open(w->workbench().sessionFile.toStdString())
                                    .matrix(r->sessionRun.toStdString(), r->matrices.front().tensor.toStdString());
                 column = std::max_element(d.hessianDiagonal.begin(), d.hessianDiagonal.end()) - d.hessianDiagonal.begin();
             } catch (const std::exception&) {
             }
             w->selectTensor(r->matrices.front().tensor);
             w->explainColumn(r->matrices.front().tensor, column);
         }},
        {tr("3. Disagree? Override it"),
         tr("Below the explanation: set this column (Shift+click another to make a range), the matrix or the "
            "whole layer to another width and press <b>Quantize override</b>. A new run is made: the earlier "
            "layers are copied, this layer and the later ones are quantized again (they see its outputs)."),
         [=] { tab(w->bitMapView()); }},
        {tr("4. GPTQ, step by step"),
         tr("<b>Teach GPTQ</b> plays GPTQ on one matrix: each column is rounded to its grid, and its error is "
            "pushed onto the columns still to come, weighted by the Hessian — block by block. Left: the weights "
            "as they become Q; right: the error where done and the compensation where not. It is playing now."),
         [=] {
             show(QStringLiteral("gptq"));
             tab(w->teachView());
             w->teachView()->setStep(0);
             w->teachView()->setPlaying(true);
         }},
        {tr("5. MG-PTQ's allocator learning"),
         tr("<b>Teach MG-PTQ</b> replays the graph network that chose the widths: per column its probabilities "
            "over 2, 3 and 4 bits, and the random Gumbel-Softmax sample training used — soft at first, nearly "
            "one-hot as the temperature τ falls."),
         [=] {
             w->teachView()->setPlaying(false);
             show(QStringLiteral("mgptq"));
             tab(w->teachMgptqView());
             w->teachMgptqView()->setFrame(0);
             w->teachMgptqView()->setPlaying(true);
         }},
        {tr("6. MXQ: spending a memory budget"),
         tr("<b>Teach MXQ</b> shows an MXQ run's cost table and spends its budget move by move, the best cost "
            "saved per bit first, then the exact mixed integer program's answer. The demo makes no MXQ run: "
            "Run ▸ Quantize… with MXQ makes one (seconds on the demo)."),
         [=] {
             w->teachMgptqView()->setPlaying(false);
             if (show(QStringLiteral("mxq")))
                 w->teachMxqView()->setPlaying(true);
             tab(w->teachMxqView());
         }},
        {tr("7. The trade-off"),
         tr("<b>α trade-off</b>: every run at its bits per weight against its perplexity. Drag the slider along "
            "a series: the bit map beside it shows that run's allocation."),
         [=] {
             w->teachMxqView()->setPlaying(false);
             show(QStringLiteral("mgptq"));
             w->tabs()->setCurrentIndex(1);
         }},
        {tr("8. Comparing runs"),
         tr("<b>Compare runs</b>: tick two or more runs — bit maps side by side, their difference column by "
            "column, a table of every matrix, and their points together. That is the tour; F1 opens the user "
            "guide."),
         [=] { tab(w->compareView()); }},
    };
}

void GuidedTour::start()
{
    show();
    raise();
    place();
    if (runOf(QStringLiteral("mgptq")).isEmpty()) {
        m_waiting = true;
        m_stop = -1;
        m_title->setText(tr("<b>Guided tour</b>"));
        m_text->setText(tr("Running the demo first: GPTQ at 4 and 3 bits and MG-PTQ at 3 and 2.5 bits on the embedded "
                           "demo model, each evaluated (about 10 s; the bit maps fill in as the layers land)."));
        m_back->setEnabled(false);
        m_next->setEnabled(false);
        m_window->startDemo();
        return;
    }
    m_waiting = false;
    setStop(0);
}

void GuidedTour::setStop(int stop)
{
    if (m_waiting)
        return;
    stop = std::clamp(stop, 0, stops() - 1);
    m_stop = stop;
    const Stop& s = m_stops[size_t(stop)];
    m_title->setText(tr("<b>%1</b> &nbsp;(%2 of %3)").arg(s.title).arg(stop + 1).arg(stops()));
    m_text->setText(s.text);
    m_back->setEnabled(stop > 0);
    m_next->setEnabled(stop + 1 < stops());
    s.enter();
    raise();
    place();
}

QString GuidedTour::title() const
{
    return m_title->text();
}

QString GuidedTour::text() const
{
    return m_text->text();
}

void GuidedTour::place()
{
    adjustSize();
    // Bottom right of the central area, above the log.
    const QRect area = m_window->centralWidget() ? m_window->centralWidget()->geometry() : m_window->rect();
    move(area.right() - width() - 12, area.bottom() - height() - 12);
}

bool GuidedTour::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_window && event->type() == QEvent::Resize && isVisible())
        place();
    return QFrame::eventFilter(watched, event);
}

} // namespace mpq::gui
