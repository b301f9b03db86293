// Fuzz target: a llama2.c .bin checkpoint (readLlama2cCheckpoint: header, then the size check).
#include "FuzzSupport.h"

#include "core/Error.h"
#include "model/Llama2cFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string file = mpq::fuzz::writeScratch("input.bin", data, size);
    try {
        mpq::readLlama2cCheckpoint(file);
    } catch (const mpq::Error&) {
    }
    return 0;
}
