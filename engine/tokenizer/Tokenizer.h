#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpq {

/// A text tokenizer as a model sees it. Two implementations: a SentencePiece `.model`
/// (SentencePieceTokenizer, wrapped) and a Hugging Face `tokenizer.json` (HfTokenizer).
/// openTokenizer() picks one from the file, as transformers does.
///
/// Threading: a loaded tokenizer is immutable; every const member may be called from any
/// number of threads at once.
class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    /// Token ids of `text` without the post-processor's special tokens (transformers'
    /// `tokenizer(text, add_special_tokens=False)`; SentencePiece's EncodeAsIds). Special
    /// tokens spelled inside the text are still recognised where the format says so.
    virtual std::vector<int32_t> encode(std::string_view text) const = 0;

    /// Token ids exactly as the model was trained to see `text`: transformers'
    /// `tokenizer(text)` (add_special_tokens=True). Llama 3 prepends `<|begin_of_text|>`,
    /// LLaMA-2 its BOS, Qwen nothing.
    virtual std::vector<int32_t> encodeForModel(std::string_view text) const = 0;

    /// Text of `ids` as the library decodes them (see each implementation). Throws mpq::Error
    /// on an id outside [0, vocabSize()).
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;

    /// Highest id + 1, added/special tokens included.
    virtual int32_t vocabSize() const = 0;
    /// Beginning / end of sequence ids, -1 when the tokenizer has none.
    virtual int32_t bosId() const = 0;
    virtual int32_t eosId() const = 0;
    /// "sentencepiece-bpe", "sentencepiece-unigram", "hf-bpe-bytelevel", "hf-bpe".
    virtual std::string kind() const = 0;
    /// The file this tokenizer was loaded from.
    virtual const std::string& path() const = 0;
};

/// What a caller knows about the model beside the tokenizer file.
struct TokenizerOptions {
    /// BOS to prepend for a SentencePiece model whose vocabulary has no BOS piece (a model's
    /// config `bos_token_id`); -1: none.
    int32_t fallbackBosId = -1;
};

/// Opens `path`: a Hugging Face `tokenizer.json` (with `tokenizer_config.json` read from the
/// same folder when present) or a SentencePiece `.model`. The kind is told by the content (a
/// JSON object vs a protobuf), not by the name. Throws mpq::Error naming the file and the
/// problem: missing, unreadable, corrupt, or using an unsupported component.
std::shared_ptr<const Tokenizer> openTokenizer(const std::string& path,
                                               const TokenizerOptions& options = {});

/// Ids as little-endian int32 bytes, hashed with SHA-256 (lower-case hex): the fingerprint
/// `mpq tokenize` prints, to compare with other implementations.
std::string tokenIdsSha256(const std::vector<int32_t>& ids);

} // namespace mpq
