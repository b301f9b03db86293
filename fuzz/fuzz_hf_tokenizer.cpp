// Fuzz target: a Hugging Face tokenizer.json (JSON, then HfTokenizer::load's checks of the model,
// vocabulary, merges, added tokens, normalizer, pre-tokenizer, post-processor and decoder); a
// tokenizer that loads also encodes (with and without the post-processor) and decodes a fixed
// multilingual text, which runs its regular expressions, normalizers and merges.
#include "FuzzSupport.h"

#include "core/Error.h"
#include "tokenizer/HfTokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string file = mpq::fuzz::writeScratch("tokenizer.json", data, size);
    try {
        const auto tok = mpq::HfTokenizer::load(file);
        const char* text = "Once upon a time,  a caf\xc3\xa9 \xef\xbc\xa1 <s> \xf0\x9f\x98\x80\tend\n 123 don't";
        const auto ids = tok->encode(text);
        tok->decode(ids);
        tok->decode(tok->encodeForModel(text));
    } catch (const mpq::Error&) {
    }
    return 0;
}
