#pragma once

#include <QString>
#include <QWidget>

class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QTextStream;

namespace mpq::gui {

/// The common frame of every plot view: a caption line above one QCustomPlot, a context menu
/// that exports the plot, and exportTo() for PNG, SVG and PDF. Subclasses fill the plot. Lives on
/// the GUI thread; the plot is owned by this widget.
class PlotView : public QWidget {
    Q_OBJECT
public:
    explicit PlotView(QWidget* parent = nullptr);
    ~PlotView() override;

    /// Writes the plot as it is now; the format follows the suffix (.png, .svg, .pdf, or .csv for
    /// the plotted numbers, writeCsv()). Returns false with a readable reason in `error` when the
    /// suffix is unknown or the write fails.
    bool exportTo(const QString& path, QString* error = nullptr) const;
    /// The numbers behind the plot as CSV (a header line, then one line per point or row). The
    /// default writes every graph, bar and curve of the plot: series,x,y (plus the axis labels
    /// in the header). Views with richer data (bit maps, tables of runs) write their own.
    virtual bool writeCsv(QTextStream& out) const;
    /// `text` as one CSV field (quoted when it holds a comma, quote or line break).
    static QString csvField(const QString& text);
    /// The caption's text (what the view currently shows, or why it is empty).
    QString caption() const;
    /// The smallest size of the plot itself (default 320 × 220); several views side by side use less.
    void setMinimumPlotSize(const QSize& size);
    /// Redraws the plot immediately (used by the slider benchmark and tests).
    void replotNow();
    /// Asks for one redraw from the event loop; several requests before it runs coalesce.
    void requestReplot();
    /// Runs a requested redraw now if one is pending (the slider benchmark stops its clock after).
    void flushPendingReplot();
    /// Where the data is drawn (the first axis rect) and where the legend is (empty when hidden),
    /// in the plot's pixels as last drawn. For tests: legends must not cover the data.
    QRect dataRect() const;
    QRect legendRect() const;
    /// `path` with the suffix of the chosen file-dialog filter ("SVG drawing (*.svg)" → ".svg")
    /// appended when it has none, so that exporting to "plot" with SVG selected writes plot.svg.
    static QString withFilterSuffix(const QString& path, const QString& selectedFilter);
    /// The file-dialog filter of the export formats.
    static QString exportFilter();
    /// Colours the plot for `palette`: a dark palette (window darker than its text) gets a dark
    /// plot background with light axes, labels and legend; a light one the usual white plot.
    static void applyTheme(QCustomPlot* plot, const QPalette& palette);
    /// True when `palette` is a dark one.
    static bool isDark(const QPalette& palette);

protected:
    QCustomPlot* plot() const { return m_plot; }
    void setCaption(const QString& text);
    /// A row of tools (search box, choosers) between the caption and the plot, created on first use.
    QHBoxLayout* toolRow();
    /// Follows the application's palette (dark theme) by re-colouring the plot.
    void changeEvent(QEvent* event) override;
    /// Applies the workbench's fonts and margins to an axis rect's axes.
    static void styleAxes(QCustomPlot* plot);
    /// Moves the legend out of the data: into a row below the axis rect, entries side by side.
    static void placeLegendBelow(QCustomPlot* plot);

private:
    void showExportMenu(const QPoint& pos);

    QLabel* m_caption = nullptr;
    QHBoxLayout* m_toolRow = nullptr;
    QCustomPlot* m_plot = nullptr;
    bool m_replotPending = false;
};

} // namespace mpq::gui
