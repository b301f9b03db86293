// Fuzz target: a Hugging Face config.json (ModelConfig::fromHuggingFaceJson).
#include "FuzzSupport.h"

#include "core/Error.h"
#include "model/ModelConfig.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    try {
        mpq::ModelConfig::fromHuggingFaceJson(std::string(reinterpret_cast<const char*>(data), size), "config.json");
    } catch (const mpq::Error&) {
    }
    return 0;
}
