// The Hugging Face tokenizer.json tokenizer (HfTokenizer) and the Tokenizer interface, against
// reference ids from independent implementations: transformers.js (committed, from
// bench/reference/tokenizer_reference.mjs) and, where the lead has run it on the GPU machine,
// Hugging Face `tokenizers` itself (bench/reference/tokenizer_reference.py). Token for token on
// the edge cases; count + sha256 (+ first ids) on whole WikiText-2, C4 documents and TinyStories.
// Also: bad files give one clear error, the SentencePiece wrapper keeps today's BOS behaviour,
// tokenizer_config.json overrides, invalid UTF-8, threads.

#include "TestData.h"

#include "core/Error.h"
#include "tokenizer/HfTokenizer.h"
#include "tokenizer/SentencePieceTokenizer.h"
#include "tokenizer/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <future>
#include <string>
#include <vector>

namespace {

using Ids = std::vector<int32_t>;
using json = nlohmann::json;

const QString kTestData = QStringLiteral(MPQ_TOKENIZER_TEST_DATA);

std::string readFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    return std::string(bytes.constData(), size_t(bytes.size()));
}

bool writeFile(const QString& path, const std::string& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           f.write(bytes.data(), qint64(bytes.size())) == qint64(bytes.size());
}

QString idsText(const Ids& ids, const mpq::HfTokenizer& tok)
{
    QStringList parts;
    for (int32_t id : ids)
        parts << QStringLiteral("%1(%2)").arg(id).arg(QString::fromStdString(tok.idToToken(id)));
    return parts.join(' ');
}

/// Where a reference file's tokenizer lives: the tiny ones in tests/data/tokenizer, the real
/// ones in the shared data. Empty with `skip` set when the shared data is not configured.
struct TokenizerLocation {
    std::string path;
    QString skip;
    QString fail;
};

TokenizerLocation locate(const std::string& name)
{
    TokenizerLocation loc;
    const QString local = QDir(kTestData).filePath(QString::fromStdString(name) + "/tokenizer.json");
    if (QFile::exists(local)) {
        loc.path = local.toStdString();
        return loc;
    }
    const std::string rel = "tokenizers/" + name + "/tokenizer.json";
    const auto lookup = mpq::test::lookupData(rel.c_str());
    if (lookup.status == mpq::test::DataLookup::Skip)
        loc.skip = lookup.message;
    else if (lookup.status == mpq::test::DataLookup::Fail)
        loc.fail = lookup.message;
    else
        loc.path = lookup.path;
    return loc;
}

QStringList referenceFiles()
{
    return QDir(kTestData).entryList({"*.transformersjs.json", "*.hf-tokenizers.json"}, QDir::Files, QDir::Name);
}

std::string sha256Of(const Ids& ids) { return mpq::tokenIdsSha256(ids); }

/// Expects `f` to throw mpq::Error whose message contains every one of `parts`.
template <class F>
void expectError(F&& f, const QStringList& parts)
{
    try {
        f();
    } catch (const mpq::Error& e) {
        const QString message = QString::fromUtf8(e.what());
        for (const QString& p : parts)
            QVERIFY2(message.contains(p), qPrintable("message \"" + message + "\" lacks \"" + p + "\""));
        QVERIFY2(!message.contains('\n'), qPrintable("not one line: " + message));
        return;
    }
    QFAIL(qPrintable("no mpq::Error; expected one mentioning " + parts.join(", ")));
}

} // namespace

class TestHfTokenizer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void referencesCommitted();
    void referenceCases_data();
    void referenceCases();
    void referenceTexts_data();
    void referenceTexts();
    void knownProperties();
    void loadErrors();
    void openTokenizerPicksByContent();
    void sentencePieceWrapperKeepsBos();
    void llamaClassConfigOverridesPostProcessor();
    void addedTokenFlags();
    void invalidUtf8IsReplaced();
    void sha256OfIds();
    void threadsAgree();
};

void TestHfTokenizer::referencesCommitted()
{
    for (const char* name : {"tiny_sp_legacy", "tiny_sp_metaspace", "qwen3", "llama3_1"})
        QVERIFY2(QFile::exists(QDir(kTestData).filePath(QString(name) + ".transformersjs.json")),
                 qPrintable(QStringLiteral("the transformers.js reference for %1 is missing").arg(name)));
}

void TestHfTokenizer::referenceCases_data()
{
    QTest::addColumn<QString>("reference");
    for (const QString& f : referenceFiles())
        QTest::newRow(qPrintable(f)) << f;
}

void TestHfTokenizer::referenceCases()
{
    QFETCH(QString, reference);
    const json ref = json::parse(readFile(QDir(kTestData).filePath(reference)));
    const TokenizerLocation loc = locate(ref.at("tokenizer").get<std::string>());
    if (!loc.fail.isEmpty())
        QFAIL(qPrintable(loc.fail));
    if (!loc.skip.isEmpty())
        QSKIP(qPrintable(loc.skip));
    const auto tok = mpq::HfTokenizer::load(loc.path);
    int compared = 0;
    int64_t tokens = 0;
    for (const json& c : ref.at("cases")) {
        const std::string text = c.at("text").get<std::string>();
        const Ids want = c.at("plain").get<Ids>();
        const Ids got = tok->encode(text);
        if (got != want)
            QFAIL(qPrintable(QStringLiteral("%1: encode(%2)\n got  %3\n want %4")
                                 .arg(reference, QString::fromStdString(json(text).dump()),
                                      idsText(got, *tok), idsText(want, *tok))));
        const Ids wantModel = c.at("model").get<Ids>();
        const Ids gotModel = tok->encodeForModel(text);
        if (gotModel != wantModel)
            QFAIL(qPrintable(QStringLiteral("%1: encodeForModel(%2)\n got  %3\n want %4")
                                 .arg(reference, QString::fromStdString(json(text).dump()),
                                      idsText(gotModel, *tok), idsText(wantModel, *tok))));
        const std::string decoded = tok->decode(want);
        QCOMPARE(QString::fromStdString(json(decoded).dump()),
                 QString::fromStdString(json(c.at("decoded").get<std::string>()).dump()));
        ++compared;
        tokens += int64_t(want.size());
    }
    QVERIFY(compared >= 500);
    qInfo("%s: %d edge cases, %lld tokens identical (%s)", qPrintable(reference), compared,
          static_cast<long long>(tokens), ref.at("implementation").get<std::string>().c_str());
}

void TestHfTokenizer::referenceTexts_data()
{
    referenceCases_data();
}

void TestHfTokenizer::referenceTexts()
{
    QFETCH(QString, reference);
    const json ref = json::parse(readFile(QDir(kTestData).filePath(reference)));
    const TokenizerLocation loc = locate(ref.at("tokenizer").get<std::string>());
    if (!loc.fail.isEmpty())
        QFAIL(qPrintable(loc.fail));
    if (!loc.skip.isEmpty())
        QSKIP(qPrintable(loc.skip));
    const char* const c4Name = "c4/c4-validation.00000-of-00008.head1025.jsonl";
    MPQ_DATA_PATH(c4Path, c4Name);
    std::vector<std::string> c4;
    {
        const std::string all = readFile(QString::fromStdString(c4Path));
        size_t pos = 0;
        while (pos < all.size()) {
            size_t end = all.find('\n', pos);
            if (end == std::string::npos)
                end = all.size();
            if (end > pos)
                c4.push_back(json::parse(all.substr(pos, end - pos)).at("text").get<std::string>());
            pos = end + 1;
        }
    }
    const auto tok = mpq::HfTokenizer::load(loc.path);
    int documents = 0;
    int64_t tokens = 0;
    for (const json& t : ref.at("texts")) {
        const std::string name = t.at("name").get<std::string>();
        std::string text;
        const size_t hash = name.find('#');
        if (hash != std::string::npos) {
            QCOMPARE(name.substr(0, hash), std::string(c4Name));
            const size_t index = std::stoul(name.substr(hash + 1));
            QVERIFY(index < c4.size());
            text = c4[index];
        } else {
            const auto lookup = mpq::test::lookupData(name.c_str());
            QVERIFY2(lookup.status == mpq::test::DataLookup::Found, qPrintable(lookup.message));
            text = readFile(QString::fromStdString(lookup.path));
        }
        for (const char* kind : {"plain", "model"}) {
            const Ids ids = std::string(kind) == "plain" ? tok->encode(text) : tok->encodeForModel(text);
            const json& want = t.at(kind);
            const QString where = QStringLiteral("%1 %2 (%3)").arg(QString::fromStdString(name), kind, reference);
            QVERIFY2(int64_t(ids.size()) == want.at("count").get<int64_t>(),
                     qPrintable(where + QStringLiteral(": %1 tokens, reference %2")
                                            .arg(ids.size())
                                            .arg(want.at("count").get<int64_t>())));
            if (want.contains("first")) {
                const Ids first(ids.begin(), ids.begin() + std::min<size_t>(24, ids.size()));
                QVERIFY2(first == want.at("first").get<Ids>(), qPrintable(where + ": first ids differ"));
            }
            QVERIFY2(sha256Of(ids) == want.at("sha256").get<std::string>(), qPrintable(where + ": sha256 differs"));
        }
        ++documents;
        tokens += t.at("plain").at("count").get<int64_t>();
    }
    QVERIFY(documents >= 1029);
    qInfo("%s: %d texts, %lld tokens identical", qPrintable(reference), documents, static_cast<long long>(tokens));
}

void TestHfTokenizer::knownProperties()
{
    const auto legacy = mpq::HfTokenizer::load(QDir(kTestData).filePath("tiny_sp_legacy/tokenizer.json").toStdString());
    QCOMPARE(legacy->kind(), std::string("hf-bpe"));
    QCOMPARE(legacy->bosId(), 1);
    QCOMPARE(legacy->eosId(), 2);
    QCOMPARE(legacy->tokenToId("<tool>"), legacy->vocabSize() - 1);
    QCOMPARE(legacy->encodeForModel("the cat").front(), 1);
    QCOMPARE(legacy->encodeAsTokens("the"), std::vector<std::string>{"\xE2\x96\x81the"});
    // Byte fallback: a character outside the vocabulary becomes its UTF-8 bytes.
    QCOMPARE(legacy->encodeAsTokens("\xE2\x82\xAC"),
             (std::vector<std::string>{"\xE2\x96\x81", "<0xE2>", "<0x82>", "<0xAC>"}));
    QCOMPARE(legacy->decode(legacy->encode("a \xE2\x82\xAC sign")), std::string("a \xE2\x82\xAC sign"));
    expectError([&] { legacy->decode({legacy->vocabSize()}); }, {"token id", "not in the vocabulary"});

    MPQ_DATA_PATH(qwenPath, "tokenizers/qwen3/tokenizer.json");
    const auto qwen = mpq::openTokenizer(qwenPath);
    QCOMPARE(qwen->kind(), std::string("hf-bpe-bytelevel"));
    QCOMPARE(qwen->vocabSize(), 151669);
    QCOMPARE(qwen->bosId(), -1);
    QVERIFY(qwen->eosId() >= 151643);
    QCOMPARE(qwen->encodeForModel("Hello"), qwen->encode("Hello")); // Qwen adds nothing
    MPQ_DATA_PATH(llamaPath, "tokenizers/llama3_1/tokenizer.json");
    const auto llama = mpq::openTokenizer(llamaPath);
    QCOMPARE(llama->vocabSize(), 128256);
    QCOMPARE(llama->bosId(), 128000);
    const Ids withBos = llama->encodeForModel("Hello world");
    QCOMPARE(withBos, (Ids{128000, 9906, 1917}));
    QCOMPARE(llama->decode(withBos), std::string("<|begin_of_text|>Hello world"));
}

void TestHfTokenizer::loadErrors()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string good = readFile(QDir(kTestData).filePath("tiny_sp_legacy/tokenizer.json"));
    QVERIFY(good.size() > 1000);
    json base = json::parse(good);
    const auto check = [&](const QString& name, const std::string& content, QStringList parts) {
        const QString path = dir.filePath(name);
        QVERIFY(writeFile(path, content));
        parts.prepend(path);
        expectError([&] { mpq::HfTokenizer::load(path.toStdString()); }, parts);
        expectError([&] { mpq::openTokenizer(path.toStdString()); }, parts);
    };
    check("truncated.json", good.substr(0, good.size() / 2), {"not valid JSON"});
    check("empty.json", "{}", {"no \"model\""});
    check("array.json", "[1, 2]", {"not an object"});
    json j = base;
    j["model"]["type"] = "WordPiece";
    check("wordpiece.json", j.dump(), {"model type \"WordPiece\"", "not supported"});
    j = base;
    j["model"] = {{"type", "Unigram"}, {"vocab", json::array()}};
    check("unigram.json", j.dump(), {"model type \"Unigram\""});
    j = base;
    j["pre_tokenizer"] = {{"type", "Whitespace"}};
    check("whitespace.json", j.dump(), {"pre_tokenizer type \"Whitespace\"", "supported: Split"});
    j = base;
    j["normalizer"]["normalizers"][1] = {{"type", "Lowercase"}};
    check("lowercase.json", j.dump(), {"normalizer.normalizers[1] type \"Lowercase\""});
    j = base;
    j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
    check("decoder.json", j.dump(), {"decoder type \"WordPiece\""});
    j = base;
    j["post_processor"] = {{"type", "BertProcessing"}};
    check("post.json", j.dump(), {"post_processor type \"BertProcessing\""});
    j = base;
    j["model"]["merges"][3] = "\xE2\x96\x81t nosuchtoken";
    check("merge-vocab.json", j.dump(), {"model.merges[3]", "\"nosuchtoken\" is not in the vocabulary"});
    j = base;
    j["model"]["merges"][0] = "a b c";
    check("merge-form.json", j.dump(), {"model.merges[0]", "two tokens"});
    j = base;
    j["model"]["merges"][0] = 42;
    check("merge-type.json", j.dump(), {"model.merges[0]", "neither"});
    j = base;
    j["model"].erase("vocab");
    check("novocab.json", j.dump(), {"model has no \"vocab\""});
    j = base;
    j["model"]["unk_token"] = "<nothing>";
    check("unk.json", j.dump(), {"unk_token \"<nothing>\" is not in the vocabulary"});
    j = base;
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
    check("regex.json", j.dump(), {"bad regular expression", "(unclosed"});
    j = base;
    j["model"]["dropout"] = 0.1;
    check("dropout.json", j.dump(), {"dropout"});
    j = base;
    j["added_tokens"][0].erase("id");
    check("added.json", j.dump(), {"added_tokens[0] has no \"id\""});
    expectError([&] { mpq::openTokenizer(dir.filePath("missing.json").toStdString()); }, {"does not exist"});
    expectError([&] { mpq::openTokenizer(dir.path().toStdString()); }, {"is a folder"});
}

void TestHfTokenizer::openTokenizerPicksByContent()
{
    const auto hf = mpq::openTokenizer(QDir(kTestData).filePath("tiny_sp_metaspace/tokenizer.json").toStdString());
    QCOMPARE(hf->kind(), std::string("hf-bpe"));
    MPQ_DATA_PATH(spPath, "models/stories260K/tok512.model");
    const auto sp = mpq::openTokenizer(spPath);
    QCOMPARE(sp->kind(), std::string("sentencepiece-bpe"));
    QCOMPARE(sp->path(), spPath);
}

void TestHfTokenizer::sentencePieceWrapperKeepsBos()
{
    // What every caller did before the interface: BOS (the model's piece, else the config's
    // bos_token_id) + EncodeAsIds. The figures of existing models depend on it.
    MPQ_DATA_PATH(spPath, "models/stories260K/tok512.model");
    const auto native = mpq::SentencePieceTokenizer::load(spPath);
    const auto wrapped = mpq::openTokenizer(spPath, {7});
    const std::string text = "Once upon a time, there was a little dog.";
    Ids expected = native.encode(text);
    QCOMPARE(wrapped->encode(text), expected);
    expected.insert(expected.begin(), native.bosId() >= 0 ? native.bosId() : 7);
    QCOMPARE(wrapped->encodeForModel(text), expected);
    QCOMPARE(wrapped->vocabSize(), native.vocabSize());
    QCOMPARE(wrapped->decode(native.encode(text)), native.decode(native.encode(text)));

    // tokenizer_config.json's add_bos_token = false beside the model turns BOS off.
    QTemporaryDir dir;
    QVERIFY(QFile::copy(QString::fromStdString(spPath), dir.filePath("tokenizer.model")));
    QVERIFY(writeFile(dir.filePath("tokenizer_config.json"), "{\"add_bos_token\": false}"));
    const auto noBos = mpq::openTokenizer(dir.filePath("tokenizer.model").toStdString());
    QCOMPARE(noBos->encodeForModel(text), native.encode(text));
}

void TestHfTokenizer::llamaClassConfigOverridesPostProcessor()
{
    // transformers' LlamaTokenizerFast rebuilds the post-processor from add_bos_token /
    // add_eos_token, whatever tokenizer.json says.
    QTemporaryDir dir;
    const QString src = QDir(kTestData).filePath("tiny_sp_legacy/tokenizer.json");
    QVERIFY(QFile::copy(src, dir.filePath("tokenizer.json")));
    json config = json::parse(readFile(QDir(kTestData).filePath("tiny_sp_legacy/tokenizer_config.json")));
    config["add_bos_token"] = false;
    config["add_eos_token"] = true;
    QVERIFY(writeFile(dir.filePath("tokenizer_config.json"), config.dump()));
    const auto tok = mpq::HfTokenizer::load(dir.filePath("tokenizer.json").toStdString());
    Ids expected = tok->encode("the dog");
    expected.push_back(2);
    QCOMPARE(tok->encodeForModel("the dog"), expected);
    // Without a config: the file's own TemplateProcessing (BOS), no BOS/EOS ids known.
    QVERIFY(QFile::remove(dir.filePath("tokenizer_config.json")));
    const auto bare = mpq::HfTokenizer::load(dir.filePath("tokenizer.json").toStdString());
    QCOMPARE(bare->encodeForModel("the dog").front(), 1);
    QCOMPARE(bare->bosId(), -1);
}

void TestHfTokenizer::addedTokenFlags()
{
    // tokenizers' AddedVocabulary rules (added_vocabulary.rs, find_matches): single_word needs
    // no word character (\w) beside the token; lstrip / rstrip take the white space beside it;
    // a normalized token is matched in normalized text (its pattern normalized too: "▁zz").
    QTemporaryDir dir;
    json j = json::parse(readFile(QDir(kTestData).filePath("tiny_sp_legacy/tokenizer.json")));
    const int32_t n = int32_t(j["model"]["vocab"].size()) + 1;
    const auto token = [](int32_t id, const char* content, bool single, bool strip, bool normalized) {
        return json{{"id", id}, {"content", content}, {"single_word", single}, {"lstrip", strip},
                    {"rstrip", strip}, {"normalized", normalized}, {"special", false}};
    };
    j["added_tokens"].push_back(token(n, "<w>", true, false, false));
    j["added_tokens"].push_back(token(n + 1, "<t>", false, true, false));
    j["added_tokens"].push_back(token(n + 2, "zz", false, false, true));
    QVERIFY(writeFile(dir.filePath("tokenizer.json"), j.dump()));
    const auto tok = mpq::HfTokenizer::load(dir.filePath("tokenizer.json").toStdString());
    const auto concat = [](std::initializer_list<Ids> parts) {
        Ids out;
        for (const Ids& p : parts)
            out.insert(out.end(), p.begin(), p.end());
        return out;
    };
    const auto has = [](const Ids& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
    QVERIFY(has(tok->encode("a <w> b"), n));
    QVERIFY(has(tok->encode("<w>\n"), n));
    QVERIFY(!has(tok->encode("a<w> b"), n));
    QVERIFY(!has(tok->encode("a <w>b"), n));
    QVERIFY(!has(tok->encode("\xC3\xA9<w>"), n)); // é is a word character
    QCOMPARE(tok->encode("x   <t>   y"), concat({tok->encode("x"), {n + 1}, tok->encode("y")}));
    QCOMPARE(tok->encode("x\t<t>"), concat({tok->encode("x"), {n + 1}}));
    QCOMPARE(tok->encode("a zz b"), concat({tok->encode("a"), {n + 2}, tok->encode("b")}));
    QVERIFY(!has(tok->encode("azz"), n + 2));
    QCOMPARE(tok->vocabSize(), n + 3);
    QCOMPARE(tok->decode({n + 1}), std::string("<t>"));
}

void TestHfTokenizer::invalidUtf8IsReplaced()
{
    // Ill-formed UTF-8 is read as Python's decode(errors="replace") reads it: one U+FFFD per
    // maximal ill-formed subpart.
    const auto tok = mpq::HfTokenizer::load(QDir(kTestData).filePath("tiny_sp_legacy/tokenizer.json").toStdString());
    QCOMPARE(tok->encode("a\xFF" "b"), tok->encode("a\xEF\xBF\xBD" "b"));
    QCOMPARE(tok->encode("a\xE2\x82" "b"), tok->encode("a\xEF\xBF\xBD" "b"));           // truncated
    QCOMPARE(tok->encode("a\xED\xA0\x80" "b"), tok->encode("a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b")); // surrogate
    QCOMPARE(tok->encode("\xC0\xAF"), tok->encode("\xEF\xBF\xBD\xEF\xBF\xBD"));          // overlong
}

void TestHfTokenizer::sha256OfIds()
{
    QCOMPARE(mpq::tokenIdsSha256({}),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    // the bytes 01 00 00 00 ff ff ff ff (1, -1 as little-endian int32), hashed by Python's hashlib
    QCOMPARE(mpq::tokenIdsSha256({1, -1}),
             std::string("b15348c8f462384c01e83b6d499c6faf3f96808f5aa07c6bab4b65b36b4445d4"));
}

void TestHfTokenizer::threadsAgree()
{
    const auto tok = mpq::HfTokenizer::load(QDir(kTestData).filePath("tiny_sp_metaspace/tokenizer.json").toStdString());
    std::string text;
    for (int i = 0; i < 200; ++i)
        text += "the quick model reads " + std::to_string(i * 37) + " words, <tool> and \xF0\x9F\x98\x80.\n";
    const Ids once = tok->encode(text);
    std::vector<std::future<Ids>> runs;
    for (int t = 0; t < 4; ++t)
        runs.push_back(std::async(std::launch::async, [&] { return tok->encode(text); }));
    for (auto& r : runs)
        QCOMPARE(r.get(), once);
}

QTEST_GUILESS_MAIN(TestHfTokenizer)
#include "tst_hftokenizer.moc"
