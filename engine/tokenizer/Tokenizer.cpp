#include "tokenizer/Tokenizer.h"

#include "core/Error.h"
#include "core/Files.h"
#include "session/detail/Sha256.h"
#include "tokenizer/HfTokenizer.h"
#include "tokenizer/SentencePieceTokenizer.h"

#include <nlohmann/json.hpp>

namespace mpq {

namespace {

/// A SentencePiece model behind the Tokenizer interface. encodeForModel() is what the callers
/// did before the interface existed: BOS (the model's BOS piece, else the caller's fallback)
/// then EncodeAsIds; tokenizer_config.json beside the file may turn BOS off (add_bos_token) or
/// EOS on (add_eos_token), as transformers' LlamaTokenizer reads them.
class SentencePieceAdapter final : public Tokenizer {
public:
    SentencePieceAdapter(SentencePieceTokenizer sp, const TokenizerOptions& options)
        : m_sp(std::move(sp))
    {
        m_bos = m_sp.bosId() >= 0 ? m_sp.bosId() : options.fallbackBosId;
        const std::string config = files::join(files::parent(m_sp.path()), "tokenizer_config.json");
        if (files::exists(config)) {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(files::readAll(config));
            } catch (const nlohmann::json::exception& e) {
                throw Error(config + ": not valid JSON (" + e.what() + ")");
            }
            if (j.is_object() && j.contains("add_bos_token") && j.at("add_bos_token").is_boolean())
                m_addBos = j.at("add_bos_token").get<bool>();
            if (j.is_object() && j.contains("add_eos_token") && j.at("add_eos_token").is_boolean())
                m_addEos = j.at("add_eos_token").get<bool>();
        }
        if (m_addEos && m_sp.eosId() < 0)
            throw Error(config + ": add_eos_token is set but " + m_sp.path() + " has no EOS piece");
    }

    std::vector<int32_t> encode(std::string_view text) const override { return m_sp.encode(text); }

    std::vector<int32_t> encodeForModel(std::string_view text) const override
    {
        std::vector<int32_t> ids;
        if (m_addBos && m_bos >= 0)
            ids.push_back(m_bos);
        const std::vector<int32_t> body = m_sp.encode(text);
        ids.insert(ids.end(), body.begin(), body.end());
        if (m_addEos)
            ids.push_back(m_sp.eosId());
        return ids;
    }

    std::string decode(const std::vector<int32_t>& ids) const override { return m_sp.decode(ids); }
    int32_t vocabSize() const override { return m_sp.vocabSize(); }
    int32_t bosId() const override { return m_bos; }
    int32_t eosId() const override { return m_sp.eosId(); }
    std::string kind() const override { return "sentencepiece-" + m_sp.modelType(); }
    const std::string& path() const override { return m_sp.path(); }

private:
    SentencePieceTokenizer m_sp;
    int32_t m_bos = -1;
    bool m_addBos = true;
    bool m_addEos = false;
};

} // namespace

std::shared_ptr<const Tokenizer> openTokenizer(const std::string& path, const TokenizerOptions& options)
{
    if (!files::exists(path))
        throw Error(path + ": tokenizer file does not exist");
    if (files::isDirectory(path))
        throw Error(path + ": is a folder; give its tokenizer.json or tokenizer.model");
    // A tokenizer.json is JSON (named .json, or starting with '{' or '['); a SentencePiece
    // model is a protobuf, which never starts so (its first byte is field 1's tag, 0x0A).
    std::string head(64, '\0');
    const uint64_t n = std::min<uint64_t>(files::size(path), head.size());
    head.resize(size_t(n));
    if (n > 0)
        files::readAt(path, 0, n, head.data());
    const size_t first = head.find_first_not_of(" \t\r\n");
    const bool jsonName = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    if (jsonName || (first != std::string::npos && (head[first] == '{' || head[first] == '[')))
        return HfTokenizer::load(path);
    return std::make_shared<SentencePieceAdapter>(SentencePieceTokenizer::load(path), options);
}

std::string tokenIdsSha256(const std::vector<int32_t>& ids)
{
    std::string bytes(ids.size() * 4, '\0');
    for (size_t i = 0; i < ids.size(); ++i) {
        const auto v = static_cast<uint32_t>(ids[i]);
        for (int k = 0; k < 4; ++k)
            bytes[i * 4 + size_t(k)] = static_cast<char>((v >> (8 * k)) & 0xFF);
    }
    return session::detail::sha256(bytes);
}

} // namespace mpq
