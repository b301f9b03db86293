#include "Validate.h"
#include "SettingFlags.h"

#include "core/Files.h"
#include "data/Calibration.h"
#include "data/TextSources.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace mpq::cli {

int64_t intIn(const Args& args, const std::string& name, int64_t lo, int64_t hi)
{
    const int64_t v = args.getInt(name);
    if (v < lo || v > hi)
        throw UsageError("--" + name + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                         std::to_string(v));
    return v;
}

double numberIn(const Args& args, const std::string& name, double lo, double hi, bool loOpen)
{
    const double v = args.getDouble(name); // finite (Args refuses nan and inf)
    if (v < lo || v > hi || (loOpen && v == lo)) {
        char range[96];
        std::snprintf(range, sizeof range, "%s%g, %g]", loOpen ? "(" : "[", lo, hi);
        throw UsageError("--" + name + " must be in " + range + ", got " + args.get(name));
    }
    return v;
}

void checkModelPath(const std::string& model)
{
    if (!files::exists(model))
        throw Error(model + ": no such model (a Hugging Face folder or a llama2.c .bin file)");
}

void checkFileOption(const Args& args, const std::string& name)
{
    if (!args.has(name))
        return;
    const std::string& f = args.get(name);
    if (!files::exists(f))
        throw Error(f + ": no such file (--" + name + ")");
    if (files::isDirectory(f))
        throw Error(f + ": is a folder, --" + name + " needs a file");
}

namespace {

std::string dataDirOf(const std::string& dataDir)
{
    return dataDir.empty() ? data::dataDirectory() : dataDir;
}

} // namespace

void checkEvalDataset(const std::string& nameOrPath, const std::string& dataDir, const std::string& option)
{
    try {
        data::resolveEvalSet(nameOrPath, dataDirOf(dataDir));
    } catch (const Error& e) {
        throw Error(option + " " + nameOrPath + ": " + e.what() + flagsSuffix(e));
    }
}

void checkCalibrationSet(const std::string& nameOrPath, const std::string& dataDir, const std::string& option)
{
    try {
        for (const std::string& part : calibrationSourceParts(nameOrPath))
            if (part != kSelfCalibration) // sampled from the model: needs no data folder
                data::resolveCalibrationSet(part, dataDirOf(dataDir));
    } catch (const Error& e) {
        throw Error(option + " " + nameOrPath + ": " + e.what() + flagsSuffix(e));
    }
}

std::string bytesText(double bytes)
{
    const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (bytes >= 1000 && u < 6) {
        bytes /= 1000;
        ++u;
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

void checkActivationBytes(double elements, double bytesEach, const std::string& device, const std::string& what)
{
    const double need = elements * bytesEach;
    double have = 0;
    std::string where;
    if (device.rfind("cuda", 0) == 0) {
        have = 192.0 * (1ull << 30);
        where = "no single GPU has more than " + bytesText(have);
    } else {
        have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
        where = "this machine has " + bytesText(have);
    }
    if (have > 0 && need > have)
        throw UsageError(what + " would need " + bytesText(need) + " of memory at least; " + where);
}

} // namespace mpq::cli
