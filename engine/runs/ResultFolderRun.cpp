// A result folder (docs/result-folder.md) read as a QuantizedRun.
#include "runs/detail/ResultFolderFiles.h"

#include "core/Error.h"
#include "core/Files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace mpq::detail {

namespace {

class ResultFolderRun final : public FolderRun {
public:
    explicit ResultFolderRun(std::string dir) : FolderRun(std::move(dir))
    {
        const ResultDescription d = readResultDescription(m_dir); // checks format and version
        m_model = d.model;
        m_method = d.method;
        m_planJson = d.planJson;
        m_planSource = d.file;
        m_settings = d.settingsJson;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(files::join(m_dir, "layers"), ec)) {
            const std::string name = entry.path().filename().string();
            long long index = -1;
            char tail[2] = {};
            if (std::sscanf(name.c_str(), "layer-%lld.safetensor%1s", &index, tail) == 2 && tail[0] == 's' &&
                index >= 0)
                m_layers.push_back(index);
        }
        if (ec || m_layers.empty())
            throw Error(m_dir + ": no quantized layers (layers/*.safetensors)");
        std::sort(m_layers.begin(), m_layers.end());
    }

    QuantizedLayer layer(int64_t index) const override
    {
        const std::string file = resultLayerFile(m_dir, index);
        if (!files::exists(file))
            throw Error(m_dir + ": decoder layer " + std::to_string(index) + " is not stored");
        return readLayerFile(file);
    }
};

} // namespace

std::unique_ptr<QuantizedRun> openResultFolderRun(const std::string& dir)
{
    return std::make_unique<ResultFolderRun>(dir);
}

} // namespace mpq::detail
