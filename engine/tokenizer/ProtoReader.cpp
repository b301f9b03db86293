#include "tokenizer/ProtoReader.h"

#include "core/Error.h"

#include <cstring>

namespace mpq {

namespace {

const char* wireTypeName(ProtoReader::WireType type)
{
    switch (type) {
    case ProtoReader::WireType::Varint: return "varint";
    case ProtoReader::WireType::Fixed64: return "fixed64";
    case ProtoReader::WireType::LengthDelimited: return "length-delimited";
    case ProtoReader::WireType::Fixed32: return "fixed32";
    }
    return "unknown";
}

} // namespace

ProtoReader::ProtoReader(std::string_view buffer, std::string source, size_t baseOffset)
    : m_buffer(buffer), m_source(std::move(source)), m_baseOffset(baseOffset)
{
}

void ProtoReader::fail(const std::string& problem, size_t offset) const
{
    throw Error(m_source + ": corrupt or truncated protobuf: " + problem + " at byte " +
                std::to_string(offset));
}

uint64_t ProtoReader::readVarint()
{
    const size_t start = m_pos;
    uint64_t value = 0;
    // A 64-bit varint has at most 10 bytes; the tenth may only carry the top bit.
    for (int shift = 0; shift < 70; shift += 7) {
        if (m_pos >= m_buffer.size())
            fail("truncated varint", m_baseOffset + start);
        const auto byte = static_cast<uint8_t>(m_buffer[m_pos++]);
        if (shift == 63 && byte > 1)
            fail("varint overflows 64 bits", m_baseOffset + start);
        value |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0)
            return value;
    }
    fail("varint longer than 10 bytes", m_baseOffset + start);
}

bool ProtoReader::next(Field& field)
{
    if (m_pos >= m_buffer.size())
        return false;
    field = Field{};
    field.offset = m_baseOffset + m_pos;
    const uint64_t key = readVarint();
    const uint64_t number = key >> 3;
    if (number == 0 || number > 0x1fffffff)
        fail("invalid field number " + std::to_string(number), field.offset);
    field.number = static_cast<uint32_t>(number);

    const auto needBytes = [&](uint64_t n, const char* what) {
        // Compare against what is left, never form m_pos + n (n may be huge).
        if (n > m_buffer.size() - m_pos)
            fail(std::string("truncated ") + what + " (field " + std::to_string(number) +
                     ", needs " + std::to_string(n) + " bytes, " +
                     std::to_string(m_buffer.size() - m_pos) + " left)",
                 field.offset);
    };

    switch (key & 7) {
    case 0:
        field.wireType = WireType::Varint;
        field.varint = readVarint();
        break;
    case 1: {
        field.wireType = WireType::Fixed64;
        needBytes(8, "fixed64");
        uint64_t v = 0;
        for (int i = 7; i >= 0; --i)
            v = (v << 8) | static_cast<uint8_t>(m_buffer[m_pos + i]);
        field.varint = v;
        m_pos += 8;
        break;
    }
    case 2: {
        field.wireType = WireType::LengthDelimited;
        const uint64_t length = readVarint();
        needBytes(length, "length-delimited field");
        field.bytes = m_buffer.substr(m_pos, static_cast<size_t>(length));
        m_pos += static_cast<size_t>(length);
        break;
    }
    case 5: {
        field.wireType = WireType::Fixed32;
        needBytes(4, "fixed32");
        uint32_t v = 0;
        for (int i = 3; i >= 0; --i)
            v = (v << 8) | static_cast<uint8_t>(m_buffer[m_pos + i]);
        field.varint = v;
        m_pos += 4;
        break;
    }
    default:
        fail("unsupported wire type " + std::to_string(key & 7) + " (field " +
                 std::to_string(number) + ")",
             field.offset);
    }
    return true;
}

ProtoReader ProtoReader::subMessage(const Field& field) const
{
    expectWireType(field, WireType::LengthDelimited, "sub-message");
    const size_t payloadOffset =
        m_baseOffset + static_cast<size_t>(field.bytes.data() - m_buffer.data());
    return ProtoReader(field.bytes, m_source, payloadOffset);
}

void ProtoReader::expectWireType(const Field& field, WireType type, const char* what) const
{
    if (field.wireType != type)
        fail(std::string(what) + " (field " + std::to_string(field.number) + ") is " +
                 wireTypeName(field.wireType) + ", expected " + wireTypeName(type),
             field.offset);
}

bool ProtoReader::asBool(const Field& field, const char* what) const
{
    expectWireType(field, WireType::Varint, what);
    return field.varint != 0;
}

int32_t ProtoReader::asInt32(const Field& field, const char* what) const
{
    expectWireType(field, WireType::Varint, what);
    // Negative int32 values are sign-extended to 64 bits on the wire; protobuf truncates.
    return static_cast<int32_t>(static_cast<uint32_t>(field.varint));
}

float ProtoReader::asFloat(const Field& field, const char* what) const
{
    expectWireType(field, WireType::Fixed32, what);
    const auto bits = static_cast<uint32_t>(field.varint);
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

std::string_view ProtoReader::asBytes(const Field& field, const char* what) const
{
    expectWireType(field, WireType::LengthDelimited, what);
    return field.bytes;
}

} // namespace mpq
