// Fuzz target: result.json of a result folder (openQuantizedRun, then the plan, the settings and
// every stored layer), in a copy of the fixture's RTN result folder whose layer files are intact.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "runs/detail/QuantizedRun.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string dir = [] {
        const std::string d = mpq::fuzz::scratchDir() + "/result";
        std::filesystem::copy(mpq::fuzz::fixture().result, d, std::filesystem::copy_options::recursive |
                                                                 std::filesystem::copy_options::overwrite_existing);
        return d;
    }();
    mpq::fuzz::writeBytes(dir + "/result.json", data, size);
    try {
        const auto run = mpq::detail::openQuantizedRun(dir);
        run->plan();
        run->settingsJson();
        for (int64_t k : run->layers())
            run->layer(k);
    } catch (const mpq::Error&) {
    }
    return 0;
}
