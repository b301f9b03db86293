#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mpq {

/// A small reader of the protobuf wire format (varint, fixed64, length-delimited, fixed32),
/// enough to parse a SentencePiece ModelProto without linking libprotobuf.
///
/// It walks the fields of one message in order. Every length is checked against the buffer;
/// a truncated or malformed buffer throws mpq::Error naming `source` (the file) and the byte
/// offset, never reads out of bounds. Groups (wire types 3 and 4) are rejected: no
/// SentencePiece message uses them.
///
/// The reader does not own the buffer: it must outlive the reader and every Field it returns.
class ProtoReader {
public:
    enum class WireType : uint8_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

    /// One field as it appears on the wire. Only the member matching `wireType` is meaningful.
    struct Field {
        uint32_t number = 0;
        WireType wireType = WireType::Varint;
        uint64_t varint = 0;     ///< Varint, and Fixed32/Fixed64 raw bits
        std::string_view bytes;  ///< LengthDelimited payload (a string, bytes or a sub-message)
        size_t offset = 0;       ///< where the field's key starts, from the start of the file
    };

    /// Reads the message in `buffer`. `source` names the file in error messages; `baseOffset` is
    /// where `buffer` starts inside that file (for nested messages), so offsets in errors are
    /// file offsets.
    ProtoReader(std::string_view buffer, std::string source, size_t baseOffset = 0);

    /// Reads the next field into `field`. Returns false at the end of the message.
    /// Throws mpq::Error on a corrupt or truncated buffer.
    bool next(Field& field);

    /// A reader over the sub-message held by a LengthDelimited field.
    ProtoReader subMessage(const Field& field) const;

    /// Typed views of a field; each throws mpq::Error when the wire type does not fit, naming
    /// `what` (e.g. "TrainerSpec.byte_fallback").
    bool asBool(const Field& field, const char* what) const;
    int32_t asInt32(const Field& field, const char* what) const;
    float asFloat(const Field& field, const char* what) const;
    std::string_view asBytes(const Field& field, const char* what) const;

    /// Throws mpq::Error "<source>: <problem> at byte <offset>".
    [[noreturn]] void fail(const std::string& problem, size_t offset) const;

private:
    uint64_t readVarint();
    void expectWireType(const Field& field, WireType type, const char* what) const;

    std::string_view m_buffer;
    std::string m_source;
    size_t m_baseOffset = 0;
    size_t m_pos = 0;
};

} // namespace mpq
