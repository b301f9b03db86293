#include "core/Memory.h"

#include "core/detail/DeviceMemory.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mpq {

namespace {

/// A "VmXXX:   1234 kB" line of /proc/self/status.
int64_t procStatusBytes(const char* key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const size_t n = std::strlen(key);
    while (std::getline(in, line))
        if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') {
            long long kb = -1;
            if (std::sscanf(line.c_str() + n + 1, "%lld", &kb) == 1 && kb >= 0)
                return int64_t(kb) * 1024;
        }
    return -1;
}

at::Device cudaDevice(const std::string& device)
{
    const int index = device.size() > 5 ? std::atoi(device.c_str() + 5) : 0;
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
}

} // namespace

int64_t peakHostBytes()
{
    return procStatusBytes("VmHWM");
}

bool resetPeakHostBytes()
{
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return bool(out);
}

void returnFreedMemoryPromptly()
{
#if defined(__GLIBC__)
    constexpr int kThreshold = 128 * 1024; // glibc's initial mmap threshold, then kept fixed
    mallopt(M_MMAP_THRESHOLD, kThreshold);
    mallopt(M_TRIM_THRESHOLD, kThreshold);
    malloc_trim(0);
#endif
}

int64_t currentHostBytes()
{
    return procStatusBytes("VmRSS");
}

int64_t peakDeviceMemory(const std::string& device)
{
    if (device.rfind("cuda", 0) != 0)
        return -1;
    return detail::peakDeviceBytes(cudaDevice(device));
}

int64_t physicalHostBytes()
{
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? int64_t(pages) * int64_t(size) : -1;
}

int64_t deviceTotalBytes(const std::string& device)
{
    if (device.rfind("cuda", 0) != 0)
        return -1;
    return detail::deviceTotalBytes(cudaDevice(device));
}

int64_t parseByteSize(const std::string& text)
{
    const char* s = text.c_str();
    char* end = nullptr;
    const double value = std::strtod(s, &end);
    if (end == s || !std::isfinite(value) || value <= 0)
        throw Error("\"" + text + "\" is not a memory size (e.g. 512M, 16G or a number of bytes)");
    std::string unit(end);
    for (auto& c : unit)
        c = char(std::toupper(static_cast<unsigned char>(c)));
    double scale = 0;
    if (unit.empty() || unit == "B")
        scale = 1;
    else if (unit == "K" || unit == "KB" || unit == "KIB")
        scale = 1024.0;
    else if (unit == "M" || unit == "MB" || unit == "MIB")
        scale = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GIB")
        scale = 1024.0 * 1024 * 1024;
    else if (unit == "T" || unit == "TB" || unit == "TIB")
        scale = 1024.0 * 1024 * 1024 * 1024;
    else
        throw Error("\"" + text + "\" is not a memory size: unknown unit \"" + std::string(end) +
                    "\" (use K, M, G or T)");
    const double bytes = value * scale;
    if (bytes < 1 || bytes > 9.0e18)
        throw Error("\"" + text + "\" is out of range for a memory size");
    return int64_t(bytes);
}

std::string byteSizeText(int64_t bytes)
{
    char buf[48];
    const double b = double(bytes);
    if (bytes < 0)
        return "unknown";
    if (b >= 1073741824.0)
        std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
    else if (b >= 1048576.0)
        std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
    else
        std::snprintf(buf, sizeof buf, "%.0f KiB", b / 1024.0);
    return buf;
}

} // namespace mpq
