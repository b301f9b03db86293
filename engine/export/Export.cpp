#include "export/Export.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "export/detail/ExportFolder.h"
#include "export/detail/FormatWriters.h"
#include "model/ModelSource.h"
#include "runs/detail/QuantizedRun.h"

#include <chrono>
#include <filesystem>

namespace mpq {

ExportFormat parseExportFormat(const std::string& name)
{
    if (name == "hf")
        return ExportFormat::HuggingFace;
    if (name == "gptq")
        return ExportFormat::Gptq;
    if (name == "mpq-packed")
        return ExportFormat::MpqPacked;
    if (name == "gguf")
        return ExportFormat::Gguf;
    throw Error("export format \"" + name + "\" is not one of hf, gptq, mpq-packed, gguf");
}

const char* exportFormatName(ExportFormat f)
{
    switch (f) {
    case ExportFormat::HuggingFace: return "hf";
    case ExportFormat::Gptq: return "gptq";
    case ExportFormat::MpqPacked: return "mpq-packed";
    case ExportFormat::Gguf: return "gguf";
    }
    return "?";
}

namespace {

namespace fs = std::filesystem;

/// Removes the partial folder unless released (the export then renamed it into place).
struct PartialFolder {
    std::string path;
    bool keep = false;
    ~PartialFolder()
    {
        if (!keep)
            files::removeAll(path);
    }
};

bool isEmptyFolder(const std::string& path)
{
    std::error_code ec;
    return fs::is_directory(path, ec) && fs::is_empty(path, ec);
}

} // namespace

ExportReport exportRun(const ExportParams& params, JobContext& ctx)
{
    if (params.format == ExportFormat::Gguf) // one file, not a folder
        return detail::exportGguf(params, ctx);
    const auto t0 = std::chrono::steady_clock::now();
    if (params.input.empty())
        throw Error("export: no input run given");
    if (params.outDir.empty())
        throw Error("export: no output folder given");
    const std::string out = files::absolute(params.outDir);
    if (files::exists(out) && !isEmptyFolder(out) && !params.force)
        throw SettingError("force", out + ": exists and is not empty (replacing it needs the force setting)");
    if (files::exists(out) && !files::isDirectory(out))
        throw Error(out + ": exists and is not a folder");

    // Open everything before writing anything: a bad input fails without touching the disk.
    const auto run = detail::openQuantizedRun(params.input);
    const ModelSource source = ModelSource::open(run->modelPath());
    if (params.format != ExportFormat::MpqPacked)
        detail::parseExportDtype(params.dtype); // fail early on a bad dtype

    ExportReport report;
    report.format = exportFormatName(params.format);
    report.baseModel = source.path();
    ctx.start(std::string("export ") + report.format);

    PartialFolder partial{out + ".partial"};
    std::error_code ec;
    files::removeAll(partial.path);
    if (!fs::create_directories(partial.path, ec) || ec)
        throw Error(partial.path + ": cannot create the output folder (" +
                    (ec ? ec.message() : std::string("it exists")) + ")");

    switch (params.format) {
    case ExportFormat::HuggingFace: detail::writeHfExport(*run, source, params, partial.path, ctx, report); break;
    case ExportFormat::Gptq: detail::writeGptqExport(*run, source, params, partial.path, ctx, report); break;
    case ExportFormat::MpqPacked: detail::writePackedExport(*run, source, params, partial.path, ctx, report); break;
    case ExportFormat::Gguf: break; // handled above
    }
    ctx.checkCancelled();

    for (const auto& entry : fs::recursive_directory_iterator(partial.path))
        if (entry.is_regular_file())
            report.bytes += int64_t(entry.file_size());
    if (files::exists(out)) {
        if (std::string why; !files::removeAll(out, &why))
            throw Error(out + ": cannot replace it (" + why + ")");
    }
    fs::rename(partial.path, out, ec);
    if (ec)
        throw Error(out + ": cannot move the finished export into place (" + ec.message() + ")");
    partial.keep = true;
    report.outDir = out;
    for (const std::string& w : report.warnings)
        ctx.warn(w);
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

} // namespace mpq
