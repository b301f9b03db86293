#include "MemoryOptions.h"

#include "Terminal.h"

namespace mpq::cli {

void addMemoryOptions(Args& args)
{
    args.option("max-host-memory", "SIZE",
                "limit for the job's data in host memory (e.g. 512M, 16G): batch sizes and layer streaming "
                "are planned to fit, or the job is refused before it starts (docs/streaming.md)");
    args.option("max-device-memory", "SIZE",
                "the same for the CUDA device's memory (ignored on the CPU, where --max-host-memory applies)");
}

MemoryBudget memoryBudgetFrom(const Args& args)
{
    auto size = [&](const char* name) -> int64_t {
        if (!args.has(name))
            return 0;
        try {
            return parseByteSize(args.get(name));
        } catch (const Error& e) {
            throw UsageError(std::string("--") + name + ": " + e.what());
        }
    };
    MemoryBudget b;
    b.hostBytes = size("max-host-memory");
    b.deviceBytes = size("max-device-memory");
    return b;
}

nlohmann::json withMemory(nlohmann::json j, const std::string& device)
{
    j["memory"] = {{"peak_host_bytes", peakHostBytes()}, {"peak_device_bytes", peakDeviceMemory(device)}};
    return j;
}

void refuseOverBudget(const MemoryBudgetError& e)
{
    endProgressLine();
    std::string what = e.what();
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"the host memory limit", "--max-host-memory"},
                                   {"the device memory limit", "--max-device-memory"}}) {
        const auto at = what.find(from);
        if (at != std::string::npos)
            what.replace(at, from.size(), to);
    }
    throw UsageError(what);
}

} // namespace mpq::cli
