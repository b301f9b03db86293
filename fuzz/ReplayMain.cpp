// Corpus replay: a plain main() for any fuzz target, so that a build without libFuzzer (gcc, the
// sanitizer preset, CI) runs every stored input once: `fuzz_X FILE|DIR...`. Exit status 0 when
// every input ran without a crash (a crash aborts, as under libFuzzer).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv)
{
    std::vector<std::string> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            std::vector<std::string> here;
            for (const auto& e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file())
                    here.push_back(e.path().string());
            std::sort(here.begin(), here.end());
            inputs.insert(inputs.end(), here.begin(), here.end());
        } else if (std::filesystem::is_regular_file(p)) {
            inputs.push_back(p.string());
        } else {
            std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
            return 2;
        }
    }
    if (inputs.empty()) {
        std::fprintf(stderr, "usage: %s FILE|DIR...  (replays each input through the fuzz target once)\n", argv[0]);
        return 2;
    }
    for (const auto& file : inputs) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("replayed %zu inputs\n", inputs.size());
    return 0;
}
