// spm_reference: the real SentencePiece library (Debian's libsentencepiece) as an independent
// reference for tst_tokenizer. It links libsentencepiece only (never LibTorch or the engine:
// their protobuf versions cannot share one process).
//
//   spm_reference MODEL INPUT OUTPUT
//       Encodes the whole of INPUT as one string with EncodeAsIds; writes the ids to OUTPUT as
//       little-endian int32.
//   spm_reference --batch MODEL INPUT OUTPUT
//       INPUT holds records [uint32 length][bytes]; each is encoded on its own. OUTPUT holds,
//       per record, [uint32 count][count x int32].
//   spm_reference --decode MODEL INPUT OUTPUT
//       INPUT holds records [uint32 count][count x int32]; each is decoded with DecodeIds.
//       OUTPUT holds, per record, [uint32 length][bytes].
//   spm_reference --info MODEL OUTPUT
//       Writes "vocab_size N", "bos N", "eos N", "unk N", "pad N", one per line.
//   spm_reference --train ARGS
//       Trains a model with SentencePieceTrainer::Train(ARGS), e.g.
//       "--input=t.txt --model_prefix=m --vocab_size=300 --model_type=unigram"
//       (only when built with libsentencepiece_train).
//
// All integers are little-endian. Exit status 0 on success, 1 with a message on stderr.

#include <sentencepiece_processor.h>
#ifdef MPQ_SPM_HAVE_TRAINER
#include <sentencepiece_trainer.h>
#endif

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open " + path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

void putU32(std::string& out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t getU32(const std::string& in, size_t& pos)
{
    if (in.size() - pos < 4)
        throw std::runtime_error("truncated record");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
    pos += 4;
    return v;
}

void putIds(std::string& out, const std::vector<int>& ids)
{
    for (const int id : ids)
        putU32(out, static_cast<uint32_t>(id));
}

void load(sentencepiece::SentencePieceProcessor& sp, const std::string& model)
{
    const auto status = sp.Load(model);
    if (!status.ok())
        throw std::runtime_error("cannot load " + model + ": " + status.ToString());
}

std::vector<int> encode(const sentencepiece::SentencePieceProcessor& sp, const std::string& text)
{
    std::vector<int> ids;
    const auto status = sp.Encode(text, &ids);
    if (!status.ok())
        throw std::runtime_error("Encode failed: " + status.ToString());
    return ids;
}

int run(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    sentencepiece::SentencePieceProcessor sp;
    if (mode == "--batch" && argc == 5) {
        load(sp, argv[2]);
        const std::string in = readFile(argv[3]);
        std::string out;
        for (size_t pos = 0; pos < in.size();) {
            const uint32_t length = getU32(in, pos);
            if (in.size() - pos < length)
                throw std::runtime_error("truncated record");
            const std::vector<int> ids = encode(sp, in.substr(pos, length));
            pos += length;
            putU32(out, static_cast<uint32_t>(ids.size()));
            putIds(out, ids);
        }
        writeFile(argv[4], out);
    } else if (mode == "--decode" && argc == 5) {
        load(sp, argv[2]);
        const std::string in = readFile(argv[3]);
        std::string out;
        for (size_t pos = 0; pos < in.size();) {
            const uint32_t count = getU32(in, pos);
            std::vector<int> ids;
            for (uint32_t i = 0; i < count; ++i)
                ids.push_back(static_cast<int>(getU32(in, pos)));
            std::string text;
            const auto status = sp.Decode(ids, &text);
            if (!status.ok())
                throw std::runtime_error("Decode failed: " + status.ToString());
            putU32(out, static_cast<uint32_t>(text.size()));
            out += text;
        }
        writeFile(argv[4], out);
    } else if (mode == "--info" && argc == 4) {
        load(sp, argv[2]);
        const std::string out = "vocab_size " + std::to_string(sp.GetPieceSize()) + "\nbos " +
                                std::to_string(sp.bos_id()) + "\neos " +
                                std::to_string(sp.eos_id()) + "\nunk " +
                                std::to_string(sp.unk_id()) + "\npad " +
                                std::to_string(sp.pad_id()) + "\n";
        writeFile(argv[3], out);
    } else if (mode == "--train" && argc == 3) {
#ifdef MPQ_SPM_HAVE_TRAINER
        const auto status = sentencepiece::SentencePieceTrainer::Train(argv[2]);
        if (!status.ok())
            throw std::runtime_error("Train failed: " + status.ToString());
#else
        throw std::runtime_error("built without libsentencepiece_train");
#endif
    } else if (argc == 4 && mode.rfind("--", 0) != 0) {
        load(sp, argv[1]);
        std::string out;
        putIds(out, encode(sp, readFile(argv[2])));
        writeFile(argv[3], out);
    } else {
        std::cerr << "usage: spm_reference MODEL INPUT OUTPUT\n"
                     "       spm_reference --batch|--decode MODEL INPUT OUTPUT\n"
                     "       spm_reference --info MODEL OUTPUT\n"
                     "       spm_reference --train TRAINER_ARGS\n";
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "spm_reference: " << e.what() << "\n";
        return 1;
    }
}
