#include "WorkbenchFile.h"

#include "ResultReader.h"

#include "core/Error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpq::gui {

namespace {

QMap<QString, double> toMap(const QJsonValue& v)
{
    QMap<QString, double> m;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
        m.insert(it.key(), it.value().toDouble());
    return m;
}

} // namespace

Workbench WorkbenchFile::load(const QString& path, QStringList* problems)
{
    const std::string where = path.toStdString();
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(where + ": cannot open (" + f.errorString().toStdString() + ")");
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw Error(where + ": not a workbench session (" + err.errorString().toStdString() + " at byte " +
                    std::to_string(err.offset) + ")");
    const QJsonObject root = doc.object();
    if (root.value(QLatin1String("format")).toString() != QLatin1String("mpq-workbench"))
        throw Error(where + ": not a workbench session (format is not \"mpq-workbench\")");
    const int version = root.value(QLatin1String("version")).toInt();
    if (version < 1 || version > 1)
        throw Error(where + ": session version " + std::to_string(version) + " is not supported (1)");

    Workbench wb;
    wb.model = root.value(QLatin1String("model")).toString();
    wb.synthetic = root.value(QLatin1String("synthetic")).toBool();
    wb.folder = root.value(QLatin1String("folder")).toString();
    wb.mxqCosts = root.value(QLatin1String("mxq_costs")).toString();
    wb.reference = toMap(root.value(QLatin1String("reference")));
    for (const QJsonValue& v : root.value(QLatin1String("runs")).toArray()) {
        const QJsonObject o = v.toObject();
        const QString dir = o.value(QLatin1String("result_dir")).toString();
        try {
            RunData r = ResultReader::readResultFolder(dir);
            r.name = o.value(QLatin1String("name")).toString(r.name);
            r.sweepAxis = o.value(QLatin1String("sweep_axis")).toString();
            r.sweepValue = o.value(QLatin1String("sweep_value")).toDouble();
            r.perplexity = toMap(o.value(QLatin1String("perplexity")));
            wb.upsert(r);
        } catch (const std::exception& e) {
            if (problems)
                *problems << QString::fromStdString(e.what());
        }
    }
    return wb;
}

} // namespace mpq::gui
