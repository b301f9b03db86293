#include "TeachPlayerView.h"

#include "QCustomPlotInclude.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace mpq::gui {

TeachPlayerView::TeachPlayerView(QWidget* parent, int intervalMs, int labelMinWidth, int textMinHeight)
    : PlotView(parent)
{
    m_prev = new QPushButton(tr("◀ Prev"), this);
    m_next = new QPushButton(tr("Next ▶"), this);
    m_play = new QPushButton(tr("Play"), this);
    m_play->setCheckable(true);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_positionLabel = new QLabel(this);
    m_positionLabel->setMinimumWidth(labelMinWidth);
    QHBoxLayout* row = toolRow();
    row->addWidget(m_prev);
    row->addWidget(m_play);
    row->addWidget(m_next);
    row->addWidget(m_slider, 1);
    row->addWidget(m_positionLabel);
    m_text = new QLabel(this);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_text->setMinimumHeight(textMinHeight);
    static_cast<QVBoxLayout*>(layout())->addWidget(m_text);
    m_timer = new QTimer(this);
    m_timer->setInterval(intervalMs);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_position >= m_last)
            setPlaying(false);
        else
            goTo(m_position + 1);
    });
    connect(m_prev, &QPushButton::clicked, this, [this] { goTo(m_position - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { goTo(m_position + 1); });
    connect(m_play, &QPushButton::toggled, this, &TeachPlayerView::setPlaying);
    connect(m_slider, &QSlider::valueChanged, this, &TeachPlayerView::goTo);
}

void TeachPlayerView::clearPlayer(int position)
{
    m_hasContent = false;
    m_last = -1;
    m_position = position;
    m_text->clear();
    m_positionLabel->clear();
    for (QWidget* w : {static_cast<QWidget*>(m_prev), static_cast<QWidget*>(m_next), static_cast<QWidget*>(m_play),
                       static_cast<QWidget*>(m_slider)})
        w->setEnabled(false);
}

void TeachPlayerView::startPlayer(int last)
{
    m_hasContent = true;
    m_last = last;
    for (QWidget* w : {static_cast<QWidget*>(m_prev), static_cast<QWidget*>(m_next), static_cast<QWidget*>(m_play),
                       static_cast<QWidget*>(m_slider)})
        w->setEnabled(true);
    m_slider->blockSignals(true);
    m_slider->setRange(0, last);
    m_slider->blockSignals(false);
    m_position = -1;
    goTo(0);
}

void TeachPlayerView::goTo(int p)
{
    if (!m_hasContent || m_last < 0)
        return;
    p = std::clamp(p, 0, m_last);
    if (p == m_position)
        return;
    m_position = p;
    if (m_slider->value() != p) {
        m_slider->blockSignals(true);
        m_slider->setValue(p);
        m_slider->blockSignals(false);
    }
    showPosition(p);
}

void TeachPlayerView::setPositionText(const QString& label, const QString& text)
{
    m_positionLabel->setText(label);
    m_text->setText(text);
    m_prev->setEnabled(m_position > 0);
    m_next->setEnabled(m_position < m_last);
}

QString TeachPlayerView::positionText() const
{
    return m_text->text();
}

void TeachPlayerView::setPlaying(bool playing)
{
    if (playing && m_hasContent) {
        if (m_position >= m_last)
            goTo(0);
        m_timer->start();
    } else {
        m_timer->stop();
    }
    m_play->blockSignals(true);
    m_play->setChecked(m_timer->isActive());
    m_play->blockSignals(false);
    m_play->setText(m_timer->isActive() ? tr("Pause") : tr("Play"));
}

QCPColorMap* TeachPlayerView::addHeatMap(QCPAxisRect* rect, QCPColorScale* scale, const QCPColorGradient& gradient)
{
    auto* map = new QCPColorMap(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    map->setInterpolate(false);
    map->setColorScale(scale);
    map->setGradient(gradient);
    return map;
}

bool TeachPlayerView::playing() const
{
    return m_timer->isActive();
}

} // namespace mpq::gui
