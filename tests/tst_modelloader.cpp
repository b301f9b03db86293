// ModelSource::open on checkpoints written by the test itself: Hugging Face folders (single and
// sharded safetensors, F32/F16/BF16, both config.json styles) and llama2.c legacy .bin files, then
// one broken variant per check the loader promises, each of which must be refused with an
// mpq::Error naming the offending file; finally the two real models of the shared data.

#include "TestData.h"

#include "core/Error.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "core/Files.h"
#include "tokenizer/Tokenizer.h"

#include <ATen/ATen.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace
{

using mpq::ModelConfig;
using mpq::ModelSource;
using mpq::StorageType;
using mpq::TensorEntry;

// ---------------------------------------------------------------------------------------------
// Writing files

bool writeFile(const QString& path, const std::string& bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(bytes.data(), qint64(bytes.size())) == qint64(bytes.size());
}

std::string readFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray b = f.readAll();
    return std::string(b.constData(), size_t(b.size()));
}

std::string str(const QString& s)
{
    return s.toStdString();
}

/// One tensor of a synthetic checkpoint: its safetensors dtype, shape and raw bytes.
struct RawTensor {
    std::string name;
    std::string dtype; ///< "F32", "F16", "BF16" (or anything, for broken files)
    std::vector<int64_t> shape;
    std::string bytes;
};

/// One entry of a safetensors JSON header, offsets relative to the data section.
struct HeaderEntry {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

/// The JSON header, written by hand so that broken variants (duplicate keys) can be expressed.
std::string headerText(const std::vector<HeaderEntry>& entries)
{
    std::string s = "{\"__metadata__\":{\"format\":\"pt\"}";
    for (const auto& e : entries) {
        s += ",\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":[";
        for (size_t i = 0; i < e.shape.size(); ++i)
            s += (i ? "," : "") + std::to_string(e.shape[i]);
        s += "],\"data_offsets\":[" + std::to_string(e.begin) + "," + std::to_string(e.end) + "]}";
    }
    s += "}";
    while ((8 + s.size()) % 8 != 0) // the format pads the header with spaces to 8 bytes
        s += ' ';
    return s;
}

std::string littleEndian64(uint64_t v)
{
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
        out[size_t(i)] = char((v >> (8 * i)) & 0xff);
    return out;
}

std::string assemble(const std::string& header, const std::string& data)
{
    return littleEndian64(header.size()) + header + data;
}

struct Layout {
    std::vector<HeaderEntry> entries;
    std::string data;
};

/// Tensors one after another in the data section, in the given order.
Layout layOut(const std::vector<RawTensor>& tensors)
{
    Layout l;
    for (const auto& t : tensors) {
        l.entries.push_back({t.name, t.dtype, t.shape, l.data.size(), l.data.size() + t.bytes.size()});
        l.data += t.bytes;
    }
    return l;
}

std::string safetensors(const std::vector<RawTensor>& tensors)
{
    const Layout l = layOut(tensors);
    return assemble(headerText(l.entries), l.data);
}

at::ScalarType scalarTypeOf(const std::string& dtype)
{
    if (dtype == "F16")
        return at::kHalf;
    if (dtype == "BF16")
        return at::kBFloat16;
    return at::kFloat;
}

/// Distinct, recognisable contents: tensor k holds k + 0.001·i (rounded to the dtype).
std::string tensorBytes(int k, const std::vector<int64_t>& shape, const std::string& dtype)
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    const at::Tensor t = (at::arange(n, at::kFloat) * 0.001 + k).to(scalarTypeOf(dtype)).contiguous();
    return std::string(static_cast<const char*>(t.data_ptr()), size_t(t.nbytes()));
}

/// A small LLaMA config with grouped-query attention.
ModelConfig tinyConfig(bool tied)
{
    ModelConfig c;
    c.hiddenSize = 16;
    c.intermediateSize = 40;
    c.numLayers = 2;
    c.numHeads = 4;
    c.numKvHeads = 2;
    c.headDim = 4;
    c.vocabSize = 48;
    c.maxPositions = 64;
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    c.tieWordEmbeddings = tied;
    return c;
}

/// Every tensor the config needs (engine/model/LlamaArch.h), filled by tensorBytes().
std::vector<RawTensor> modelTensors(const ModelConfig& c, const std::string& dtype)
{
    std::vector<RawTensor> out;
    int k = 0;
    for (const auto& want : mpq::llama::expectedTensors(c))
        out.push_back({want.name, dtype, want.shape, tensorBytes(k++, want.shape, dtype)});
    return out;
}

enum class ConfigStyle { Transformers4, Transformers5 };

QJsonObject configJson(const ModelConfig& c, ConfigStyle style, const QString& dtype = "float32")
{
    QJsonObject j;
    j["architectures"] = QJsonArray{QStringLiteral("LlamaForCausalLM")};
    j["model_type"] = "llama";
    j["hidden_act"] = "silu";
    j["hidden_size"] = qint64(c.hiddenSize);
    j["intermediate_size"] = qint64(c.intermediateSize);
    j["num_hidden_layers"] = qint64(c.numLayers);
    j["num_attention_heads"] = qint64(c.numHeads);
    j["num_key_value_heads"] = qint64(c.numKvHeads);
    j["vocab_size"] = qint64(c.vocabSize);
    j["max_position_embeddings"] = qint64(c.maxPositions);
    j["rms_norm_eps"] = c.rmsNormEps;
    j["tie_word_embeddings"] = c.tieWordEmbeddings;
    j["bos_token_id"] = 1;
    j["eos_token_id"] = 2;
    if (style == ConfigStyle::Transformers5) {
        j["dtype"] = dtype;
        j["rope_parameters"] = QJsonObject{{"rope_theta", c.ropeTheta}, {"rope_type", "default"}};
    } else {
        j["torch_dtype"] = dtype;
        j["rope_theta"] = c.ropeTheta;
        j["rope_scaling"] = QJsonValue::Null;
    }
    return j;
}

bool writeJson(const QString& path, const QJsonObject& j)
{
    return writeFile(path, QJsonDocument(j).toJson().toStdString());
}

/// A Hugging Face folder with config.json and a single model.safetensors.
bool writeHfFolder(const QString& dir, const ModelConfig& c, const std::vector<RawTensor>& tensors,
                   ConfigStyle style = ConfigStyle::Transformers4)
{
    return QDir().mkpath(dir) && writeJson(dir + "/config.json", configJson(c, style)) &&
           writeFile(dir + "/model.safetensors", safetensors(tensors));
}

QString shardName(int i, int n)
{
    return QStringLiteral("model-%1-of-%2.safetensors")
        .arg(i + 1, 5, 10, QLatin1Char('0'))
        .arg(n, 5, 10, QLatin1Char('0'));
}

/// A sharded folder: `shards[i]` goes to shardName(i), and the index maps each name of
/// `weightMap` to the given shard file name.
bool writeSharded(const QString& dir, const ModelConfig& c, const std::vector<std::vector<RawTensor>>& shards,
                  const std::vector<std::pair<std::string, QString>>& weightMap)
{
    if (!QDir().mkpath(dir) || !writeJson(dir + "/config.json", configJson(c, ConfigStyle::Transformers5)))
        return false;
    for (size_t i = 0; i < shards.size(); ++i)
        if (!writeFile(dir + "/" + shardName(int(i), int(shards.size())), safetensors(shards[i])))
            return false;
    QJsonObject map;
    for (const auto& [name, shard] : weightMap)
        map[QString::fromStdString(name)] = shard;
    return writeJson(dir + "/model.safetensors.index.json",
                     QJsonObject{{"metadata", QJsonObject{{"total_size", 0}}}, {"weight_map", map}});
}

/// Round-robin distribution of the tensors over `n` shards with a matching index.
struct ShardPlan {
    std::vector<std::vector<RawTensor>> shards;
    std::vector<std::pair<std::string, QString>> weightMap;
};

ShardPlan planShards(const std::vector<RawTensor>& tensors, int n)
{
    ShardPlan p;
    p.shards.resize(size_t(n));
    for (size_t i = 0; i < tensors.size(); ++i) {
        p.shards[i % size_t(n)].push_back(tensors[i]);
        p.weightMap.emplace_back(tensors[i].name, shardName(int(i % size_t(n)), n));
    }
    return p;
}

// --- llama2.c legacy .bin ---------------------------------------------------------------------

struct Llama2cHeader {
    int32_t dim = 16, hidden = 40, layers = 2, heads = 4, kvHeads = 2, vocab = 48, seqLen = 32;
    bool shared = true;
};

/// One region of the .bin (a tensor of all layers, or a freq_cis table), with its file offset.
struct Region {
    std::string name;
    uint64_t offset = 0;
    std::string bytes;
};

/// Writes the layout of llama2.c's export.py (legacy_export) literally; returns the regions.
std::string llama2cBytes(const Llama2cHeader& h, std::vector<Region>* regionsOut = nullptr)
{
    const int32_t headSize = h.dim / h.heads, kvDim = h.kvHeads * headSize;
    std::string out;
    for (int32_t v :
         {h.dim, h.hidden, h.layers, h.heads, h.kvHeads, h.shared ? h.vocab : -h.vocab, h.seqLen}) {
        char b[4];
        std::memcpy(b, &v, 4);
        out.append(b, 4);
    }
    std::vector<Region> regions;
    int k = 0;
    auto add = [&](const std::string& name, int64_t floats) {
        Region r{name, out.size(), tensorBytes(100 + k++, {floats}, "F32")};
        out += r.bytes;
        regions.push_back(std::move(r));
    };
    const int64_t L = h.layers;
    add("token_embedding_table", int64_t(h.vocab) * h.dim);
    add("rms_att_weight", L * h.dim);
    add("wq", L * h.dim * h.dim);
    add("wk", L * kvDim * h.dim);
    add("wv", L * kvDim * h.dim);
    add("wo", L * h.dim * h.dim);
    add("rms_ffn_weight", L * h.dim);
    add("w1", L * h.hidden * h.dim);
    add("w2", L * h.dim * h.hidden);
    add("w3", L * h.hidden * h.dim);
    add("rms_final_weight", h.dim);
    add("freq_cis_real", int64_t(h.seqLen) * headSize / 2);
    add("freq_cis_imag", int64_t(h.seqLen) * headSize / 2);
    if (!h.shared)
        add("wcls", int64_t(h.vocab) * h.dim);
    if (regionsOut)
        *regionsOut = regions;
    return out;
}

// --- Expecting refusal ------------------------------------------------------------------------

/// What ModelSource::open did.
struct Outcome {
    enum Kind { Opened, MpqError, OtherException } kind = Opened;
    std::string message;
};

Outcome tryOpen(const QString& path, const QString& tokenizer = {})
{
    Outcome o;
    try {
        (void)ModelSource::open(str(path), str(tokenizer));
    } catch (const mpq::Error& e) {
        o.kind = Outcome::MpqError;
        o.message = e.what();
    } catch (const std::exception& e) {
        o.kind = Outcome::OtherException;
        o.message = e.what();
    }
    return o;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

QString toQ(const std::string& s)
{
    return QString::fromStdString(s);
}
QString toQ(const QString& s)
{
    return s;
}
QString toQ(const char* s)
{
    return QString::fromUtf8(s);
}

} // namespace

/// Opening `path` must throw mpq::Error whose message names `file` and contains `keyword`.
#define VERIFY_REFUSED(path, file, keyword)                                                                  \
    do {                                                                                                     \
        const Outcome o_ = tryOpen(path);                                                                    \
        QVERIFY2(o_.kind != Outcome::Opened, "the broken model was accepted");                               \
        QVERIFY2(o_.kind == Outcome::MpqError,                                                               \
                 qPrintable("not an mpq::Error but: " + QString::fromStdString(o_.message)));                \
        QVERIFY2(contains(o_.message, str(toQ(file))),                                                       \
                 qPrintable("message does not name " + toQ(file) + ": " + toQ(o_.message)));                 \
        QVERIFY2(contains(o_.message, str(toQ(keyword))),                                                    \
                 qPrintable("message does not say \"" + toQ(keyword) + "\": " + toQ(o_.message)));           \
    } while (0)

class TestModelLoader : public QObject
{
    Q_OBJECT

  private Q_SLOTS:
    void huggingFaceSingleFile_data();
    void huggingFaceSingleFile();
    void transformers5Config();
    void configDefaultsAndHeadDim();
    void openSafetensorsFileDirectly();
    void tokenizerLookup();
    void extraTensorsAreNoted();
    void sharded();
    void llama2c_data();
    void llama2c();

    void brokenSafetensors_data();
    void brokenSafetensors();
    void wrongShapeAgainstConfig();
    void missingTensor();
    void missingLmHeadWhenUntied();
    void brokenSharded_data();
    void brokenSharded();
    void brokenConfig_data();
    void brokenConfig();
    void brokenLlama2c_data();
    void brokenLlama2c();
    void pickledCheckpointsRefused();
    void fileChangedAfterOpen();
    void absurdContextLength();
    void notAModel();

    void realMpqLlama42m();
    void realStories260K();
    void embeddedDemoModel();

  private:
    QTemporaryDir m_tmp;
    int m_counter = 0;
    QString freshDir() { return m_tmp.filePath(QStringLiteral("m%1").arg(++m_counter)); }
};

// ---------------------------------------------------------------------------------------------
// Valid checkpoints

void TestModelLoader::huggingFaceSingleFile_data()
{
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<bool>("tied");
    for (const char* dt : {"F32", "F16", "BF16"})
        for (bool tied : {false, true})
            QTest::newRow(qPrintable(QStringLiteral("%1 %2").arg(dt, tied ? "tied" : "untied")))
                << QString(dt) << tied;
}

void TestModelLoader::huggingFaceSingleFile()
{
    QFETCH(QString, dtype);
    QFETCH(bool, tied);
    const ModelConfig c = tinyConfig(tied);
    const auto tensors = modelTensors(c, str(dtype));
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, tensors));

    const ModelSource m = ModelSource::open(str(dir));
    QCOMPARE(m.format(), mpq::ModelFormat::HuggingFace);
    QCOMPARE(m.path(), str(dir));
    const ModelConfig& got = m.config();
    QCOMPARE(got.hiddenSize, int64_t(16));
    QCOMPARE(got.intermediateSize, int64_t(40));
    QCOMPARE(got.numLayers, int64_t(2));
    QCOMPARE(got.numHeads, int64_t(4));
    QCOMPARE(got.numKvHeads, int64_t(2));
    QCOMPARE(got.headDim, int64_t(4));
    QCOMPARE(got.vocabSize, int64_t(48));
    QCOMPARE(got.maxPositions, int64_t(64));
    QCOMPARE(got.rmsNormEps, 1e-5);
    QCOMPARE(got.ropeTheta, 10000.0);
    QCOMPARE(got.tieWordEmbeddings, tied);
    QCOMPARE(got.torchDtype, std::string("float32"));
    QVERIFY(m.tokenizerPath().empty());
    QVERIFY(m.notes().empty());

    // 1 embedding + 9 per layer + final norm (+ lm_head when untied), as named by Hugging Face.
    QCOMPARE(m.tensors().size(), size_t(1 + 9 * 2 + 1 + (tied ? 0 : 1)));
    QCOMPARE(m.hasTensor("lm_head.weight"), !tied);
    QVERIFY(m.hasTensor("model.layers.1.self_attn.k_proj.weight"));
    QCOMPARE(m.tensor("model.layers.1.self_attn.k_proj.weight").shape, (std::vector<int64_t>{8, 16}));
    QCOMPARE(m.tensor("model.layers.0.mlp.down_proj.weight").shape, (std::vector<int64_t>{16, 40}));
    QCOMPARE(m.tensor("model.embed_tokens.weight").shape, (std::vector<int64_t>{48, 16}));
    QVERIFY_THROWS_EXCEPTION(mpq::Error, m.tensor("model.layers.2.self_attn.q_proj.weight"));

    const StorageType want = dtype == "F32"   ? StorageType::F32
                             : dtype == "F16" ? StorageType::F16
                                              : StorageType::BF16;
    const std::string file = str(dir + "/model.safetensors");
    QCOMPARE(m.weightFiles(), std::vector<std::string>{file});
    for (const auto& t : tensors) {
        const TensorEntry& e = m.tensor(t.name);
        QCOMPARE(e.file, file);
        QCOMPARE(e.type, want);
        QCOMPARE(e.shape, t.shape);
        QCOMPARE(e.bytes, uint64_t(t.bytes.size()));
        QCOMPARE(e.interleavedRopeHeads, int64_t(0));
        std::string back(e.bytes, '\0');
        m.readRaw(e, back.data());
        QVERIFY2(back == t.bytes, t.name.c_str());
    }
}

void TestModelLoader::transformers5Config()
{
    // transformers 5 writes "dtype" and nests rope_theta in "rope_parameters".
    ModelConfig c = tinyConfig(true);
    c.ropeTheta = 500000.0;
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", configJson(c, ConfigStyle::Transformers5, "bfloat16")));
    QVERIFY(writeFile(dir + "/model.safetensors", safetensors(modelTensors(c, "BF16"))));
    const ModelSource m = ModelSource::open(str(dir));
    QCOMPARE(m.config().ropeTheta, 500000.0);
    QCOMPARE(m.config().torchDtype, std::string("bfloat16"));

    // The older style: "torch_dtype" and a top-level "rope_theta".
    c.ropeTheta = 250000.0;
    const QString dir4 = freshDir();
    QVERIFY(QDir().mkpath(dir4));
    QVERIFY(writeJson(dir4 + "/config.json", configJson(c, ConfigStyle::Transformers4, "float16")));
    QVERIFY(writeFile(dir4 + "/model.safetensors", safetensors(modelTensors(c, "F16"))));
    const ModelSource m4 = ModelSource::open(str(dir4));
    QCOMPARE(m4.config().ropeTheta, 250000.0);
    QCOMPARE(m4.config().torchDtype, std::string("float16"));
}

void TestModelLoader::configDefaultsAndHeadDim()
{
    // No num_key_value_heads: multi-head attention. An explicit head_dim that is not
    // hidden/heads changes the q/k/v/o shapes.
    ModelConfig c = tinyConfig(false);
    c.numKvHeads = c.numHeads;
    c.headDim = 6;
    QJsonObject j = configJson(c, ConfigStyle::Transformers4);
    j.remove("num_key_value_heads");
    j.remove("rms_norm_eps");
    j["head_dim"] = 6;
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", j));
    QVERIFY(writeFile(dir + "/model.safetensors", safetensors(modelTensors(c, "F32"))));
    const ModelSource m = ModelSource::open(str(dir));
    QCOMPARE(m.config().numKvHeads, int64_t(4));
    QCOMPARE(m.config().headDim, int64_t(6));
    QCOMPARE(m.config().rmsNormEps, 1e-6); // LlamaConfig's default
    QCOMPARE(m.tensor("model.layers.0.self_attn.q_proj.weight").shape, (std::vector<int64_t>{24, 16}));
    QCOMPARE(m.tensor("model.layers.0.self_attn.o_proj.weight").shape, (std::vector<int64_t>{16, 24}));
}

void TestModelLoader::openSafetensorsFileDirectly()
{
    const ModelConfig c = tinyConfig(true);
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, modelTensors(c, "F16")));
    const ModelSource m = ModelSource::open(str(dir + "/model.safetensors"));
    QCOMPARE(m.format(), mpq::ModelFormat::HuggingFace);
    QCOMPARE(m.config().hiddenSize, int64_t(16));
    QCOMPARE(m.tensors().size(), size_t(20));
}

void TestModelLoader::tokenizerLookup()
{
    const ModelConfig c = tinyConfig(true);
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, modelTensors(c, "F32")));
    QVERIFY(writeFile(dir + "/tokenizer.model", "not parsed by the loader"));
    QCOMPARE(ModelSource::open(str(dir)).tokenizerPath(), str(dir + "/tokenizer.model"));
    // With both files, tokenizer.json wins, as in transformers (a hub LLaMA-2 folder has both).
    QVERIFY(writeFile(dir + "/tokenizer.json", "{}"));
    QCOMPARE(ModelSource::open(str(dir)).tokenizerPath(), str(dir + "/tokenizer.json"));

    const QString other = m_tmp.filePath("elsewhere.model");
    QVERIFY(writeFile(other, "x"));
    QCOMPARE(ModelSource::open(str(dir), str(other)).tokenizerPath(), str(other));

    const QString missing = m_tmp.filePath("no-such-tokenizer.model");
    const Outcome o = tryOpen(dir, missing);
    QCOMPARE(o.kind, Outcome::MpqError);
    QVERIFY2(contains(o.message, str(missing)), o.message.c_str());
}

void TestModelLoader::extraTensorsAreNoted()
{
    const ModelConfig c = tinyConfig(true);
    auto tensors = modelTensors(c, "F32");
    tensors.push_back(
        {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {2}, tensorBytes(90, {2}, "F32")});
    tensors.push_back({"lm_head.weight", "F32", {48, 16}, tensorBytes(91, {48, 16}, "F32")});
    tensors.push_back({"model.extra.weight", "F32", {3}, tensorBytes(92, {3}, "F32")});
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, tensors));
    const ModelSource m = ModelSource::open(str(dir));
    // inv_freq is recomputed silently; the tied lm_head and the unknown tensor are noted.
    QCOMPARE(m.notes().size(), size_t(2));
    bool lmHead = false, extra = false;
    for (const auto& n : m.notes()) {
        lmHead |= contains(n, "lm_head.weight");
        extra |= contains(n, "model.extra.weight");
        QVERIFY2(!contains(n, "inv_freq"), n.c_str());
    }
    QVERIFY(lmHead && extra);
}

void TestModelLoader::sharded()
{
    const ModelConfig c = tinyConfig(false);
    const auto tensors = modelTensors(c, "F16");
    const ShardPlan plan = planShards(tensors, 3);
    const QString dir = freshDir();
    QVERIFY(writeSharded(dir, c, plan.shards, plan.weightMap));

    const ModelSource m = ModelSource::open(str(dir));
    QCOMPARE(m.tensors().size(), tensors.size());
    QCOMPARE(m.weightFiles().size(), size_t(3));
    for (const auto& [name, shard] : plan.weightMap) {
        const TensorEntry& e = m.tensor(name);
        QCOMPARE(e.file, str(dir + "/" + shard));
        QCOMPARE(e.type, StorageType::F16);
    }
    for (const auto& t : tensors) {
        const TensorEntry& e = m.tensor(t.name);
        std::string back(e.bytes, '\0');
        m.readRaw(e, back.data());
        QVERIFY2(back == t.bytes, t.name.c_str());
    }
    // transformers-5 style config in the sharded writer
    QCOMPARE(m.config().ropeTheta, 10000.0);
}

void TestModelLoader::llama2c_data()
{
    QTest::addColumn<bool>("shared");
    QTest::newRow("shared classifier") << true;
    QTest::newRow("unshared classifier") << false;
}

void TestModelLoader::llama2c()
{
    QFETCH(bool, shared);
    Llama2cHeader h;
    h.shared = shared;
    std::vector<Region> regions;
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    const QString file = dir + "/model.bin";
    QVERIFY(writeFile(file, llama2cBytes(h, &regions)));
    QVERIFY(writeFile(dir + "/tok48.model", "x"));

    const ModelSource m = ModelSource::open(str(file));
    QCOMPARE(m.format(), mpq::ModelFormat::Llama2c);
    const ModelConfig& c = m.config();
    QCOMPARE(c.hiddenSize, int64_t(16));
    QCOMPARE(c.intermediateSize, int64_t(40));
    QCOMPARE(c.numLayers, int64_t(2));
    QCOMPARE(c.numHeads, int64_t(4));
    QCOMPARE(c.numKvHeads, int64_t(2));
    QCOMPARE(c.headDim, int64_t(4));
    QCOMPARE(c.vocabSize, int64_t(48));
    QCOMPARE(c.maxPositions, int64_t(32));
    QCOMPARE(c.tieWordEmbeddings, shared);
    QCOMPARE(c.rmsNormEps, 1e-5);
    QCOMPARE(c.ropeTheta, 10000.0);
    QCOMPARE(m.tokenizerPath(), str(dir + "/tok48.model"));
    QCOMPARE(m.tensors().size(), size_t(1 + 9 * 2 + 1 + (shared ? 0 : 1)));

    // Each llama2.c region holds one kind of tensor for all layers; layer i's slice must be the
    // i-th part of the region, byte for byte.
    std::map<std::string, Region> byName;
    for (const auto& r : regions)
        byName[r.name] = r;
    auto expectSlice = [&](const std::string& tensor, const std::string& region, int64_t layer,
                           int64_t layers) -> bool {
        const TensorEntry& e = m.tensor(tensor);
        const Region& r = byName.at(region);
        const uint64_t part = r.bytes.size() / uint64_t(layers);
        if (e.bytes != part || e.offset != r.offset + uint64_t(layer) * part)
            return false;
        std::string back(e.bytes, '\0');
        m.readRaw(e, back.data());
        return back == r.bytes.substr(size_t(uint64_t(layer) * part), size_t(part));
    };
    using Linear = mpq::llama::Role;
    using mpq::llama::denseLinearTensor;
    QVERIFY(expectSlice("model.embed_tokens.weight", "token_embedding_table", 0, 1));
    QVERIFY(expectSlice("model.norm.weight", "rms_final_weight", 0, 1));
    for (int64_t i = 0; i < 2; ++i) {
        QVERIFY(expectSlice(mpq::llama::inputNormTensor(i), "rms_att_weight", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::Q), "wq", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::K), "wk", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::V), "wv", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::O), "wo", i, 2));
        QVERIFY(expectSlice(mpq::llama::postAttentionNormTensor(i), "rms_ffn_weight", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::Gate), "w1", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::Down), "w2", i, 2));
        QVERIFY(expectSlice(denseLinearTensor(i, Linear::Up), "w3", i, 2));
        // Only q and k carry llama2.c's interleaved rotary order (heads of each).
        QCOMPARE(m.tensor(denseLinearTensor(i, Linear::Q)).interleavedRopeHeads, int64_t(4));
        QCOMPARE(m.tensor(denseLinearTensor(i, Linear::K)).interleavedRopeHeads, int64_t(2));
        QCOMPARE(m.tensor(denseLinearTensor(i, Linear::V)).interleavedRopeHeads, int64_t(0));
        QCOMPARE(m.tensor(denseLinearTensor(i, Linear::O)).interleavedRopeHeads, int64_t(0));
    }
    QCOMPARE(m.hasTensor("lm_head.weight"), !shared);
    if (!shared) // wcls comes after the (unused) freq_cis tables
        QVERIFY(expectSlice("lm_head.weight", "wcls", 0, 1));
}

// ---------------------------------------------------------------------------------------------
// Broken safetensors files

void TestModelLoader::brokenSafetensors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("keyword");

    const ModelConfig c = tinyConfig(true);
    const auto tensors = modelTensors(c, "F32");
    const Layout base = layOut(tensors);
    const std::string header = headerText(base.entries);
    const std::string valid = assemble(header, base.data);
    auto row = [](const char* name, const std::string& bytes, const char* keyword) {
        QTest::newRow(name) << QByteArray(bytes.data(), int(bytes.size())) << QString(keyword);
    };
    auto withEntries = [&](const std::function<void(std::vector<HeaderEntry>&)>& edit) {
        std::vector<HeaderEntry> e = base.entries;
        edit(e);
        return assemble(headerText(e), base.data);
    };

    row("truncated data section", valid.substr(0, valid.size() - 7), "outside the data section");
    row("truncated inside the header", valid.substr(0, 8 + header.size() / 2), "past the end");
    row("shorter than the length field", valid.substr(0, 5), "too short");
    row("empty file", "", "too short");
    row("header length 2^60", littleEndian64(uint64_t(1) << 60) + valid.substr(8), "100 MB");
    row("header length past EOF", littleEndian64(valid.size() - 8 + 1) + valid.substr(8), "past the end");
    {
        std::string flipped = valid;
        for (size_t i = 8; i < 8 + 4; ++i)
            flipped[i] = char(~uint8_t(flipped[i]));
        row("header bytes flipped", flipped, "not valid JSON");
    }
    {
        std::string flipped = valid; // a flipped byte in the middle of the header
        flipped[8 + header.size() / 2] = char(0xff);
        row("header byte flipped mid-way", flipped, "not valid JSON");
    }
    row("header not an object", assemble("[1, 2, 3]", base.data), "not a JSON object");
    row("duplicate tensor name", withEntries([](auto& e) {
            e[2].name = e[1].name;
            e[2].shape = e[1].shape;
            e[2].end = e[2].begin + (e[1].end - e[1].begin);
        }),
        "appears twice");
    row("data offsets outside the file", withEntries([&](auto& e) {
            e.back().begin += 64;
            e.back().end += 64;
        }),
        "outside the data section");
    row("data offsets reversed", withEntries([](auto& e) { std::swap(e[1].begin, e[1].end); }),
        "outside the data section");
    row("overlapping tensors", withEntries([](auto& e) {
            // input_layernorm of layer 0 (e[1], 64 bytes) shifted half-way into the embedding
            const uint64_t n = e[1].end - e[1].begin;
            e[1].begin = e[0].end - n / 2;
            e[1].end = e[1].begin + n;
        }),
        "overlap");
    row("byte size not matching the shape", withEntries([](auto& e) { e[1].shape = {15}; }),
        "the shape needs");
    row("unsupported dtype I64", withEntries([](auto& e) {
            e[1].dtype = "I64"; // the 64 bytes of a [16] F32 norm read as [8] I64
            e[1].shape = {8};
        }),
        "I64");
    row("weight stored as I32 (a result-file dtype)", withEntries([](auto& e) { e[1].dtype = "I32"; }),
        "F32, F16 or BF16");
    row("negative shape", withEntries([](auto& e) { e[1].shape = {-16}; }), "non-negative");
    {
        std::string h = headerText(base.entries);
        const std::string key = "\"data_offsets\"";
        h.replace(h.find(key), key.size(), "\"data_offset_\"");
        row("missing data_offsets", assemble(h, base.data), "data_offsets");
    }
}

void TestModelLoader::brokenSafetensors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, keyword);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", configJson(tinyConfig(true), ConfigStyle::Transformers4)));
    const QString file = dir + "/model.safetensors";
    QVERIFY(writeFile(file, bytes.toStdString()));
    VERIFY_REFUSED(dir, file, str(keyword));
}

void TestModelLoader::wrongShapeAgainstConfig()
{
    const ModelConfig c = tinyConfig(true);
    auto tensors = modelTensors(c, "F32");
    for (auto& t : tensors)
        if (t.name == "model.layers.1.self_attn.k_proj.weight")
            t.shape = {16, 8}; // transposed: same bytes, wrong shape
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, tensors));
    VERIFY_REFUSED(dir, dir + "/model.safetensors", "model.layers.1.self_attn.k_proj.weight");
    VERIFY_REFUSED(dir, dir + "/model.safetensors", "[8, 16]");
}

void TestModelLoader::missingTensor()
{
    const ModelConfig c = tinyConfig(true);
    auto tensors = modelTensors(c, "F32");
    tensors.erase(
        std::remove_if(tensors.begin(), tensors.end(),
                       [](const RawTensor& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; }),
        tensors.end());
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, tensors));
    VERIFY_REFUSED(dir, dir, "model.layers.1.mlp.up_proj.weight");
}

void TestModelLoader::missingLmHeadWhenUntied()
{
    const ModelConfig untied = tinyConfig(false);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", configJson(untied, ConfigStyle::Transformers4)));
    QVERIFY(writeFile(dir + "/model.safetensors", safetensors(modelTensors(tinyConfig(true), "F32"))));
    VERIFY_REFUSED(dir, dir, "lm_head.weight");
}

// ---------------------------------------------------------------------------------------------
// Broken sharded checkpoints

void TestModelLoader::brokenSharded_data()
{
    QTest::addColumn<int>("kase");
    QTest::addColumn<QString>("named"); ///< file the message must name, relative to the folder
    QTest::addColumn<QString>("keyword");
    QTest::newRow("missing shard file") << 0 << "model.safetensors.index.json"
                                        << "does not exist";
    QTest::newRow("tensor mapped to the wrong shard") << 1 << "model.safetensors.index.json"
                                                      << "is mapped to";
    QTest::newRow("tensor in two shards") << 2 << shardName(1, 3) << "also stored in";
    QTest::newRow("tensor listed but absent") << 3 << shardName(0, 3) << "missing from the shard";
    QTest::newRow("index not JSON") << 4 << "model.safetensors.index.json"
                                    << "not valid JSON";
    QTest::newRow("index without weight_map") << 5 << "model.safetensors.index.json"
                                              << "weight_map";
    QTest::newRow("shard name escaping the folder") << 6 << "model.safetensors.index.json"
                                                    << "plain file name";
    QTest::newRow("corrupt shard") << 7 << shardName(2, 3) << "outside the data section";
}

void TestModelLoader::brokenSharded()
{
    QFETCH(int, kase);
    QFETCH(QString, named);
    QFETCH(QString, keyword);
    const ModelConfig c = tinyConfig(false);
    const auto tensors = modelTensors(c, "F32");
    ShardPlan plan = planShards(tensors, 3);
    const QString dir = freshDir();
    const QString index = dir + "/model.safetensors.index.json";
    switch (kase) {
    case 1: // tensors[0] sits in shard 1 but the index says shard 2
        plan.weightMap[0].second = shardName(1, 3);
        break;
    case 2: // tensors[0] (in shard 1) is also written into shard 2
        plan.shards[1].push_back(tensors[0]);
        break;
    case 3: // the index lists a tensor that shard 1 does not hold
        plan.shards[0].erase(plan.shards[0].begin());
        break;
    case 6:
        plan.weightMap[0].second = "../" + shardName(0, 3);
        break;
    default:
        break;
    }
    QVERIFY(writeSharded(dir, c, plan.shards, plan.weightMap));
    if (kase == 0) // the index names a shard that is not there
        QVERIFY(QFile::remove(dir + "/" + shardName(2, 3)));
    if (kase == 4)
        QVERIFY(writeFile(index, "{\"weight_map\": {\"a\": "));
    if (kase == 5)
        QVERIFY(writeFile(index, "{\"metadata\": {}}"));
    if (kase == 7) {
        const QString shard = dir + "/" + shardName(2, 3);
        const std::string bytes = readFile(shard);
        QVERIFY(writeFile(shard, bytes.substr(0, bytes.size() - 3)));
    }
    VERIFY_REFUSED(dir, dir + "/" + named, str(keyword));
}

// ---------------------------------------------------------------------------------------------
// Broken config.json

void TestModelLoader::brokenConfig_data()
{
    QTest::addColumn<QByteArray>("config");
    QTest::addColumn<QString>("keyword");
    const QJsonObject good = configJson(tinyConfig(true), ConfigStyle::Transformers5);
    auto row = [](const char* name, const QByteArray& json, const char* keyword) {
        QTest::newRow(name) << json << QString(keyword);
    };
    auto edited = [&](const std::function<void(QJsonObject&)>& edit) {
        QJsonObject j = good;
        edit(j);
        return QJsonDocument(j).toJson();
    };
    row("invalid JSON", QJsonDocument(good).toJson().left(40), "not valid JSON");
    row("not an object", "[1, 2]", "JSON object");
    row("missing hidden_size", edited([](QJsonObject& j) { j.remove("hidden_size"); }), "hidden_size");
    row("hidden_size a string", edited([](QJsonObject& j) { j["hidden_size"] = "16"; }), "hidden_size");
    row("model_type gpt2", edited([](QJsonObject& j) { j["model_type"] = "gpt2"; }), "gpt2");
    row("rope type llama3", edited([](QJsonObject& j) {
            j["rope_parameters"] = QJsonObject{{"rope_theta", 500000.0}, {"rope_type", "llama3"}};
        }),
        "llama3");
    row("longrope scaling", edited([](QJsonObject& j) {
            j["rope_scaling"] = QJsonObject{{"type", "longrope"}, {"factor", 2.0}};
        }),
        "longrope");
    row("yarn without factor", edited([](QJsonObject& j) {
            j["rope_scaling"] = QJsonObject{{"rope_type", "yarn"}};
        }),
        "factor");
    row("partial rotary", edited([](QJsonObject& j) {
            j["rope_parameters"] = QJsonObject{{"rope_type", "default"}, {"partial_rotary_factor", 0.5}};
        }),
        "partial_rotary_factor");
    row("mistral attention bias", edited([](QJsonObject& j) {
            j["model_type"] = "mistral";
            j["attention_bias"] = true;
        }),
        "attention_bias");
    row("qwen2_moe without experts", edited([](QJsonObject& j) { j["model_type"] = "qwen2_moe"; }), "num_experts");
    row("more experts per token than experts", edited([](QJsonObject& j) {
            j["model_type"] = "qwen3_moe";
            j["num_experts"] = 2;
            j["num_experts_per_tok"] = 3;
            j["moe_intermediate_size"] = 8;
        }),
        "exceeds");
    row("layer_types of the wrong length", edited([](QJsonObject& j) {
            j["model_type"] = "qwen2";
            j["use_sliding_window"] = true;
            j["sliding_window"] = 4;
            j["layer_types"] = QJsonArray{"full_attention"};
        }),
        "layer_types");
    row("gelu activation", edited([](QJsonObject& j) { j["hidden_act"] = "gelu"; }), "gelu");
    row("kv heads not dividing heads", edited([](QJsonObject& j) { j["num_key_value_heads"] = 3; }),
        "multiple");
    row("zero layers", edited([](QJsonObject& j) { j["num_hidden_layers"] = 0; }), "layers");
    row("negative vocabulary", edited([](QJsonObject& j) { j["vocab_size"] = -48; }), "vocabulary");
}

void TestModelLoader::brokenConfig()
{
    QFETCH(QByteArray, config);
    QFETCH(QString, keyword);
    const ModelConfig c = tinyConfig(true);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeFile(dir + "/config.json", config.toStdString()));
    QVERIFY(writeFile(dir + "/model.safetensors", safetensors(modelTensors(c, "F32"))));
    VERIFY_REFUSED(dir, dir + "/config.json", str(keyword));
}

// ---------------------------------------------------------------------------------------------
// Broken llama2.c files

void TestModelLoader::brokenLlama2c_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("keyword");
    Llama2cHeader h;
    const std::string valid = llama2cBytes(h);
    auto row = [](const char* name, const std::string& bytes, const char* keyword) {
        QTest::newRow(name) << QByteArray(bytes.data(), int(bytes.size())) << QString(keyword);
    };
    row("file 4 bytes short", valid.substr(0, valid.size() - 4), "implies");
    row("file 4 bytes long", valid + std::string(4, '\0'), "implies");
    {
        // A negative vocabulary size says a classifier follows (llama2.c's unshared header); the file has none.
        std::string b = valid;
        const int32_t v = -h.vocab;
        std::memcpy(&b[5 * 4], &v, 4);
        row("unshared header without classifier", b, "implies");
    }
    {
        std::string b = valid; // llama2.c version 1/2 files start with the magic 0x616b3432
        const uint32_t magic = 0x616b3432u;
        std::memcpy(&b[0], &magic, 4);
        row("ak42 magic", b, "ak42");
    }
    row("shorter than the header", valid.substr(0, 20), "too short");
    {
        std::string b = valid;
        const int32_t heads = 3;
        std::memcpy(&b[3 * 4], &heads, 4);
        row("dim not divisible by heads", b, "divisible");
    }
    {
        std::string b = valid;
        const int32_t layers = 0;
        std::memcpy(&b[2 * 4], &layers, 4);
        row("zero layers", b, "layers");
    }
}

void TestModelLoader::brokenLlama2c()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, keyword);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    const QString file = dir + "/model.bin";
    QVERIFY(writeFile(file, bytes.toStdString()));
    VERIFY_REFUSED(file, file, str(keyword));
}

void TestModelLoader::pickledCheckpointsRefused()
{
    // A folder holding only a pickled checkpoint: refused without reading it (the bytes here would
    // not unpickle anyway; what matters is that nothing tries).
    const ModelConfig c = tinyConfig(true);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", configJson(c, ConfigStyle::Transformers4)));
    QVERIFY(writeFile(dir + "/pytorch_model.bin", "PK\x03\x04 a zip of pickles"));
    VERIFY_REFUSED(dir, dir, "pickled");
    // Named directly, a pytorch_model.bin beside a config.json is not mistaken for llama2.c.
    VERIFY_REFUSED(dir + "/pytorch_model.bin", dir + "/pytorch_model.bin", "pickled");
}

void TestModelLoader::fileChangedAfterOpen()
{
    // Opening reads headers only; a read after the file shrank reports the file, not garbage.
    const ModelConfig c = tinyConfig(true);
    const QString dir = freshDir();
    QVERIFY(writeHfFolder(dir, c, modelTensors(c, "F32")));
    const ModelSource m = ModelSource::open(str(dir));
    const QString file = dir + "/model.safetensors";
    const std::string bytes = readFile(file);
    QVERIFY(writeFile(file, bytes.substr(0, bytes.size() / 2)));
    const TensorEntry& last = m.tensor("model.norm.weight");
    std::string back(last.bytes, '\0');
    try {
        m.readRaw(last, back.data());
        QFAIL("a read past the end of the shrunk file succeeded");
    } catch (const mpq::Error& e) {
        QVERIFY2(contains(e.what(), str(file)), e.what());
    }
}

void TestModelLoader::absurdContextLength()
{
    // ModelConfig::validate bounds hidden, intermediate, layers and vocabulary ("implausibly large
    // dimensions") but not max_position_embeddings, although LlamaModel builds its rotary tables
    // for maxPositions positions (Rope::build: positions × head_dim floats, twice, plus
    // temporaries) and fp32 positions stop being exact above 2^24. A config.json saying 2^40
    // opens today and would make the first forward pass allocate terabytes. Expected: refused
    // at open, naming config.json.
    ModelConfig c = tinyConfig(true);
    QJsonObject j = configJson(c, ConfigStyle::Transformers5);
    j["max_position_embeddings"] = double(int64_t(1) << 40);
    const QString dir = freshDir();
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeJson(dir + "/config.json", j));
    QVERIFY(writeFile(dir + "/model.safetensors", safetensors(modelTensors(c, "F32"))));
    VERIFY_REFUSED(dir, dir + "/config.json", "max");
}

void TestModelLoader::notAModel()
{
    const QString missing = m_tmp.filePath("does/not/exist");
    VERIFY_REFUSED(missing, missing, "no such file");
    const QString empty = freshDir();
    QVERIFY(QDir().mkpath(empty));
    VERIFY_REFUSED(empty, empty, "config.json");
    const QString onlyConfig = freshDir();
    QVERIFY(QDir().mkpath(onlyConfig));
    QVERIFY(writeJson(onlyConfig + "/config.json", configJson(tinyConfig(true), ConfigStyle::Transformers4)));
    VERIFY_REFUSED(onlyConfig, onlyConfig, "model.safetensors");
    const QString text = m_tmp.filePath("notes.txt");
    QVERIFY(writeFile(text, "hello"));
    VERIFY_REFUSED(text, text, "not a model");
}

// ---------------------------------------------------------------------------------------------
// The real models of the shared data

void TestModelLoader::realMpqLlama42m()
{
    MPQ_DATA_PATH(dir, "models/mpq-llama-42m");
    const ModelSource m = ModelSource::open(dir);
    const ModelConfig& c = m.config();
    QCOMPARE(m.format(), mpq::ModelFormat::HuggingFace);
    QCOMPARE(c.numLayers, int64_t(8));
    QCOMPARE(c.hiddenSize, int64_t(512));
    QCOMPARE(c.intermediateSize, int64_t(1408));
    QCOMPARE(c.numHeads, int64_t(8));
    QCOMPARE(c.numKvHeads, int64_t(8));
    QCOMPARE(c.headDim, int64_t(64));
    QCOMPARE(c.vocabSize, int64_t(32000));
    QCOMPARE(c.maxPositions, int64_t(2048));
    QVERIFY(c.tieWordEmbeddings);
    QCOMPARE(c.ropeTheta, 10000.0);
    QCOMPARE(c.rmsNormEps, 1e-5);
    QCOMPARE(c.torchDtype, std::string("float16"));
    // The index's metadata says 42,082,816 parameters.
    QCOMPARE(c.totalParameters(), int64_t(42082816));
    QCOMPARE(m.weightFiles().size(), size_t(5));
    QCOMPARE(m.tensors().size(), size_t(1 + 9 * 8 + 1));
    uint64_t bytes = 0;
    for (const auto& t : m.tensors()) {
        QCOMPARE(t.type, StorageType::F16);
        bytes += t.bytes;
    }
    QCOMPARE(bytes, uint64_t(84165632)); // the index's total_size
    QCOMPARE(m.tokenizerPath(),
             str(QDir::cleanPath(QFileInfo(toQ(dir)).absoluteFilePath() + "/tokenizer.model")));
}

void TestModelLoader::realStories260K()
{
    MPQ_DATA_PATH(file, "models/stories260K/stories260K.bin");
    const ModelSource m = ModelSource::open(file);
    const ModelConfig& c = m.config();
    QCOMPARE(m.format(), mpq::ModelFormat::Llama2c);
    QCOMPARE(c.hiddenSize, int64_t(64));
    QCOMPARE(c.intermediateSize, int64_t(172));
    QCOMPARE(c.numLayers, int64_t(5));
    QCOMPARE(c.numHeads, int64_t(8));
    QCOMPARE(c.numKvHeads, int64_t(4));
    QCOMPARE(c.headDim, int64_t(8));
    QCOMPARE(c.vocabSize, int64_t(512));
    QCOMPARE(c.maxPositions, int64_t(512));
    QVERIFY(c.tieWordEmbeddings);
    QVERIFY(!m.hasTensor("lm_head.weight"));
    QCOMPARE(m.tensors().size(), size_t(1 + 9 * 5 + 1));
    QVERIFY(contains(m.tokenizerPath(), "tok512.model"));
    QCOMPARE(m.tensor("model.layers.4.self_attn.k_proj.weight").shape, (std::vector<int64_t>{32, 64}));
    QCOMPARE(m.tensor("model.layers.4.self_attn.k_proj.weight").interleavedRopeHeads, int64_t(4));
}

// The embedded demo model (resources/demo/model): runs on every clone, without MPQ_DATA_DIR, so
// that a broken safetensors loader or tokenizer fails there too.
void TestModelLoader::embeddedDemoModel()
{
    MPQ_DEMO_MODEL(demo);
    const ModelSource m = ModelSource::open(demo.dir);
    const ModelConfig& c = m.config();
    QCOMPARE(m.format(), mpq::ModelFormat::HuggingFace);
    QCOMPARE(c.numLayers, int64_t(5));
    QCOMPARE(c.hiddenSize, int64_t(64));
    QCOMPARE(c.intermediateSize, int64_t(192));
    QCOMPARE(c.numHeads, int64_t(8));
    QCOMPARE(c.numKvHeads, int64_t(8));
    QCOMPARE(c.headDim, int64_t(8));
    QCOMPARE(c.vocabSize, int64_t(512));
    QCOMPARE(c.maxPositions, int64_t(256));
    QVERIFY(!c.tieWordEmbeddings);
    QCOMPARE(c.torchDtype, std::string("float16"));
    // embed + lm_head (512 x 64 each) + final norm + 5 x (4 x 64^2 + 3 x 64 x 192 + 2 x 64)
    QCOMPARE(c.totalParameters(), int64_t(2 * 512 * 64 + 64 + 5 * (4 * 64 * 64 + 3 * 64 * 192 + 2 * 64)));
    QCOMPARE(m.tensors().size(), size_t(1 + 9 * 5 + 2));
    for (const auto& t : m.tensors())
        QCOMPARE(t.type, StorageType::F16);
    // Every weight reads back finite, with a trained (not constant) spread.
    for (const auto& t : m.tensors()) {
        const at::Tensor w = mpq::detail::loadTensor(m, t.name, at::kFloat, at::kCPU);
        QCOMPARE(w.sizes().vec(), t.shape);
        QVERIFY2(w.isfinite().all().item<bool>(), t.name.c_str());
        if (w.dim() == 2)
            QVERIFY2(w.std().item<double>() > 1e-3, t.name.c_str());
    }
    // Its tokenizer.json: 20,938 tokens of demo-valid.txt plus BOS, as the tool that made it counted.
    QVERIFY(contains(m.tokenizerPath(), "tokenizer.json"));
    const auto tok = mpq::openTokenizer(m.tokenizerPath());
    QCOMPARE(tok->vocabSize(), int32_t(512));
    QCOMPARE(tok->bosId(), int32_t(1));
    const std::vector<int32_t> ids = tok->encodeForModel(mpq::files::readAll(demo.validText));
    QCOMPARE(ids.size(), size_t(20938 + 1));
    QCOMPARE(ids.front(), int32_t(1));
}

QTEST_GUILESS_MAIN(TestModelLoader)
#include "tst_modelloader.moc"
