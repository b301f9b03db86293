#pragma once

#include <QFrame>
#include <QString>

#include <functional>
#include <vector>

class QLabel;
class QPushButton;

namespace mpq::gui {

class MainWindow;

/// Help ▸ Guided tour (issue 19, teaching mode): a panel over the main window that walks through
/// the workbench on the demo's runs — the bit map, Explain, Override, GPTQ / MG-PTQ / MXQ step
/// by step, the trade-off, the comparison — one stop at a time, each stop switching the window
/// to what its text explains. Starts the demo first when no MG-PTQ run of a session is open
/// (about 10 s on a 2-core machine). GUI thread only; owned by the window.
class GuidedTour : public QFrame {
    Q_OBJECT
public:
    explicit GuidedTour(MainWindow* window);

    /// Shows the panel: at the first stop, or waiting for the demo's jobs first.
    void start();
    int stop() const { return m_stop; }
    int stops() const { return int(m_stops.size()); }
    void setStop(int stop);
    QString title() const;
    QString text() const;
    /// True while the demo runs before the first stop.
    bool waiting() const { return m_waiting; }

private:
    struct Stop {
        QString title;
        QString text;
        std::function<void()> enter;
    };
    void build();
    void place();
    bool eventFilter(QObject* watched, QEvent* event) override;
    QString runOf(const QString& methodPrefix) const;

    MainWindow* m_window;
    std::vector<Stop> m_stops;
    int m_stop = -1;
    bool m_waiting = false;
    QLabel* m_title = nullptr;
    QLabel* m_text = nullptr;
    QPushButton* m_back = nullptr;
    QPushButton* m_next = nullptr;
};

} // namespace mpq::gui
