#include "tokenizer/SentencePieceModelProto.h"

#include "tokenizer/ProtoReader.h"

namespace mpq {

namespace {

using Field = ProtoReader::Field;

SentencePieceModelProto::Piece parsePiece(ProtoReader reader)
{
    SentencePieceModelProto::Piece piece;
    Field f;
    while (reader.next(f)) {
        switch (f.number) {
        case 1: piece.piece = std::string(reader.asBytes(f, "SentencePiece.piece")); break;
        case 2: piece.score = reader.asFloat(f, "SentencePiece.score"); break;
        case 3: {
            const int32_t type = reader.asInt32(f, "SentencePiece.type");
            // proto2 keeps an enum value it does not know out of the field (the default
            // stays); do the same.
            if (type >= 1 && type <= 6)
                piece.type = static_cast<SentencePieceModelProto::PieceType>(type);
            break;
        }
        default: break;
        }
    }
    return piece;
}

void parseTrainerSpec(ProtoReader reader, SentencePieceModelProto::TrainerSpec& spec)
{
    spec.present = true;
    Field f;
    while (reader.next(f)) {
        switch (f.number) {
        case 3: {
            const int32_t type = reader.asInt32(f, "TrainerSpec.model_type");
            if (type >= 1 && type <= 4)
                spec.modelType = static_cast<SentencePieceModelProto::ModelType>(type);
            break;
        }
        case 24:
            spec.treatWhitespaceAsSuffix =
                reader.asBool(f, "TrainerSpec.treat_whitespace_as_suffix");
            break;
        case 35: spec.byteFallback = reader.asBool(f, "TrainerSpec.byte_fallback"); break;
        case 40: spec.unkId = reader.asInt32(f, "TrainerSpec.unk_id"); break;
        case 41: spec.bosId = reader.asInt32(f, "TrainerSpec.bos_id"); break;
        case 42: spec.eosId = reader.asInt32(f, "TrainerSpec.eos_id"); break;
        case 43: spec.padId = reader.asInt32(f, "TrainerSpec.pad_id"); break;
        case 44:
            spec.unkSurface = std::string(reader.asBytes(f, "TrainerSpec.unk_surface"));
            break;
        case 45: spec.unkPiece = std::string(reader.asBytes(f, "TrainerSpec.unk_piece")); break;
        case 46: spec.bosPiece = std::string(reader.asBytes(f, "TrainerSpec.bos_piece")); break;
        case 47: spec.eosPiece = std::string(reader.asBytes(f, "TrainerSpec.eos_piece")); break;
        case 48: spec.padPiece = std::string(reader.asBytes(f, "TrainerSpec.pad_piece")); break;
        default: break;
        }
    }
}

void parseNormalizerSpec(ProtoReader reader, SentencePieceModelProto::NormalizerSpec& spec)
{
    spec.present = true;
    Field f;
    while (reader.next(f)) {
        switch (f.number) {
        case 1: spec.name = std::string(reader.asBytes(f, "NormalizerSpec.name")); break;
        case 2:
            spec.precompiledCharsmap =
                std::string(reader.asBytes(f, "NormalizerSpec.precompiled_charsmap"));
            break;
        case 3: spec.addDummyPrefix = reader.asBool(f, "NormalizerSpec.add_dummy_prefix"); break;
        case 4:
            spec.removeExtraWhitespaces =
                reader.asBool(f, "NormalizerSpec.remove_extra_whitespaces");
            break;
        case 5:
            spec.escapeWhitespaces = reader.asBool(f, "NormalizerSpec.escape_whitespaces");
            break;
        default: break;
        }
    }
}

} // namespace

SentencePieceModelProto SentencePieceModelProto::parse(std::string_view bytes,
                                                       const std::string& source)
{
    SentencePieceModelProto model;
    ProtoReader reader(bytes, source);
    Field f;
    while (reader.next(f)) {
        switch (f.number) {
        case 1:
            reader.asBytes(f, "ModelProto.pieces");
            model.pieces.push_back(parsePiece(reader.subMessage(f)));
            break;
        // A message field that occurs twice is merged, as protobuf does: parse into the same
        // struct so later scalars win.
        case 2:
            reader.asBytes(f, "ModelProto.trainer_spec");
            parseTrainerSpec(reader.subMessage(f), model.trainerSpec);
            break;
        case 3:
            reader.asBytes(f, "ModelProto.normalizer_spec");
            parseNormalizerSpec(reader.subMessage(f), model.normalizerSpec);
            break;
        case 5:
            reader.asBytes(f, "ModelProto.denormalizer_spec");
            parseNormalizerSpec(reader.subMessage(f), model.denormalizerSpec);
            break;
        default: break; // 4: self_test_data, and extensions
        }
    }
    return model;
}

} // namespace mpq
