// The native SentencePiece tokenizer against the real library (spm_reference, a separate process
// linking Debian's libsentencepiece 0.1.97): token-for-token on whole evaluation texts, on edge
// cases, on models trained for the occasion (unigram, NFKC, user-defined symbols, ...), for
// decoding too; plus known ids, round trips and corrupt files.

#include "TestData.h"

#include "core/Error.h"
#include "tokenizer/ProtoReader.h"
#include "tokenizer/SentencePieceTokenizer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using Ids = std::vector<int32_t>;

const char* const kLlama = "tokenizers/llama2/tokenizer.model";
const char* const kTok512 = "models/stories260K/tok512.model";
const char* const kWikiText = "wikitext2/wiki.test.joined.txt";
const char* const kC4 = "c4/c4-validation.00000-of-00008.head1025.jsonl";
const char* const kTinyStories = "tinystories/tinystories-valid-head45.txt";

std::string readFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    return std::string(bytes.constData(), static_cast<size_t>(bytes.size()));
}

std::string readFile(const std::string& path) { return readFile(QString::fromStdString(path)); }

bool writeFile(const QString& path, const std::string& bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(bytes.data(), static_cast<qint64>(bytes.size())) ==
           static_cast<qint64>(bytes.size());
}

void putU32(std::string& out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t getU32(const std::string& in, size_t& pos)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + static_cast<size_t>(i)]))
             << (8 * i);
    pos += 4;
    return v;
}

/// Printable form of a byte string for failure messages: non-ASCII bytes as \xNN.
std::string escaped(std::string_view s, size_t limit = 120)
{
    std::string out;
    for (const char c : s.substr(0, limit)) {
        const auto b = static_cast<uint8_t>(c);
        if (b >= 0x20 && b < 0x7f && b != '\\') {
            out.push_back(c);
        } else {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02X", b);
            out += buffer;
        }
    }
    if (s.size() > limit)
        out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

/// Runs spm_reference and returns what it wrote, or nullopt with `error` set.
class Reference {
public:
    /// Finds the tool; `skip` says why it cannot be used.
    bool available(QString& skip) const
    {
        if (!QFileInfo(tool()).isExecutable()) {
            skip = QStringLiteral("spm_reference (the real libsentencepiece) was not built: %1")
                       .arg(tool());
            return false;
        }
        return true;
    }

    std::optional<std::string> run(const QStringList& args, const QString& output,
                                   QString& error) const
    {
        if (!output.isEmpty())
            QFile::remove(output);
        QProcess process;
        process.start(tool(), args);
        const bool finished = process.waitForFinished(10 * 60 * 1000);
        if (!finished || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            error = QStringLiteral("spm_reference %1 failed: %2")
                        .arg(args.join(QLatin1Char(' ')),
                             QString::fromUtf8(process.readAllStandardError()));
            return std::nullopt;
        }
        return output.isEmpty() ? std::string() : readFile(output);
    }

    /// Ids of `text` encoded as one string.
    std::optional<Ids> encode(const std::string& model, const std::string& text, QString& error)
    {
        const QString in = m_dir.filePath(QStringLiteral("in.txt"));
        const QString out = m_dir.filePath(QStringLiteral("out.bin"));
        if (!writeFile(in, text)) {
            error = QStringLiteral("cannot write %1").arg(in);
            return std::nullopt;
        }
        const auto bytes = run({QString::fromStdString(model), in, out}, out, error);
        if (!bytes)
            return std::nullopt;
        Ids ids(bytes->size() / 4);
        size_t pos = 0;
        for (auto& id : ids)
            id = static_cast<int32_t>(getU32(*bytes, pos));
        return ids;
    }

    /// Ids of each text, each encoded on its own, in one run of the tool.
    std::optional<std::vector<Ids>> encodeEach(const std::string& model,
                                               const std::vector<std::string>& texts,
                                               QString& error)
    {
        std::string records;
        for (const auto& t : texts) {
            putU32(records, static_cast<uint32_t>(t.size()));
            records += t;
        }
        const QString in = m_dir.filePath(QStringLiteral("in.rec"));
        const QString out = m_dir.filePath(QStringLiteral("out.rec"));
        writeFile(in, records);
        const auto bytes =
            run({QStringLiteral("--batch"), QString::fromStdString(model), in, out}, out, error);
        if (!bytes)
            return std::nullopt;
        std::vector<Ids> result;
        for (size_t pos = 0; pos + 4 <= bytes->size();) {
            Ids ids(getU32(*bytes, pos));
            for (auto& id : ids)
                id = static_cast<int32_t>(getU32(*bytes, pos));
            result.push_back(std::move(ids));
        }
        return result;
    }

    /// DecodeIds of each id sequence, in one run of the tool.
    std::optional<std::vector<std::string>> decodeEach(const std::string& model,
                                                       const std::vector<Ids>& sequences,
                                                       QString& error)
    {
        std::string records;
        for (const auto& ids : sequences) {
            putU32(records, static_cast<uint32_t>(ids.size()));
            for (const int32_t id : ids)
                putU32(records, static_cast<uint32_t>(id));
        }
        const QString in = m_dir.filePath(QStringLiteral("ids.rec"));
        const QString out = m_dir.filePath(QStringLiteral("text.rec"));
        writeFile(in, records);
        const auto bytes =
            run({QStringLiteral("--decode"), QString::fromStdString(model), in, out}, out, error);
        if (!bytes)
            return std::nullopt;
        std::vector<std::string> result;
        for (size_t pos = 0; pos + 4 <= bytes->size();) {
            const uint32_t length = getU32(*bytes, pos);
            result.push_back(bytes->substr(pos, length));
            pos += length;
        }
        return result;
    }

    /// Trains a model with the library's trainer; returns its path.
    std::optional<std::string> train(const QString& name, const QString& flags, QString& error)
    {
        const QString prefix = m_dir.filePath(name);
        const QString args =
            flags + QStringLiteral(" --model_prefix=%1 --minloglevel=2").arg(prefix);
        if (!run({QStringLiteral("--train"), args}, QString(), error))
            return std::nullopt;
        return (prefix + QStringLiteral(".model")).toStdString();
    }

    QString path(const QString& name) const { return m_dir.filePath(name); }

private:
    static QString tool()
    {
        return QDir(mpq::test::toolsDir()).filePath(QStringLiteral("spm_reference"));
    }

    QTemporaryDir m_dir;
};

/// Empty when equal; otherwise the first differing position with the pieces around it.
QString firstDifference(const Ids& expected, const Ids& actual,
                        const mpq::SentencePieceTokenizer& tokenizer)
{
    if (expected == actual)
        return {};
    size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i])
        ++i;
    const auto context = [&](const Ids& ids) {
        QStringList parts;
        const size_t from = i >= 6 ? i - 6 : 0;
        for (size_t k = from; k < std::min(ids.size(), i + 7); ++k) {
            const int32_t id = ids[k];
            const std::string piece =
                id >= 0 && id < tokenizer.vocabSize() ? tokenizer.piece(id) : "?";
            parts << QStringLiteral("%1%2:%3")
                         .arg(k == i ? QStringLiteral(">>") : QString())
                         .arg(id)
                         .arg(QString::fromStdString(escaped(piece)));
        }
        return parts.join(QLatin1Char(' '));
    };
    return QStringLiteral("%1 reference ids vs %2 native ids; first difference at token %3\n"
                          "  reference: %4\n  native:    %5")
        .arg(expected.size())
        .arg(actual.size())
        .arg(i)
        .arg(context(expected), context(actual));
}

/// Texts that stress normalization, byte fallback and merging, all compared with the library.
std::vector<std::string> edgeCases()
{
    std::vector<std::string> cases = {
        "",
        " ",
        "  ",
        "   ",
        "a",
        " a",
        "a ",
        "  a  b   c  ",
        "   leading",
        "trailing   ",
        "hello world",
        "Hello  World",
        "\n",
        "\n\n",
        " \n ",
        "a  \n  b",
        "\t",
        "a\tb",
        "\t\tindented\ttabs\t",
        "\r\n",
        "line one\r\nline two\r\n",
        "h\xC3\xA9llo w\xC3\xB6rld",                              // héllo wörld
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE",        // 日本語の
        "\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C\xE6\xB1\x89\xE5\xAD\x97", // 中文，汉字
        "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD emoji", // 😀🎉👍🏽
        "\xF0\x9D\x94\x98\xF0\x9D\x94\xAB\xF0\x9D\x94\xA6",       // 𝔘𝔫𝔦 (math letters)
        "\xE2\x96\x81",                                            // ▁ itself
        "\xE2\x96\x81\xE2\x96\x81 \xE2\x96\x81x\xE2\x96\x81",
        " \xE2\x96\x81",
        "\xE2\x96\x81 ",
        "\xEF\xBC\xA1\xEF\xBC\x88\xE5\x85\xA8\xE8\xA7\x92\xEF\xBC\x89", // Ａ（全角）
        "\xEF\xAC\x81 \xE2\x91\xA0 \xC3\x9F \xC5\x92",              // ﬁ ① ß Œ
        "\xE2\x80\x8B\xC2\xA0nbsp",                                // zero-width space, NBSP
        "\xE3\x81\x82 A  B",                                        // あ A  B
        "e\xCC\x81 combining",                                     // e + U+0301
        std::string("\x00", 1),
        std::string("a\x00" "b", 3),
        "\xFF",
        "\x80" "abc",
        "abc\xC3",
        "\xC3\x28",
        "\xE2\x82",
        "\xED\xA0\x80",     // an encoded surrogate
        "\xF4\x90\x80\x80", // past U+10FFFF
        "\xC0\xAF",         // overlong
        "\xEF\xBF\xBD",     // U+FFFD itself
        "<s>",
        "</s>",
        "<unk>",
        "<pad>",
        "<0x41>",
        "<mask> lovely <mask><mask>",
        "1234567890 3.14159 2024-01-01",
        "The quick brown fox jumps over the lazy dog.",
        std::string(10000, 'a'),
        std::string(5000, ' '),
        std::string(3000, '\n'),
    };
    std::string s;
    for (int i = 0; i < 5000; ++i)
        s += "ab";
    cases.push_back(s);
    s.clear();
    for (int i = 0; i < 3000; ++i)
        s += "\xF0\x9F\x98\x80";
    cases.push_back(s);
    s.clear();
    for (int i = 0; i < 100; ++i)
        s += "1234567890";
    cases.push_back(s);

    // Random mixtures of the troublesome parts, and random bytes (fixed seed).
    std::mt19937 rng(20240601);
    const std::vector<std::string> parts = {" ", "  ", "a", "b", "e", "th", "\n", "\t",
                                            "\xE2\x96\x81", "\xC3\xA9", "\xE6\x97\xA5",
                                            "\xF0\x9F\x98\x80", "\xFF", "\xC3", "0", "1", "."};
    for (int i = 0; i < 300; ++i) {
        std::string t;
        const int n = static_cast<int>(rng() % 61);
        for (int k = 0; k < n; ++k)
            t += parts[rng() % parts.size()];
        cases.push_back(t);
    }
    for (int i = 0; i < 100; ++i) {
        std::string t(rng() % 41, '\0');
        for (auto& c : t)
            c = static_cast<char>(rng());
        cases.push_back(t);
    }
    return cases;
}

/// ' '.join(text of the first `limit` documents): the string GPTQ's "c4-new" evaluation encodes.
std::vector<std::string> c4Documents(const std::string& path)
{
    std::vector<std::string> documents;
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        return documents;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine();
        if (line.trimmed().isEmpty())
            continue;
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        const QByteArray text = doc.object().value(QStringLiteral("text")).toString().toUtf8();
        documents.emplace_back(text.constData(), static_cast<size_t>(text.size()));
    }
    return documents;
}

// --- Writing protobuf, to make variant and corrupt models from a real one. ---

void putVarint(std::string& out, uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

/// Rewrites each piece of a serialized ModelProto through `edit(index, pieceMessage)`, which may
/// append fields (a later field overrides an earlier one, as protobuf reads it).
template <typename Edit>
std::string rewritePieces(const std::string& model, Edit edit)
{
    mpq::ProtoReader reader(model, "rewrite");
    std::vector<mpq::ProtoReader::Field> fields;
    for (mpq::ProtoReader::Field f; reader.next(f);)
        fields.push_back(f);
    std::string out;
    int index = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
        const auto& f = fields[i];
        const size_t end = i + 1 < fields.size() ? fields[i + 1].offset : model.size();
        if (f.number == 1 && f.wireType == mpq::ProtoReader::WireType::LengthDelimited) {
            std::string piece(f.bytes);
            edit(index++, piece);
            putVarint(out, (1u << 3) | 2u);
            putVarint(out, piece.size());
            out += piece;
        } else {
            out += model.substr(f.offset, end - f.offset);
        }
    }
    return out;
}

/// Type and text of a serialized SentencePiece message.
std::pair<int, std::string> pieceInfo(const std::string& message)
{
    mpq::ProtoReader reader(message, "piece");
    mpq::ProtoReader::Field f;
    int type = 1;
    std::string text;
    while (reader.next(f)) {
        if (f.number == 1)
            text = std::string(f.bytes);
        if (f.number == 3)
            type = static_cast<int>(f.varint);
    }
    return {type, text};
}

} // namespace

class TstTokenizer : public QObject {
    Q_OBJECT

private:
    /// Compares the native encoding of `text` with the library's; fails with context.
    void expectSameEncoding(const std::string& model, const std::string& text, const char* what,
                            size_t expectedCount = 0);

    Reference m_reference;
    QString m_skip;
    bool m_haveReference = false;

private Q_SLOTS:
    void initTestCase();

    void llamaKnownIds();
    void tok512KnownIds();
    void infoMatchesReference();

    void wikiText2MatchesReference();
    void c4JoinedMatchesReference();
    void c4DocumentsMatchReference();
    void tinyStoriesMatchesReference();
    void edgeCasesMatchReference_data();
    void edgeCasesMatchReference();
    void unusedPiecesMatchReference();
    void trainedModelsMatchReference_data();
    void trainedModelsMatchReference();

    void decodeMatchesReference_data();
    void decodeMatchesReference();
    void roundTrip();
    void decodeRejectsBadIds();
    void encodeIsFast();

    void corruptFilesThrow_data();
    void corruptFilesThrow();
    void missingFileThrows();
};

void TstTokenizer::initTestCase()
{
    m_haveReference = m_reference.available(m_skip);
    if (!m_haveReference)
        qWarning("%s", qPrintable(m_skip));
}

#define REQUIRE_REFERENCE()                                                                      \
    if (!m_haveReference)                                                                        \
    QSKIP(qPrintable(m_skip))

void TstTokenizer::expectSameEncoding(const std::string& model, const std::string& text,
                                      const char* what, size_t expectedCount)
{
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    QString error;
    const auto expected = m_reference.encode(model, text, error);
    QVERIFY2(expected, qPrintable(error));
    const Ids actual = tokenizer.encode(text);
    const QString diff = firstDifference(*expected, actual, tokenizer);
    QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(what), diff)));
    qInfo("%s: %zu tokens identical to libsentencepiece", what, actual.size());
    if (expectedCount > 0)
        QCOMPARE(actual.size(), expectedCount);
}

void TstTokenizer::llamaKnownIds()
{
    MPQ_DATA_PATH(model, kLlama);
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    QCOMPARE(tokenizer.vocabSize(), 32000);
    QCOMPARE(tokenizer.bosId(), 1);
    QCOMPARE(tokenizer.eosId(), 2);
    QCOMPARE(tokenizer.unkId(), 0);
    QCOMPARE(tokenizer.padId(), -1);
    QCOMPARE(tokenizer.modelType(), std::string("bpe"));
    QCOMPARE(tokenizer.piece(1), std::string("<s>"));
    QCOMPARE(tokenizer.piece(2), std::string("</s>"));
    QCOMPARE(tokenizer.piece(13), std::string("<0x0A>"));
    QCOMPARE(tokenizer.pieceToId("\xE2\x96\x81the"), 278);
    QCOMPARE(tokenizer.pieceToId("no such piece"), 0);
    // Well-known LLaMA-2 encodings.
    QCOMPARE(tokenizer.encode("Hello world"), (Ids{15043, 3186}));
    QCOMPARE(tokenizer.encode("\n"), (Ids{29871, 13}));
    QCOMPARE(tokenizer.encode(""), Ids{});
}

void TstTokenizer::tok512KnownIds()
{
    MPQ_DATA_PATH(model, kTok512);
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    QCOMPARE(tokenizer.vocabSize(), 512);
    QCOMPARE(tokenizer.bosId(), 1);
    QCOMPARE(tokenizer.eosId(), 2);
    QCOMPARE(tokenizer.unkId(), 0);
    QCOMPARE(tokenizer.modelType(), std::string("bpe"));
}

void TstTokenizer::infoMatchesReference()
{
    REQUIRE_REFERENCE();
    for (const char* rel : {kLlama, kTok512}) {
        MPQ_DATA_PATH(model, rel);
        const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
        QString error;
        const QString out = m_reference.path(QStringLiteral("info.txt"));
        const auto info = m_reference.run(
            {QStringLiteral("--info"), QString::fromStdString(model), out}, out, error);
        QVERIFY2(info, qPrintable(error));
        const std::string mine = "vocab_size " + std::to_string(tokenizer.vocabSize()) +
                                 "\nbos " + std::to_string(tokenizer.bosId()) + "\neos " +
                                 std::to_string(tokenizer.eosId()) + "\nunk " +
                                 std::to_string(tokenizer.unkId()) + "\npad " +
                                 std::to_string(tokenizer.padId()) + "\n";
        QCOMPARE(mine, *info);
    }
}

void TstTokenizer::wikiText2MatchesReference()
{
    REQUIRE_REFERENCE();
    MPQ_DATA_PATH(model, kLlama);
    MPQ_DATA_PATH(textPath, kWikiText);
    // 341,468 tokens without BOS: the figure in the data README.
    expectSameEncoding(model, readFile(textPath), "WikiText-2 test (joined), LLaMA-2", 341468);
}

void TstTokenizer::c4JoinedMatchesReference()
{
    REQUIRE_REFERENCE();
    MPQ_DATA_PATH(model, kLlama);
    MPQ_DATA_PATH(c4Path, kC4);
    const auto documents = c4Documents(c4Path);
    QCOMPARE(documents.size(), size_t(1025));
    std::string joined;
    for (size_t i = 0; i < documents.size(); ++i)
        joined += (i ? " " : "") + documents[i];
    expectSameEncoding(model, joined, "C4 validation, 1025 documents joined, LLaMA-2", 574341);
}

void TstTokenizer::c4DocumentsMatchReference()
{
    REQUIRE_REFERENCE();
    MPQ_DATA_PATH(model, kLlama);
    MPQ_DATA_PATH(c4Path, kC4);
    auto documents = c4Documents(c4Path);
    documents.resize(std::min<size_t>(documents.size(), 200));
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    QString error;
    const auto expected = m_reference.encodeEach(model, documents, error);
    QVERIFY2(expected, qPrintable(error));
    QCOMPARE(expected->size(), documents.size());
    size_t total = 0;
    for (size_t i = 0; i < documents.size(); ++i) {
        const QString diff =
            firstDifference((*expected)[i], tokenizer.encode(documents[i]), tokenizer);
        QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("C4 document %1: %2").arg(i).arg(diff)));
        total += (*expected)[i].size();
    }
    qInfo("C4 validation, first %zu documents one by one: %zu tokens identical", documents.size(),
          total);
}

void TstTokenizer::tinyStoriesMatchesReference()
{
    REQUIRE_REFERENCE();
    MPQ_DATA_PATH(model, kTok512);
    MPQ_DATA_PATH(textPath, kTinyStories);
    expectSameEncoding(model, readFile(textPath), "TinyStories valid head 45, tok512");
}

void TstTokenizer::edgeCasesMatchReference_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("llama2") << QString::fromLatin1(kLlama);
    QTest::newRow("tok512") << QString::fromLatin1(kTok512);
}

void TstTokenizer::edgeCasesMatchReference()
{
    REQUIRE_REFERENCE();
    QFETCH(QString, model);
    MPQ_DATA_PATH(modelPath, model.toUtf8().constData());
    const auto tokenizer = mpq::SentencePieceTokenizer::load(modelPath);
    const auto cases = edgeCases();
    QString error;
    const auto expected = m_reference.encodeEach(modelPath, cases, error);
    QVERIFY2(expected, qPrintable(error));
    QCOMPARE(expected->size(), cases.size());
    size_t total = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const QString diff = firstDifference((*expected)[i], tokenizer.encode(cases[i]), tokenizer);
        QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("case %1 \"%2\": %3")
                                                .arg(i)
                                                .arg(QString::fromStdString(escaped(cases[i])))
                                                .arg(diff)));
        total += (*expected)[i].size();
    }
    qInfo("%zu edge cases, %zu tokens identical", cases.size(), total);
}

void TstTokenizer::unusedPiecesMatchReference()
{
    // No shipped model has UNUSED pieces, so mark a third of tok512's merged pieces UNUSED: BPE
    // still merges through them and then splits them back (the library's resegmentation).
    REQUIRE_REFERENCE();
    MPQ_DATA_PATH(model, kTok512);
    MPQ_DATA_PATH(textPath, kTinyStories);
    std::mt19937 rng(7);
    int marked = 0;
    const std::string patched = rewritePieces(readFile(model), [&](int, std::string& piece) {
        const auto [type, text] = pieceInfo(piece);
        if (type == 1 && text.size() > 1 && rng() % 3 == 0) {
            piece += std::string("\x18\x05", 2); // type = UNUSED
            ++marked;
        }
    });
    QVERIFY(marked > 20);
    const QString path = m_reference.path(QStringLiteral("tok512-unused.model"));
    QVERIFY(writeFile(path, patched));
    expectSameEncoding(path.toStdString(), readFile(textPath), "tok512 with UNUSED pieces");
    if (QTest::currentTestFailed())
        return;
    const auto tokenizer = mpq::SentencePieceTokenizer::load(path.toStdString());
    const auto cases = edgeCases();
    QString error;
    const auto expected = m_reference.encodeEach(path.toStdString(), cases, error);
    QVERIFY2(expected, qPrintable(error));
    for (size_t i = 0; i < cases.size(); ++i)
        QVERIFY2((*expected)[i] == tokenizer.encode(cases[i]),
                 qPrintable(QStringLiteral("case %1 \"%2\"")
                                .arg(i)
                                .arg(QString::fromStdString(escaped(cases[i])))));
}

void TstTokenizer::trainedModelsMatchReference_data()
{
    QTest::addColumn<QString>("corpus");
    QTest::addColumn<QString>("flags");
    // Each configuration twice: trained on TinyStories (shared data) and on the embedded demo
    // model's calibration stories (every clone, no MPQ_DATA_DIR). The demo's generated stories
    // use ~290 distinct words, too few for a 400-piece unigram vocabulary (the trainer refuses
    // more than 290): there the unigram sizes are 256 (512 with the 256 byte pieces).
    const struct {
        const char* name;
        const char* flags;
        int demoVocab; // 0: as for TinyStories
    } configs[] = {
        {"unigram identity", "--vocab_size=400 --model_type=unigram --normalization_rule_name=identity", 256},
        {"unigram byte fallback, user-defined",
         "--vocab_size=600 --model_type=unigram --byte_fallback=true "
         "--normalization_rule_name=identity --user_defined_symbols=<mask>,ly",
         512},
        {"unigram nmt_nfkc", "--vocab_size=400 --model_type=unigram", 256},
        {"unigram nfkc_cf, suffix",
         "--vocab_size=400 --model_type=unigram --normalization_rule_name=nfkc_cf "
         "--treat_whitespace_as_suffix=true",
         256},
        {"unigram keep whitespace",
         "--vocab_size=400 --model_type=unigram --remove_extra_whitespaces=false "
         "--normalization_rule_name=identity",
         256},
        {"bpe user-defined, control",
         "--vocab_size=400 --model_type=bpe --normalization_rule_name=identity "
         "--user_defined_symbols=<mask>,ly --control_symbols=<ctl>",
         0},
        {"bpe suffix", "--vocab_size=400 --model_type=bpe --treat_whitespace_as_suffix=true", 0},
        {"bpe nmt_nfkc, no dummy prefix",
         "--vocab_size=500 --model_type=bpe --byte_fallback=true --add_dummy_prefix=false", 0},
        {"bpe custom normalization rule", "--vocab_size=400 --model_type=bpe --normalization_rule_tsv=NORM", 0},
        {"unigram denormalizer",
         "--vocab_size=400 --model_type=unigram --normalization_rule_name=identity "
         "--denormalization_rule_tsv=DENORM",
         256},
    };
    for (const auto& c : configs) {
        QTest::newRow(qPrintable(QStringLiteral("tinystories %1").arg(QLatin1String(c.name))))
            << "tinystories" << QString::fromLatin1(c.flags);
        QString demoFlags = QString::fromLatin1(c.flags);
        if (c.demoVocab > 0)
            demoFlags.replace(QRegularExpression(QStringLiteral("--vocab_size=\\d+")),
                              QStringLiteral("--vocab_size=%1").arg(c.demoVocab));
        QTest::newRow(qPrintable(QStringLiteral("demo %1").arg(QLatin1String(c.name)))) << "demo" << demoFlags;
    }
}

void TstTokenizer::trainedModelsMatchReference()
{
    // Models made by the library's own trainer cover what the shipped models do not: unigram,
    // precompiled normalization rules (NFKC), user-defined symbols, suffix spaces, a
    // denormalizer. Compared on the edge cases and the training text; TinyStories rows also on
    // 50 C4 documents (other scripts, long lines), demo rows on the demo's validation stories.
    REQUIRE_REFERENCE();
    QFETCH(QString, corpus);
    QFETCH(QString, flags);
    std::string textPath, c4Path, demoValid;
    if (corpus == QLatin1String("demo")) {
        MPQ_DEMO_MODEL(demo);
        textPath = demo.calibText;
        demoValid = demo.validText;
    } else {
        MPQ_DATA_PATH(tiny, kTinyStories);
        MPQ_DATA_PATH(c4, kC4);
        textPath = tiny;
        c4Path = c4;
    }
    // A rule that maps "A" to "a", so that the denormalizer visibly changes decoded text; and a
    // normalization rule that also maps "あ" to "い" and two spaces to one.
    const QString denorm = m_reference.path(QStringLiteral("denorm.tsv"));
    QVERIFY(writeFile(denorm, "41\t61\n"));
    flags.replace(QStringLiteral("DENORM"), denorm);
    const QString norm = m_reference.path(QStringLiteral("norm.tsv"));
    QVERIFY(writeFile(norm, "41\t61\n3042\t3044\n20 20\t20\n"));
    flags.replace(QStringLiteral("NORM"), norm);
    QString error;
    const auto model = m_reference.train(
        QStringLiteral("trained"),
        QStringLiteral("--input=%1 %2").arg(QString::fromStdString(textPath), flags), error);
    if (!model && error.contains(QStringLiteral("built without")))
        QSKIP("spm_reference was built without libsentencepiece_train");
    QVERIFY2(model, qPrintable(error));

    const auto tokenizer = mpq::SentencePieceTokenizer::load(*model);
    std::vector<std::string> texts = edgeCases();
    texts.push_back(readFile(textPath));
    if (!demoValid.empty())
        texts.push_back(readFile(demoValid));
    if (!c4Path.empty()) {
        auto documents = c4Documents(c4Path);
        documents.resize(std::min<size_t>(documents.size(), 50));
        texts.insert(texts.end(), documents.begin(), documents.end());
    }
    const auto expected = m_reference.encodeEach(*model, texts, error);
    QVERIFY2(expected, qPrintable(error));
    QCOMPARE(expected->size(), texts.size());
    std::vector<Ids> encoded;
    for (size_t i = 0; i < texts.size(); ++i) {
        encoded.push_back(tokenizer.encode(texts[i]));
        const QString diff = firstDifference((*expected)[i], encoded.back(), tokenizer);
        QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("text %1 \"%2\": %3")
                                                .arg(i)
                                                .arg(QString::fromStdString(escaped(texts[i])))
                                                .arg(diff)));
    }

    // Decoding, of these encodings and of arbitrary id sequences.
    std::mt19937 rng(99);
    for (int i = 0; i < 200; ++i) {
        Ids ids(rng() % 30);
        for (auto& id : ids)
            id = static_cast<int32_t>(rng() % static_cast<uint32_t>(tokenizer.vocabSize()));
        encoded.push_back(ids);
    }
    const auto decoded = m_reference.decodeEach(*model, encoded, error);
    QVERIFY2(decoded, qPrintable(error));
    QCOMPARE(decoded->size(), encoded.size());
    for (size_t i = 0; i < encoded.size(); ++i)
        QVERIFY2(tokenizer.decode(encoded[i]) == (*decoded)[i],
                 qPrintable(QStringLiteral("decode of sequence %1: \"%2\" vs reference \"%3\"")
                                .arg(i)
                                .arg(QString::fromStdString(escaped(tokenizer.decode(encoded[i]))),
                                     QString::fromStdString(escaped((*decoded)[i])))));
}

void TstTokenizer::decodeMatchesReference_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("llama2") << QString::fromLatin1(kLlama);
    QTest::newRow("tok512") << QString::fromLatin1(kTok512);
}

void TstTokenizer::decodeMatchesReference()
{
    REQUIRE_REFERENCE();
    QFETCH(QString, model);
    MPQ_DATA_PATH(modelPath, model.toUtf8().constData());
    const auto tokenizer = mpq::SentencePieceTokenizer::load(modelPath);
    const int32_t space = tokenizer.pieceToId("\xE2\x96\x81");
    const int32_t byte0 = tokenizer.pieceToId("<0x00>");
    std::vector<Ids> sequences = {
        {},
        {1},
        {1, 0, 2},
        {byte0 + 0xE6, byte0 + 0x97, byte0 + 0xA5},                         // 日 as bytes
        {byte0 + 0xE6, byte0 + 0x97},                                       // cut short
        {byte0 + 0xFF, byte0 + 0x41},                                       // invalid, then A
        {byte0 + 0x41, space, byte0 + 0x42},
        {space},
        {space, space},
        {1, space, 2, space},
    };
    for (const auto& text : edgeCases())
        sequences.push_back(tokenizer.encode(text));
    std::mt19937 rng(5);
    const auto vocabSize = tokenizer.vocabSize();
    for (int i = 0; i < 400; ++i) {
        Ids ids(rng() % 31);
        for (auto& id : ids)
            id = static_cast<int32_t>(rng() % 5 < 2 ? rng() % 259
                                                    : rng() % static_cast<uint32_t>(vocabSize));
        sequences.push_back(ids);
    }
    QString error;
    const auto expected = m_reference.decodeEach(modelPath, sequences, error);
    QVERIFY2(expected, qPrintable(error));
    QCOMPARE(expected->size(), sequences.size());
    for (size_t i = 0; i < sequences.size(); ++i) {
        const std::string actual = tokenizer.decode(sequences[i]);
        QVERIFY2(actual == (*expected)[i],
                 qPrintable(QStringLiteral("sequence %1: \"%2\" vs reference \"%3\"")
                                .arg(i)
                                .arg(QString::fromStdString(escaped(actual)),
                                     QString::fromStdString(escaped((*expected)[i])))));
    }
}

void TstTokenizer::roundTrip()
{
    // LLaMA-2 keeps all whitespace and falls back to bytes, so any valid UTF-8 text survives
    // encode + decode unchanged.
    MPQ_DATA_PATH(model, kLlama);
    MPQ_DATA_PATH(textPath, kWikiText);
    MPQ_DATA_PATH(c4Path, kC4);
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    std::vector<std::string> texts = {readFile(textPath), "  two leading spaces",
                                      "tabs\tand\nnewlines\n", "\xF0\x9F\x98\x80 emoji",
                                      "\xE6\x97\xA5\xE6\x9C\xAC", std::string(3000, ' ')};
    auto documents = c4Documents(c4Path);
    documents.resize(std::min<size_t>(documents.size(), 200));
    texts.insert(texts.end(), documents.begin(), documents.end());
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::string back = tokenizer.decode(tokenizer.encode(texts[i]));
        if (back != texts[i]) {
            size_t k = 0;
            while (k < back.size() && k < texts[i].size() && back[k] == texts[i][k])
                ++k;
            const std::string_view around = std::string_view(texts[i]).substr(k > 20 ? k - 20 : 0);
            QFAIL(qPrintable(QStringLiteral("text %1 differs after a round trip at byte %2: \"%3\"")
                                 .arg(i)
                                 .arg(k)
                                 .arg(QString::fromStdString(escaped(around, 60)))));
        }
    }
    // Invalid UTF-8 comes back as U+FFFD, byte by byte, as in the library.
    QCOMPARE(tokenizer.decode(tokenizer.encode("a\xFF" "b")), std::string("a\xEF\xBF\xBD" "b"));
}

void TstTokenizer::decodeRejectsBadIds()
{
    MPQ_DATA_PATH(model, kTok512);
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    for (const int32_t id : {-1, 512, 1 << 30}) {
        try {
            tokenizer.decode({5, id});
            QFAIL("decode accepted an id outside the vocabulary");
        } catch (const mpq::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QString::number(id)), e.what());
        }
    }
}

void TstTokenizer::encodeIsFast()
{
    MPQ_DATA_PATH(model, kLlama);
    MPQ_DATA_PATH(textPath, kWikiText);
    const auto tokenizer = mpq::SentencePieceTokenizer::load(model);
    const std::string text = readFile(textPath);
    QElapsedTimer timer;
    timer.start();
    const Ids ids = tokenizer.encode(text);
    const qint64 ms = timer.elapsed();
    qInfo("WikiText-2 test, %zu bytes -> %zu tokens in %lld ms", text.size(), ids.size(),
          static_cast<long long>(ms));
    // Typically a few hundred ms in a release build; the bound only catches a quadratic slip
    // (the library itself takes over a second) while tolerating a loaded or debug build.
    QVERIFY2(ms < 10000, qPrintable(QStringLiteral("encoding took %1 ms").arg(ms)));
}

void TstTokenizer::corruptFilesThrow_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("size");
    QTest::newRow("empty") << 0 << 0;
    for (const int size : {1, 2, 10, 100, 1000, 100000, 250000, 499000})
        QTest::newRow(qPrintable(QStringLiteral("truncated to %1 bytes").arg(size))) << 1 << size;
    QTest::newRow("truncated by one byte") << 1 << -1;
    for (const int size : {1, 7, 64, 4096, 100000})
        QTest::newRow(qPrintable(QStringLiteral("%1 random bytes").arg(size))) << 2 << size;
    QTest::newRow("text file") << 3 << 0;
    QTest::newRow("no <unk> piece") << 4 << 0;
    QTest::newRow("duplicate piece") << 5 << 0;
    QTest::newRow("byte piece missing") << 6 << 0;
    QTest::newRow("directory") << 7 << 0;
}

void TstTokenizer::corruptFilesThrow()
{
    QFETCH(int, kind);
    QFETCH(int, size);
    MPQ_DATA_PATH(model, kLlama);
    const std::string good = readFile(model);
    QTemporaryDir dir;
    QString path = dir.filePath(QStringLiteral("broken.model"));
    std::string bytes;
    std::mt19937 rng(static_cast<uint32_t>(size) + 1);
    switch (kind) {
    case 0: break;
    case 1: bytes = good.substr(0, size < 0 ? good.size() - 1 : static_cast<size_t>(size)); break;
    case 2:
        bytes.resize(static_cast<size_t>(size));
        for (auto& c : bytes)
            c = static_cast<char>(rng());
        break;
    case 3: bytes = "This is not a SentencePiece model.\n"; break;
    case 4: // <unk> becomes NORMAL
        bytes = rewritePieces(good, [](int index, std::string& piece) {
            if (index == 0)
                piece += std::string("\x18\x01", 2);
        });
        break;
    case 5: // piece 300 becomes "er", which piece 261 already is
        bytes = rewritePieces(good, [](int index, std::string& piece) {
            if (index == 300)
                piece += std::string("\x0a\x02", 2) + "er";
        });
        break;
    case 6: // <0x41> becomes NORMAL although byte_fallback is on
        bytes = rewritePieces(good, [](int index, std::string& piece) {
            if (index == 3 + 0x41)
                piece += std::string("\x18\x01", 2);
        });
        break;
    case 7: path = dir.path(); break;
    }
    if (kind != 7)
        QVERIFY(writeFile(path, bytes));
    try {
        const auto tokenizer = mpq::SentencePieceTokenizer::load(path.toStdString());
        QFAIL("a corrupt model loaded without an error");
    } catch (const mpq::Error& e) {
        qInfo("%s", e.what());
        QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
    }
}

void TstTokenizer::missingFileThrows()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("does-not-exist.model"));
    try {
        mpq::SentencePieceTokenizer::load(path.toStdString());
        QFAIL("a missing model loaded without an error");
    } catch (const mpq::Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
    }
}

QTEST_GUILESS_MAIN(TstTokenizer)
#include "tst_tokenizer.moc"
