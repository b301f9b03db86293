#include "SettingFlags.h"

#include "core/SettingError.h"

#include <utility>

namespace mpq::cli {

std::string flagOfSetting(const std::string& setting)
{
    // The engine names settings by their params fields; the CLI by its options.
    static const std::pair<const char*, const char*> kFlags[] = {
        {"bits", "--bits"},
        {"groupSize", "--group-size"},
        {"out", "--out"},
        {"session", "--session"},
        {"runName", "--run"},
        {"resume", "--resume"},
        {"seeds", "--seeds"},
        {"seqlen", "--seqlen"},
        {"dataDir", "--data-dir"},
        {"tokenizer", "--tokenizer"},
        {"storeHessianLimit", "--store-hessian"},
        {"mgptq.bitsSet", "--bits-set"},
        {"mgptq.alpha", "--alpha"},
        {"mgptq.targetBits", "--target-bits"},
        {"mgptq.restarts", "--restarts"},
        {"mgptq.epochs", "--epochs"},
        {"mgptq.learningRate", "--lr"},
        {"mgptq.tauStart", "--tau-start"},
        {"mgptq.tauEnd", "--tau-end"},
        {"ggufCosts", "--gguf-costs"},
        {"format", "--format"},
        {"force", "--force"},
        {"dtype", "--dtype"},
    };
    for (const auto& [key, flag] : kFlags)
        if (setting == key)
            return flag;
    return {};
}

std::string flagsSuffix(const std::vector<std::string>& settings)
{
    std::string flags;
    for (const std::string& s : settings) {
        const std::string f = flagOfSetting(s);
        if (!f.empty())
            flags += (flags.empty() ? "" : ", ") + f;
    }
    return flags.empty() ? std::string() : " (" + flags + ")";
}

std::string flagsSuffix(const std::exception& e)
{
    const auto* s = dynamic_cast<const SettingError*>(&e);
    return s ? flagsSuffix(s->settings()) : std::string();
}

} // namespace mpq::cli
