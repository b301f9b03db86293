#include "tokenizer/ModelTokenizer.h"

#include "core/Error.h"
#include "core/SettingError.h"
#include "core/Files.h"
#include "model/ModelSource.h"

namespace mpq {

std::string findTokenizerFile(const std::string& folder)
{
    for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
        const std::string candidate = files::join(folder, name);
        if (files::exists(candidate) && !files::isDirectory(candidate))
            return candidate;
    }
    return {};
}

std::shared_ptr<const Tokenizer> openModelTokenizer(const ModelSource& source)
{
    if (source.tokenizerPath().empty())
        throw SettingError("tokenizer", source.path() + ": no tokenizer.json or tokenizer.model found beside the "
                                                 "model; give a tokenizer file");
    TokenizerOptions options;
    options.fallbackBosId = static_cast<int32_t>(source.config().bosTokenId);
    auto tok = openTokenizer(source.tokenizerPath(), options);
    const int64_t modelVocab = source.config().vocabSize;
    if (tok->vocabSize() > modelVocab)
        throw Error(source.tokenizerPath() + ": the tokenizer has ids up to " +
                    std::to_string(tok->vocabSize() - 1) + " but the model's vocab_size is " +
                    std::to_string(modelVocab));
    return tok;
}

} // namespace mpq
