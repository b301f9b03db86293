#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpq {

/// A SentencePiece tokenizer implemented natively: it reads the `.model` file (a protobuf
/// ModelProto) itself and reproduces sentencepiece 0.1.97's `EncodeAsIds` / `DecodeIds`,
/// without libsentencepiece (whose protobuf cannot share a process with LibTorch's).
///
/// Supported: BPE and unigram models; byte fallback; user-defined, control and unused pieces;
/// the normalizer options add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces and
/// treat_whitespace_as_suffix; precompiled normalization rules (identity, nmt_nfkc, nfkc_cf, a
/// custom rule TSV) and a denormalizer. WORD and CHAR models are rejected by load() with an
/// mpq::Error that says so. See docs/tokenizer.md for the algorithm and how it is proven.
///
/// Threading: a loaded tokenizer is immutable; every const member may be called from any
/// number of threads at once. Copies are cheap and share the vocabulary.
class SentencePieceTokenizer {
public:
    /// Loads and validates a SentencePiece .model file.
    /// Throws mpq::Error naming the file and the problem: missing or unreadable file, corrupt or
    /// truncated protobuf, an invalid vocabulary (no <unk>, duplicate pieces, byte pieces
    /// missing although byte_fallback is set), or an unsupported model or normalizer.
    static SentencePieceTokenizer load(const std::string& modelPath);

    /// Token ids of `text` exactly as SentencePieceProcessor::EncodeAsIds gives them; no BOS or
    /// EOS is added. Invalid UTF-8 is accepted (each bad byte becomes U+FFFD, as in the
    /// library). O(n log n) in the length of the text.
    std::vector<int32_t> encode(std::string_view text) const;

    /// The pieces behind encode(text) (byte-fallback bytes appear as "<0xXX>" pieces); for
    /// inspection and tests.
    std::vector<std::string> encodeAsPieces(std::string_view text) const;

    /// Text of `ids` as SentencePieceProcessor::DecodeIds gives it: control pieces vanish,
    /// U+2581 becomes a space, the leading space of the dummy prefix is dropped, byte pieces
    /// are joined back into UTF-8 (an invalid byte becomes U+FFFD), <unk> becomes the model's
    /// unk_surface (" ⁇ " by default). Throws mpq::Error on an id outside [0, vocabSize()).
    std::string decode(const std::vector<int32_t>& ids) const;

    /// Special ids as the library reports them: the id of the piece named by the trainer spec
    /// ("<s>", "</s>", "<pad>", "<unk>" by default) when that piece exists with the right type,
    /// otherwise -1.
    int32_t bosId() const;
    int32_t eosId() const;
    int32_t unkId() const;
    int32_t padId() const;

    int32_t vocabSize() const;
    /// The piece of `id`. Throws mpq::Error on an id outside [0, vocabSize()).
    const std::string& piece(int32_t id) const;
    /// The id of `piece`, or unkId() when the vocabulary has no such piece (as the library).
    int32_t pieceToId(std::string_view piece) const;
    /// "bpe" or "unigram" (TrainerSpec.model_type).
    std::string modelType() const;
    /// The file this tokenizer was loaded from.
    const std::string& path() const;

    struct Model; ///< the immutable loaded vocabulary and lookup tables (defined in the .cpp)

private:
    explicit SentencePieceTokenizer(std::shared_ptr<const Model> model);

    std::shared_ptr<const Model> m_model;
};

} // namespace mpq
