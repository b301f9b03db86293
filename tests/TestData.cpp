#include "TestData.h"

#include "demo/SyntheticModel.h"

#include <QDir>
#include <QFileInfo>

namespace mpq::test {

DataLookup lookupData(const char* relativePath)
{
    DataLookup result;
    const QByteArray dir = qgetenv("MPQ_DATA_DIR");
    if (dir.isEmpty()) {
        result.status = DataLookup::Skip;
        result.message = QStringLiteral("MPQ_DATA_DIR is not set: skipping a test that needs %1")
                             .arg(QString::fromUtf8(relativePath));
        return result;
    }
    const QString path = QDir(QString::fromLocal8Bit(dir)).filePath(QString::fromUtf8(relativePath));
    if (!QFileInfo::exists(path)) {
        result.status = DataLookup::Fail;
        result.message =
            QStringLiteral("MPQ_DATA_DIR is set but %1 does not exist").arg(path);
        return result;
    }
    result.status = DataLookup::Found;
    result.path = path.toStdString();
    return result;
}

mpq::DemoModel demoModel()
{
    return mpq::findDemoModel();
}

QString toolsDir()
{
    const QByteArray dir = qgetenv("MPQ_TEST_TOOLS_DIR");
    return dir.isEmpty() ? QDir::currentPath() : QString::fromLocal8Bit(dir);
}

QString writeTinySyntheticModel(const QString& dir)
{
    mpq::SyntheticDemoSpec spec;
    spec.layers = 2;
    spec.hidden = 32;
    spec.intermediate = 64;
    spec.heads = 2;
    spec.vocab = 64;
    spec.calibWindows = 4;
    spec.calibLength = 16;
    mpq::writeSyntheticModel(spec, dir.toStdString());
    return dir;
}

} // namespace mpq::test
