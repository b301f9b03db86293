#include "tokenizer/SentencePieceTokenizer.h"

#include "core/Error.h"
#include "tokenizer/ByteTrie.h"
#include "tokenizer/PieceIndex.h"
#include "tokenizer/SentencePieceModelProto.h"
#include "tokenizer/SentencePieceNormalizer.h"
#include "tokenizer/Utf8.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cfloat>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

// The algorithms below follow sentencepiece 0.1.97 (normalizer.cc, bpe_model.cc,
// unigram_model.cc, sentencepiece_processor.cc) step by step, because the goal is identical ids,
// not merely a good segmentation: tie-breaking, the stale-pair test and the float types of the
// scores all matter. docs/tokenizer.md describes the algorithm.

namespace mpq {

namespace {

using Proto = SentencePieceModelProto;
using PieceType = Proto::PieceType;

/// U+2581 LOWER ONE EIGHTH BLOCK, which stands for a space inside pieces.
constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";
/// The library adds this to the lowest piece score to score an unknown character (unigram).
constexpr float kUnkPenalty = 10.0f;

/// "<0x41>" for 0x41: the piece that byte fallback uses for one byte (upper-case hex).
std::string bytePiece(uint8_t byte)
{
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "<0x%02X>", byte);
    return buffer;
}

/// The byte a byte piece stands for, or -1 when `piece` is not exactly "<0xXX>" (upper case).
int pieceToByte(std::string_view piece)
{
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>')
        return -1;
    int value = 0;
    for (const char c : piece.substr(3, 2)) {
        value <<= 4;
        if (c >= '0' && c <= '9')
            value |= c - '0';
        else if (c >= 'A' && c <= 'F')
            value |= c - 'A' + 10;
        else
            return -1;
    }
    return value;
}

/// The piece types an encoder may produce (the library's pieces_, as opposed to its
/// reserved_id_map_ of CONTROL, UNKNOWN and BYTE pieces).
bool isNormalType(PieceType type)
{
    return type == PieceType::Normal || type == PieceType::UserDefined ||
           type == PieceType::Unused;
}

[[noreturn]] void invalidModel(const std::string& path, const std::string& problem)
{
    throw Error("invalid SentencePiece model '" + path + "': " + problem);
}

std::string readWholeFile(const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw Error("cannot read SentencePiece model '" + path + "': it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open SentencePiece model '" + path + "': " + std::strerror(errno));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw Error("cannot read SentencePiece model '" + path + "'");
    return bytes;
}

} // namespace

/// One encoder output before ids are finalised: a piece of the normalized text and its id.
using EncodeResult = std::vector<std::pair<std::string_view, int32_t>>;

struct SentencePieceTokenizer::Model {
    std::string path;
    Proto proto;
    /// NORMAL, USER_DEFINED and UNUSED pieces: what the encoders may produce.
    PieceIndex pieceIds;
    /// CONTROL, UNKNOWN and BYTE pieces, looked up first (as the library's reserved_id_map_).
    PieceIndex reservedIds;
    int32_t unkId = -1;
    std::array<int32_t, 256> byteIds{};
    bool hasUnused = false;
    /// BPE: characters that occur in some piece of two or more characters; any other character
    /// can never be merged. ASCII in a table, the rest as packed UTF-8 bytes.
    std::array<bool, 128> mergeableAscii{};
    std::unordered_set<uint32_t> mergeableChars;
    ByteTrie userDefined; ///< user-defined symbols: matched whole, never split or normalized
    ByteTrie vocabulary;  ///< unigram only: every entry of pieceIds
    SentencePieceNormalizer normalizer;
    std::optional<SentencePieceNormalizer> denormalizer; ///< applied to decoded text, if any
    float minScore = FLT_MAX; ///< unigram only: over NORMAL pieces, as the library
    float maxScore = FLT_MIN; ///< (FLT_MIN, not -FLT_MAX: the library's choice)

    /// Per id, copied out of `proto.pieces` so that the merge loop touches small arrays.
    std::vector<float> scores;
    std::vector<PieceType> types;

    PieceType type(int32_t id) const { return types[static_cast<size_t>(id)]; }

    int32_t pieceToId(std::string_view piece) const
    {
        if (const int32_t id = reservedIds.find(piece); id >= 0)
            return id;
        if (const int32_t id = pieceIds.find(piece); id >= 0)
            return id;
        return unkId;
    }

    /// Bytes of the next symbol of `text`: a whole user-defined symbol if one starts here
    /// (`found` set), else one character judged from its lead byte (PrefixMatcher::PrefixMatch).
    size_t prefixMatch(std::string_view text, bool& found) const
    {
        found = false;
        if (!userDefined.empty()) {
            const size_t length = userDefined.longestPrefix(text);
            if (length > 0) {
                found = true;
                return length;
            }
        }
        return std::min(text.size(), utf8::oneCharLength(text[0]));
    }

    static uint32_t packChar(std::string_view c)
    {
        uint32_t packed = 0;
        for (const char b : c)
            packed = (packed << 8) | static_cast<uint8_t>(b);
        return packed;
    }

    /// Whether the character `c` occurs in a piece of two or more characters.
    bool isMergeable(std::string_view c) const
    {
        const auto lead = static_cast<uint8_t>(c[0]);
        if (c.size() == 1 && lead < 0x80)
            return mergeableAscii[lead];
        return c.size() <= 4 && mergeableChars.count(packChar(c)) > 0;
    }

    /// Fills mergeableAscii / mergeableChars from the pieces an encoder may produce.
    void indexMergeableChars()
    {
        for (const auto& sp : proto.pieces) {
            if (!isNormalType(sp.type))
                continue;
            const std::string_view piece = sp.piece;
            std::vector<std::string_view> chars;
            for (size_t pos = 0; pos < piece.size();) {
                const size_t length = std::min(piece.size() - pos, utf8::oneCharLength(piece[pos]));
                chars.push_back(piece.substr(pos, length));
                pos += length;
            }
            if (chars.size() < 2)
                continue;
            for (const std::string_view c : chars) {
                const auto lead = static_cast<uint8_t>(c[0]);
                if (c.size() == 1 && lead < 0x80)
                    mergeableAscii[lead] = true;
                else if (c.size() <= 4)
                    mergeableChars.insert(packChar(c));
            }
        }
    }

    EncodeResult encodeBpe(std::string_view normalized) const;
    EncodeResult encodeUnigram(std::string_view normalized) const;
    void populate(const EncodeResult& result, std::vector<int32_t>* ids,
                  std::vector<std::string>* pieces) const;
    void encode(std::string_view text, std::vector<int32_t>* ids,
                std::vector<std::string>* pieces) const;
    int32_t specialId(const std::string& piece, PieceType wanted) const
    {
        const int32_t id = pieceToId(piece);
        return id >= 0 && type(id) == wanted ? id : -1;
    }
};

EncodeResult SentencePieceTokenizer::Model::encodeBpe(std::string_view normalized) const
{
    // bpe::Model::SampleEncode with alpha = 0: greedy merges of the best-scoring adjacent pair.
    struct Symbol {
        int32_t prev;
        int32_t next;
        uint32_t begin;
        uint32_t size; // 0 once merged into its left neighbour
        bool freeze;   // a user-defined symbol: never merged
    };
    struct SymbolPair {
        float score;
        int32_t left;
        int32_t right;
        uint32_t size;
    };
    // Highest score first; among equal scores the leftmost pair.
    struct PairOrder {
        bool operator()(const SymbolPair& a, const SymbolPair& b) const
        {
            return a.score < b.score || (a.score == b.score && a.left > b.left);
        }
    };

    EncodeResult output;
    if (normalized.empty())
        return output;
    output.reserve(normalized.size() / 3);

    // Merged UNUSED piece -> the two symbols it was made of, to split it again at the end.
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> revMerge;

    // An UNUSED piece may only appear as an intermediate merge: split it back recursively.
    std::function<void(std::string_view)> resegmentUnused;
    const auto resegment = [&](std::string_view w) {
        const int32_t id = pieceToId(w);
        if (hasUnused && type(id) == PieceType::Unused)
            resegmentUnused(w);
        else
            output.emplace_back(w, id);
    };
    resegmentUnused = [&](std::string_view w) {
        const int32_t id = pieceToId(w);
        if (type(id) != PieceType::Unused) {
            output.emplace_back(w, id);
            return;
        }
        const auto it = revMerge.find(w);
        if (it == revMerge.end()) {
            output.emplace_back(w, id);
            return;
        }
        resegmentUnused(it->second.first);
        resegmentUnused(it->second.second);
    };

    std::vector<Symbol> symbols;
    std::vector<SymbolPair> heap;
    const PairOrder order;
    const auto text = [&](const Symbol& s) { return normalized.substr(s.begin, s.size); };

    const auto maybeAddPair = [&](int32_t left, int32_t right) {
        if (left == -1 || right == -1 || symbols[left].freeze || symbols[right].freeze)
            return;
        const std::string_view merged =
            normalized.substr(symbols[left].begin, symbols[left].size + symbols[right].size);
        const int32_t id = pieceIds.find(merged);
        if (id < 0)
            return;
        heap.push_back({scores[static_cast<size_t>(id)], left, right,
                        static_cast<uint32_t>(merged.size())});
        std::push_heap(heap.begin(), heap.end(), order);
        if (hasUnused && type(id) == PieceType::Unused)
            revMerge[merged] = {text(symbols[left]), text(symbols[right])};
    };

    // Runs the merges on the symbols collected so far, emits the result and starts afresh.
    const auto mergeSegment = [&] {
        if (symbols.empty())
            return;
        symbols.back().next = -1;
        heap.clear();
        for (size_t i = 1; i < symbols.size(); ++i)
            maybeAddPair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), order);
            const SymbolPair top = heap.back();
            heap.pop_back();
            Symbol& left = symbols[top.left];
            Symbol& right = symbols[top.right];
            // A pair goes stale when either side has been merged since it was queued; symbols
            // only grow, so a changed total size detects it.
            if (left.size == 0 || right.size == 0 || left.size + right.size != top.size)
                continue;
            left.size += right.size;
            left.next = right.next;
            if (right.next >= 0)
                symbols[right.next].prev = top.left;
            right.size = 0;
            maybeAddPair(left.prev, top.left);
            maybeAddPair(top.left, left.next);
        }

        for (int32_t index = 0; index != -1; index = symbols[index].next)
            resegment(text(symbols[index]));
        symbols.clear();
    };

    // The library merges over the whole text at once. A symbol that can never take part in a
    // merge (a user-defined symbol, or a character that occurs in no multi-character piece,
    // such as "\n" in LLaMA's vocabulary) separates the text into parts whose merges cannot
    // interact, and the order of merges inside each part is the same as in the whole; so
    // merging part by part gives the same pieces with small, cache-friendly queues. Not with
    // UNUSED pieces: their resegmentation map is shared by the whole text.
    const bool splitAtIsolated = !hasUnused;
    for (size_t pos = 0; pos < normalized.size();) {
        bool found = false;
        const size_t length = prefixMatch(normalized.substr(pos), found);
        const std::string_view symbol = normalized.substr(pos, length);
        if (splitAtIsolated && (found || !isMergeable(symbol))) {
            mergeSegment();
            resegment(symbol);
        } else {
            const auto index = static_cast<int32_t>(symbols.size());
            symbols.push_back({index - 1, index + 1, static_cast<uint32_t>(pos),
                               static_cast<uint32_t>(length), found});
        }
        pos += length;
    }
    mergeSegment();
    return output;
}

EncodeResult SentencePieceTokenizer::Model::encodeUnigram(std::string_view normalized) const
{
    // unigram::Model::EncodeOptimized: Viterbi over byte positions, the best path ending at each
    // position kept as (score, start, id). The types follow the library: the user-defined bonus
    // is computed in double, path scores are stored as float.
    struct BestPathNode {
        int32_t id = -1;
        float bestPathScore = 0;
        int64_t startsAt = -1;
    };
    EncodeResult results;
    if (normalized.empty())
        return results;

    const size_t size = normalized.size();
    const float unkScore = minScore - kUnkPenalty;
    std::vector<BestPathNode> bestPathEndsAt(size + 1);

    size_t startsAt = 0;
    while (startsAt < size) {
        const float scoreTillHere = bestPathEndsAt[startsAt].bestPathScore;
        bool hasSingleNode = false;
        const size_t charLength =
            std::min(utf8::oneCharLength(normalized[startsAt]), size - startsAt);
        vocabulary.forEachPrefix(normalized.substr(startsAt), [&](size_t length, int32_t id) {
            if (type(id) == PieceType::Unused)
                return;
            BestPathNode& target = bestPathEndsAt[startsAt + length];
            const double score = type(id) == PieceType::UserDefined
                                     ? static_cast<double>(length * maxScore) - 0.1
                                     : static_cast<double>(scores[static_cast<size_t>(id)]);
            const double candidate = score + scoreTillHere;
            if (target.startsAt == -1 || candidate > target.bestPathScore) {
                target.bestPathScore = static_cast<float>(candidate);
                target.startsAt = static_cast<int64_t>(startsAt);
                target.id = id;
            }
            if (length == charLength)
                hasSingleNode = true;
        });
        if (!hasSingleNode) {
            BestPathNode& target = bestPathEndsAt[startsAt + charLength];
            const float candidate = unkScore + scoreTillHere;
            if (target.startsAt == -1 || candidate > target.bestPathScore) {
                target.bestPathScore = candidate;
                target.startsAt = static_cast<int64_t>(startsAt);
                target.id = unkId;
            }
        }
        startsAt += charLength;
    }

    for (size_t endsAt = size; endsAt > 0;) {
        const BestPathNode& node = bestPathEndsAt[endsAt];
        const auto begin = static_cast<size_t>(node.startsAt);
        results.emplace_back(normalized.substr(begin, endsAt - begin), node.id);
        endsAt = begin;
    }
    std::reverse(results.begin(), results.end());
    return results;
}

void SentencePieceTokenizer::Model::populate(const EncodeResult& result,
                                             std::vector<int32_t>* ids,
                                             std::vector<std::string>* pieces) const
{
    // SentencePieceProcessor::PopulateSentencePieceText, keeping only ids and pieces.
    const bool byteFallback = proto.trainerSpec.byteFallback;
    bool isPrevUnk = false;
    for (const auto& [w, id] : result) {
        const bool isUnk = type(id) == PieceType::Unknown;
        if (type(id) == PieceType::Control) {
            if (ids)
                ids->push_back(id);
            if (pieces)
                pieces->emplace_back(w);
        } else if (isUnk && byteFallback) {
            // An unknown piece is spelled out as its UTF-8 bytes.
            for (const char c : w) {
                const auto byte = static_cast<uint8_t>(c);
                if (ids)
                    ids->push_back(byteIds[byte]);
                if (pieces)
                    pieces->push_back(bytePiece(byte));
            }
        } else if (isPrevUnk && isUnk) {
            // A run of unknown pieces becomes one <unk>.
            if (pieces)
                pieces->back().append(w);
        } else {
            if (ids)
                ids->push_back(id);
            if (pieces)
                pieces->emplace_back(w);
        }
        isPrevUnk = isUnk;
    }
}

void SentencePieceTokenizer::Model::encode(std::string_view text, std::vector<int32_t>* ids,
                                           std::vector<std::string>* pieces) const
{
    if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) / 4)
        throw Error("SentencePieceTokenizer: text of " + std::to_string(text.size()) +
                    " bytes is too long to encode at once; split it");
    const std::string normalized = normalizer.normalize(text);
    const EncodeResult result = proto.trainerSpec.modelType == Proto::ModelType::Bpe
                                    ? encodeBpe(normalized)
                                    : encodeUnigram(normalized);
    populate(result, ids, pieces);
}

SentencePieceTokenizer::SentencePieceTokenizer(std::shared_ptr<const Model> model)
    : m_model(std::move(model))
{
}

SentencePieceTokenizer SentencePieceTokenizer::load(const std::string& modelPath)
{
    auto model = std::make_shared<Model>();
    model->path = modelPath;
    const std::string bytes = readWholeFile(modelPath);
    if (bytes.empty())
        invalidModel(modelPath, "the file is empty");
    model->proto = Proto::parse(bytes, "invalid SentencePiece model '" + modelPath + "'");
    const Proto& proto = model->proto;
    if (proto.pieces.empty())
        invalidModel(modelPath, "it has no pieces (is it a SentencePiece .model file?)");
    // The trainer spec follows the pieces in every file the trainer writes, so a file cut
    // short at a field boundary parses but loses it; say so rather than only what then fails.
    const std::string hint =
        proto.trainerSpec.present ? "" : " (the file has no trainer_spec: is it truncated?)";
    const auto fail = [&](const std::string& problem) {
        invalidModel(modelPath, problem + hint);
    };

    switch (proto.trainerSpec.modelType) {
    case Proto::ModelType::Bpe:
    case Proto::ModelType::Unigram: break;
    case Proto::ModelType::Word:
        invalidModel(modelPath, "WORD models are not supported (only BPE and unigram)");
    case Proto::ModelType::Char:
        invalidModel(modelPath, "CHAR models are not supported (only BPE and unigram)");
    }

    for (const auto& sp : proto.pieces) {
        model->scores.push_back(sp.score);
        model->types.push_back(sp.type);
    }

    // ModelInterface::InitializePieces: the same checks, in the same order.
    std::array<bool, 256> byteFound{};
    for (size_t i = 0; i < proto.pieces.size(); ++i) {
        const auto& sp = proto.pieces[i];
        const auto id = static_cast<int32_t>(i);
        if (sp.piece.empty())
            fail("piece " + std::to_string(i) + " is empty");
        auto& map = isNormalType(sp.type) ? model->pieceIds : model->reservedIds;
        if (!map.insert(sp.piece, id))
            fail("piece '" + sp.piece + "' is defined twice");
        if (sp.type == PieceType::UserDefined)
            model->userDefined.insert(sp.piece, id);
        if (sp.type == PieceType::Unused)
            model->hasUnused = true;
        if (sp.type == PieceType::Unknown) {
            if (model->unkId >= 0)
                fail("more than one piece has type UNKNOWN");
            model->unkId = id;
        }
        if (sp.type == PieceType::Byte) {
            if (!proto.trainerSpec.byteFallback)
                fail("byte piece '" + sp.piece + "' found although byte_fallback is off");
            const int byte = pieceToByte(sp.piece);
            if (byte < 0)
                fail("byte piece '" + sp.piece + "' is not of the form <0xXX>");
            byteFound[static_cast<size_t>(byte)] = true;
        }
    }
    if (model->unkId < 0)
        fail("no piece has type UNKNOWN (<unk>)");
    if (proto.trainerSpec.byteFallback) {
        for (int b = 0; b < 256; ++b) {
            if (!byteFound[static_cast<size_t>(b)])
                fail("byte_fallback is on but byte piece " + bytePiece(static_cast<uint8_t>(b)) +
                     " is missing");
            model->byteIds[static_cast<size_t>(b)] =
                model->pieceToId(bytePiece(static_cast<uint8_t>(b)));
        }
    }

    // The user-defined symbols pass the normalizer untouched (SetPrefixMatcher in the library).
    const std::string source = "invalid SentencePiece model '" + modelPath + "'";
    model->normalizer = SentencePieceNormalizer(proto.normalizerSpec,
                                                proto.trainerSpec.treatWhitespaceAsSuffix,
                                                &model->userDefined, source);
    if (!proto.denormalizerSpec.precompiledCharsmap.empty())
        model->denormalizer.emplace(proto.denormalizerSpec, false, nullptr, source);

    if (proto.trainerSpec.modelType == Proto::ModelType::Bpe)
        model->indexMergeableChars();
    if (proto.trainerSpec.modelType == Proto::ModelType::Unigram) {
        for (size_t i = 0; i < proto.pieces.size(); ++i)
            if (isNormalType(proto.pieces[i].type))
                model->vocabulary.insert(proto.pieces[i].piece, static_cast<int32_t>(i));
        for (const auto& sp : proto.pieces) {
            if (sp.type == PieceType::Normal) {
                model->minScore = std::min(model->minScore, sp.score);
                model->maxScore = std::max(model->maxScore, sp.score);
            }
        }
    }
    return SentencePieceTokenizer(std::move(model));
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text) const
{
    std::vector<int32_t> ids;
    m_model->encode(text, &ids, nullptr);
    return ids;
}

std::vector<std::string> SentencePieceTokenizer::encodeAsPieces(std::string_view text) const
{
    std::vector<std::string> pieces;
    m_model->encode(text, nullptr, &pieces);
    return pieces;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const
{
    // SentencePieceProcessor::Decode as in 0.1.97.
    const Model& m = *m_model;
    const auto& trainer = m.proto.trainerSpec;
    const auto& normalizerSpec = m.proto.normalizerSpec;
    const std::string& unkSurface = trainer.unkSurface;
    const bool stripBosSpace =
        normalizerSpec.addDummyPrefix || normalizerSpec.removeExtraWhitespaces;

    std::string text;
    std::string bytes; // a pending run of byte pieces
    // The dummy prefix: the first piece may lose one leading U+2581. Once that has happened,
    // or anything has been written, no later piece loses its space.
    bool isBosWs = true;
    bool bosWsSeen = false;

    const auto flushBytes = [&] {
        for (size_t offset = 0; offset < bytes.size();) {
            const size_t length = utf8::validCharLength(std::string_view(bytes).substr(offset));
            if (length == 0) {
                text.append(utf8::kReplacementChar);
                offset += 1;
            } else {
                text.append(bytes, offset, length);
                offset += length;
            }
        }
        bytes.clear();
    };

    for (const int32_t rawId : ids) {
        const std::string& w = piece(rawId);
        // The library decodes pieces, so it looks each id up again from its piece.
        const int32_t id = m.pieceToId(w);
        const PieceType type = m.type(id);
        if (type == PieceType::Byte) {
            bytes.push_back(static_cast<char>(pieceToByte(w)));
            continue;
        }
        flushBytes();
        if (bosWsSeen || !text.empty())
            isBosWs = false;
        bosWsSeen = false;
        if (type == PieceType::Control)
            continue;
        if (type == PieceType::Unknown) {
            text.append(m.proto.pieces[static_cast<size_t>(id)].piece == w ? unkSurface : w);
            continue;
        }
        std::string_view sv(w);
        if (isBosWs && stripBosSpace && sv.substr(0, kSpaceSymbol.size()) == kSpaceSymbol) {
            sv.remove_prefix(kSpaceSymbol.size());
            // With remove_extra_whitespaces every leading space goes, so keep stripping.
            bosWsSeen = !normalizerSpec.removeExtraWhitespaces;
        }
        for (size_t pos = 0; pos < sv.size();) {
            if (sv.compare(pos, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
                text.push_back(' ');
                pos += kSpaceSymbol.size();
            } else {
                text.push_back(sv[pos]);
                pos += 1;
            }
        }
    }
    flushBytes();
    if (m.denormalizer)
        return m.denormalizer->normalize(text);
    return text;
}

int32_t SentencePieceTokenizer::bosId() const
{
    return m_model->specialId(m_model->proto.trainerSpec.bosPiece, PieceType::Control);
}

int32_t SentencePieceTokenizer::eosId() const
{
    return m_model->specialId(m_model->proto.trainerSpec.eosPiece, PieceType::Control);
}

int32_t SentencePieceTokenizer::unkId() const
{
    return m_model->specialId(m_model->proto.trainerSpec.unkPiece, PieceType::Unknown);
}

int32_t SentencePieceTokenizer::padId() const
{
    return m_model->specialId(m_model->proto.trainerSpec.padPiece, PieceType::Control);
}

int32_t SentencePieceTokenizer::vocabSize() const
{
    return static_cast<int32_t>(m_model->proto.pieces.size());
}

const std::string& SentencePieceTokenizer::piece(int32_t id) const
{
    if (id < 0 || id >= vocabSize())
        throw Error("token id " + std::to_string(id) + " is outside the vocabulary of '" +
                    m_model->path + "' (" + std::to_string(vocabSize()) + " pieces)");
    return m_model->proto.pieces[static_cast<size_t>(id)].piece;
}

int32_t SentencePieceTokenizer::pieceToId(std::string_view piece) const
{
    return m_model->pieceToId(piece);
}

std::string SentencePieceTokenizer::modelType() const
{
    return m_model->proto.trainerSpec.modelType == Proto::ModelType::Bpe ? "bpe" : "unigram";
}

const std::string& SentencePieceTokenizer::path() const { return m_model->path; }

} // namespace mpq
