// Fuzz target: the header of one .safetensors file (readSafetensorsHeader). Every input must end
// in entries or one mpq::Error; anything else (a crash, another exception, a sanitizer report) is a
// finding.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "model/SafetensorsFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string file = mpq::fuzz::writeScratch("input.safetensors", data, size);
    try {
        mpq::readSafetensorsHeader(file);
    } catch (const mpq::Error&) {
    }
    return 0;
}
