#include "HelpMenu.h"

#include <QAction>
#include <QApplication>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QKeySequence>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace mpq::gui {

namespace {

void collect(const QMenu* menu, const QString& path, QList<HelpMenu::Shortcut>* out)
{
    for (QAction* a : menu->actions()) {
        const QString text = a->text().remove(QLatin1Char('&'));
        if (a->menu())
            collect(a->menu(), path + QStringLiteral(" ▸ ") + text, out);
        else if (!a->shortcut().isEmpty())
            out->append({path, text, a->shortcut().toString(QKeySequence::NativeText)});
    }
}

} // namespace

QList<HelpMenu::Shortcut> HelpMenu::shortcuts(const QMainWindow* window)
{
    QList<Shortcut> out;
    for (QAction* a : window->menuBar()->actions())
        if (a->menu())
            collect(a->menu(), a->text().remove(QLatin1Char('&')), &out);
    const QString map = QObject::tr("Bit maps, difference map");
    out.append({map, QObject::tr("previous / next matrix"), QObject::tr("Up / Down")});
    out.append({map, QObject::tr("a page of matrices up / down"), QObject::tr("PgUp / PgDown")});
    out.append({map, QObject::tr("pan the columns"), QObject::tr("Left / Right, or drag")});
    out.append({map, QObject::tr("zoom the columns in / out"), QObject::tr("+ / −, or the wheel")});
    out.append({map, QObject::tr("zoom the rows"), QObject::tr("Shift+wheel")});
    out.append({map, QObject::tr("whole map"), QObject::tr("0 or Home")});
    out.append({map, QObject::tr("find a tensor by name (Enter: next match)"),
                QKeySequence(QKeySequence::Find).toString(QKeySequence::NativeText)});
    const QString tables = QObject::tr("Tables, layer browser, run list");
    out.append({tables, QObject::tr("move; sort by a column"), QObject::tr("arrows, PgUp/PgDown, Home/End; click a header")});
    out.append({tables, QObject::tr("show the matrix in the maps"), QObject::tr("Enter")});
    out.append({tables, QObject::tr("tick or untick the run"), QObject::tr("Space (Compare runs list)")});
    out.append({QObject::tr("Window"), QObject::tr("next / previous tab"), QObject::tr("Ctrl+Tab / Ctrl+Shift+Tab")});
    out.append({QObject::tr("Plots"), QObject::tr("export the plot (PNG, SVG, PDF, CSV)"), QObject::tr("right-click the plot")});
    return out;
}

QUrl HelpMenu::documentationUrl()
{
    QStringList candidates;
    if (qEnvironmentVariableIsSet("MPQ_DOCS_DIR"))
        candidates << QDir(qEnvironmentVariable("MPQ_DOCS_DIR")).filePath(QStringLiteral("gui.md"));
    candidates << QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../share/doc/mpq-workbench/gui.md"));
#ifdef MPQ_SOURCE_DOCS_DIR
    candidates << QDir(QStringLiteral(MPQ_SOURCE_DOCS_DIR)).filePath(QStringLiteral("gui.md"));
#endif
    for (const QString& c : candidates)
        if (QFileInfo::exists(c))
            return QUrl::fromLocalFile(QFileInfo(c).canonicalFilePath());
    return {};
}

QString HelpMenu::aboutText()
{
    return QObject::tr("<h3>MPQ Workbench %1</h3>"
                       "<p>Mixed-precision post-training quantization of LLaMA-family models: GPTQ, MG-PTQ (graph "
                       "neural bit allocation) and MXQ (mixed-integer bit allocation); per-column bit maps, the "
                       "α trade-off, Hessian graphs, perplexity, run comparison and exports.</p>"
                       "<p>Licensed under the GNU General Public License, version 3.</p>"
                       "<p>Built with Qt %2 (running on %3), QCustomPlot and LibTorch.</p>")
        .arg(QCoreApplication::applicationVersion().isEmpty() ? QStringLiteral("(development)")
                                                              : QCoreApplication::applicationVersion(),
             QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion()));
}

QWidget* HelpMenu::shortcutsDialog(QMainWindow* window)
{
    auto* dialog = new QDialog(window);
    dialog->setWindowTitle(QObject::tr("Keyboard shortcuts"));
    auto* layout = new QVBoxLayout(dialog);
    const QList<Shortcut> list = shortcuts(window);
    auto* table = new QTableWidget(int(list.size()), 3, dialog);
    table->setObjectName(QStringLiteral("shortcutsTable"));
    table->setHorizontalHeaderLabels({QObject::tr("Where"), QObject::tr("What"), QObject::tr("Keys")});
    table->verticalHeader()->setVisible(false);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    for (int i = 0; i < list.size(); ++i) {
        table->setItem(i, 0, new QTableWidgetItem(list[i].where));
        table->setItem(i, 1, new QTableWidgetItem(list[i].what));
        table->setItem(i, 2, new QTableWidgetItem(list[i].keys));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(720, 520);
    return dialog;
}

QMenu* HelpMenu::add(QMainWindow* window)
{
    QMenu* help = window->menuBar()->addMenu(QObject::tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    QAction* docs = help->addAction(QObject::tr("&User guide"), window, [window] {
        const QUrl url = documentationUrl();
        if (url.isEmpty() || !QDesktopServices::openUrl(url))
            QMessageBox::information(window, QObject::tr("User guide"),
                                     QObject::tr("The user guide is docs/gui.md of the source tree (set MPQ_DOCS_DIR to "
                                                 "its docs folder)."));
    });
    docs->setShortcut(QKeySequence::HelpContents);
    docs->setObjectName(QStringLiteral("userGuideAction"));
    QAction* keys = help->addAction(QObject::tr("&Keyboard shortcuts"), window, [window] {
        QWidget* dialog = shortcutsDialog(window);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });
    keys->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Slash));
    keys->setObjectName(QStringLiteral("shortcutsAction"));
    help->addSeparator();
    QAction* about = help->addAction(QObject::tr("&About MPQ Workbench"), window,
                                     [window] { QMessageBox::about(window, QObject::tr("About MPQ Workbench"), aboutText()); });
    about->setObjectName(QStringLiteral("aboutAction"));
    about->setMenuRole(QAction::AboutRole);
    help->addAction(QObject::tr("About &Qt"), qApp, &QApplication::aboutQt)->setMenuRole(QAction::AboutQtRole);
    return help;
}

} // namespace mpq::gui
