#include "runs/detail/ResultFolderFiles.h"

#include "core/Error.h"
#include "core/Files.h"

#include <filesystem>

namespace mpq::detail {

ResultFolderWriter::ResultFolderWriter(std::string out)
    : m_out(std::move(out)), m_partial(partialResultFolder(m_out))
{
    if (std::string why; !files::removeAll(m_partial, &why))
        throw Error("cannot clear the temporary output folder: " + why);
    std::filesystem::create_directories(m_partial);
}

ResultFolderWriter::~ResultFolderWriter()
{
    if (!m_committed)
        files::removeAll(m_partial);
}

void ResultFolderWriter::writeCalibration(const CalibrationSet& calibration)
{
    saveCalibrationTokens(calibration, files::join(m_partial, "calibration.bin"));
}

void ResultFolderWriter::addLayer(const LayerRecord& record)
{
    QuantizedLayer matrices;
    for (const auto& m : record.matrices)
        matrices.emplace_back(m.plan.tensor, m.q);
    writeLayerFile(resultLayerFile(m_partial, record.layer), record.layer, matrices);
}

void ResultFolderWriter::writeDescription(const ResultDescription& description)
{
    writeResultDescription(m_partial, description);
}

std::string ResultFolderWriter::commit()
{
    if (std::string why; !files::removeAll(m_out, &why))
        throw Error("cannot replace the output folder: " + why);
    std::filesystem::rename(m_partial, m_out);
    m_committed = true;
    return m_out;
}

} // namespace mpq::detail
