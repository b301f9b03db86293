// Fuzz target: model.safetensors.index.json of a sharded Hugging Face folder (ModelSource::open),
// beside the fixture's config.json and its weights as the one shard the seeds name.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "model/ModelSource.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string dir = [] {
        const auto& f = mpq::fuzz::fixture();
        const std::string d = mpq::fuzz::scratchDir() + "/sharded";
        std::filesystem::create_directories(d);
        std::filesystem::copy_file(f.model + "/config.json", d + "/config.json",
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::copy_file(f.model + "/model.safetensors", d + "/model-00001-of-00001.safetensors",
                                   std::filesystem::copy_options::overwrite_existing);
        return d;
    }();
    mpq::fuzz::writeBytes(dir + "/model.safetensors.index.json", data, size);
    try {
        mpq::ModelSource::open(dir);
    } catch (const mpq::Error&) {
    }
    return 0;
}
