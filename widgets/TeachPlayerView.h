#pragma once

#include "PlotView.h"

class QCPAxisRect;
class QCPColorGradient;
class QCPColorMap;
class QCPColorScale;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace mpq::gui {

/// The playback the teaching views share (GptqTeachView, MgptqTeachView, MxqTeachView): ◀ Prev,
/// Play / Pause and Next ▶ buttons, a position slider and label in the tool row, the explanation
/// below the plot, and a timer that steps through positions 0..last and stops at the last. A
/// subclass says how many positions there are (startPlayer) and draws one (showPosition); its heat
/// maps come from addHeatMap(). GUI thread only.
class TeachPlayerView : public PlotView {
    Q_OBJECT
public:
    /// Starts (from the beginning when at the last position) or stops playing; nothing plays
    /// without content.
    void setPlaying(bool playing);
    bool playing() const;

protected:
    /// `intervalMs` between positions when playing; the position label's and the text's minimum
    /// sizes in pixels.
    TeachPlayerView(QWidget* parent, int intervalMs, int labelMinWidth, int textMinHeight);

    /// No content: the controls disabled, label and text cleared, the position set to `position`.
    void clearPlayer(int position);
    /// Content with positions 0..last: the controls enabled, then position 0 shown.
    void startPlayer(int last);
    /// Shows position `p` (clamped to 0..last) unless it is shown already.
    void goTo(int p);
    int position() const { return m_position; }
    /// Draws position `p` (the slider is already there); ends with setPositionText().
    virtual void showPosition(int p) = 0;
    /// The position label and explanation; Prev / Next enabled where there is somewhere to go.
    void setPositionText(const QString& label, const QString& text);
    QString positionText() const;

    /// A heat map on `rect`'s bottom and left axes, cells drawn without interpolation, coloured
    /// through `scale` with `gradient`.
    static QCPColorMap* addHeatMap(QCPAxisRect* rect, QCPColorScale* scale, const QCPColorGradient& gradient);

    QSlider* slider() const { return m_slider; }
    QLabel* textLabel() const { return m_text; }

private:
    bool m_hasContent = false;
    int m_last = -1;
    int m_position = -1;
    QPushButton* m_prev = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_play = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_positionLabel = nullptr;
    QLabel* m_text = nullptr;
    QTimer* m_timer = nullptr;
};

} // namespace mpq::gui
