#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpq {

/// The parts of SentencePiece's `ModelProto` (sentencepiece_model.proto) that encoding and
/// decoding need, with the proto's defaults. Field numbers are given beside each member.
/// Plain data: parsed once by parse(), never changed afterwards.
struct SentencePieceModelProto {
    /// ModelProto.SentencePiece.Type
    enum class PieceType : int32_t {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6,
    };

    /// ModelProto.SentencePiece (field 1 of ModelProto, repeated).
    struct Piece {
        std::string piece;                  ///< 1
        float score = 0.0f;                 ///< 2
        PieceType type = PieceType::Normal; ///< 3
    };

    /// TrainerSpec.ModelType
    enum class ModelType : int32_t { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };

    /// TrainerSpec (field 2 of ModelProto): only the fields that change encoding or decoding.
    struct TrainerSpec {
        bool present = false;
        ModelType modelType = ModelType::Unigram; ///< 3
        bool treatWhitespaceAsSuffix = false;     ///< 24
        bool byteFallback = false;                ///< 35
        int32_t unkId = 0;                        ///< 40
        int32_t bosId = 1;                        ///< 41
        int32_t eosId = 2;                        ///< 42
        int32_t padId = -1;                       ///< 43
        std::string unkSurface = " \xE2\x81\x87 "; ///< 44 (" ⁇ ")
        std::string unkPiece = "<unk>";            ///< 45
        std::string bosPiece = "<s>";              ///< 46
        std::string eosPiece = "</s>";             ///< 47
        std::string padPiece = "<pad>";            ///< 48
    };

    /// NormalizerSpec (fields 3 and 5 of ModelProto).
    struct NormalizerSpec {
        bool present = false;
        std::string name;                  ///< 1
        std::string precompiledCharsmap;   ///< 2
        bool addDummyPrefix = true;        ///< 3
        bool removeExtraWhitespaces = true; ///< 4
        bool escapeWhitespaces = true;     ///< 5
    };

    std::vector<Piece> pieces;     ///< 1
    TrainerSpec trainerSpec;       ///< 2
    NormalizerSpec normalizerSpec; ///< 3
    NormalizerSpec denormalizerSpec; ///< 5

    /// Parses a serialized ModelProto. Unknown fields are skipped, as protobuf does. Throws
    /// mpq::Error naming `source` when the wire format is corrupt or truncated, or a known field
    /// has the wrong wire type. Does not check the vocabulary: SentencePieceTokenizer does.
    static SentencePieceModelProto parse(std::string_view bytes, const std::string& source);
};

} // namespace mpq
