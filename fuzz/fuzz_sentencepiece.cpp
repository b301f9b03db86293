// Fuzz target: a SentencePiece tokenizer.model (protobuf through ProtoReader, then
// SentencePieceTokenizer::load's checks); a model that loads also encodes and decodes a fixed
// text, which runs its normalizer (precompiled character map) and its pieces.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "tokenizer/SentencePieceTokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string file = mpq::fuzz::writeScratch("tokenizer.model", data, size);
    try {
        const auto tok = mpq::SentencePieceTokenizer::load(file);
        const auto ids = tok.encode("Once upon a time,  a caf\xc3\xa9 \xef\xbc\xa1 <s> \xf0\x9f\x98\x80\tend\n");
        tok.decode(ids);
    } catch (const mpq::Error&) {
    }
    return 0;
}
