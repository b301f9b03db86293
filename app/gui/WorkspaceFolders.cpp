#include "WorkspaceFolders.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace mpq::gui {

QString WorkspaceFolders::newWorkspace(const QString& modelPath)
{
    QString root = qEnvironmentVariable("MPQ_WORKBENCH_HOME");
    if (root.isEmpty())
        root = QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation)).filePath(QStringLiteral("workspaces"));
    const QString base = QFileInfo(modelPath).completeBaseName().isEmpty() ? QStringLiteral("model")
                                                                            : QFileInfo(modelPath).completeBaseName();
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss"));
    QString dir = QDir(root).filePath(base + QLatin1Char('-') + stamp);
    for (int i = 2; QFileInfo::exists(dir); ++i)
        dir = QDir(root).filePath(QStringLiteral("%1-%2-%3").arg(base, stamp).arg(i));
    return dir; // created by the first job that writes the session (an unused workspace leaves nothing)
}

QString WorkspaceFolders::dataDirectory()
{
    const QString env = qEnvironmentVariable("MPQ_DATA_DIR");
    if (!env.isEmpty())
        return QFileInfo::exists(env) ? QFileInfo(env).absoluteFilePath() : QString();
    const QString sibling = QDir::current().filePath(QStringLiteral("../shared/data"));
    return QFileInfo::exists(sibling) ? QFileInfo(sibling).absoluteFilePath() : QString();
}

QString WorkspaceFolders::sessionFile(const QString& workspace)
{
    return QDir(workspace).filePath(QStringLiteral("session.h5"));
}

} // namespace mpq::gui
