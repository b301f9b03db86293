#pragma once

#include "tokenizer/Tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpq {

/// A Hugging Face `tokenizer.json` tokenizer with a BPE model, reproducing the `tokenizers`
/// library (as transformers' fast tokenizers use it) token for token: byte-level BPE (GPT-2,
/// Llama 3, Qwen2.5/3) and SentencePiece-style BPE (LLaMA-2, Mistral: `▁` spaces, byte
/// fallback). `tokenizer_config.json` beside the file supplies BOS/EOS and, for Llama-class
/// tokenizers, add_bos_token / add_eos_token. See docs/tokenizer.md for the supported
/// components; anything else is refused at load.
///
/// Threading: immutable after load(); every const member may run on many threads at once.
class HfTokenizer final : public Tokenizer {
public:
    /// Loads `tokenizer.json`. Throws mpq::Error naming the file and the problem: unreadable,
    /// not JSON, no model, a model or component type that is not supported (named), a merge
    /// whose tokens are not in the vocabulary, an added token without id.
    static std::shared_ptr<const HfTokenizer> load(const std::string& path);

    std::vector<int32_t> encode(std::string_view text) const override;
    std::vector<int32_t> encodeForModel(std::string_view text) const override;
    /// tokenizers' `decode(ids, skip_special_tokens=False)`: ids become their token strings and
    /// go through the decoder (no clean-up of spaces, which transformers may add on top).
    std::string decode(const std::vector<int32_t>& ids) const override;
    int32_t vocabSize() const override;
    int32_t bosId() const override;
    int32_t eosId() const override;
    std::string kind() const override;
    const std::string& path() const override;

    /// The token strings behind encode(text), for inspection and test messages.
    std::vector<std::string> encodeAsTokens(std::string_view text) const;
    /// The token string of `id` (an added token's content, or the model's vocabulary entry).
    /// Throws mpq::Error on an id outside the vocabulary.
    const std::string& idToToken(int32_t id) const;
    /// The id of a token string, or -1.
    int32_t tokenToId(std::string_view token) const;

    struct Impl; ///< the loaded pipeline (defined in the .cpp)
    explicit HfTokenizer(std::shared_ptr<const Impl> impl);

private:
    std::shared_ptr<const Impl> m_impl;
};

} // namespace mpq
