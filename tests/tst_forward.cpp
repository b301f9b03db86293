// The LLaMA forward pass (engine/model/detail/LlamaModel.h) against a reference written here in
// the most literal way: fp64, explicit loops over positions and heads, eager attention with an
// explicit causal mask, Hugging Face's rotate_half RoPE (or llama2.c's interleaved pairs), SwiGLU.
// The models are tiny and random (seeded), written by the test as Hugging Face folders or llama2.c
// .bin files, so every loader path feeds the same forward code.

#include "TestData.h"

#include "core/Device.h"
#include "core/Error.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace
{

using mpq::ModelConfig;
using mpq::llama::Stage;
using Linear = mpq::llama::Role;

const at::Device kCpu(at::kCPU);

// ---------------------------------------------------------------------------------------------
// A random model and how it is written to disk

/// fp32 weights by Hugging Face name (for llama2.c models: q/k rows in llama2.c's own order).
struct Weights {
    ModelConfig config;
    std::map<std::string, at::Tensor> w;
    const at::Tensor& operator[](const std::string& name) const { return w.at(name); }
};

ModelConfig makeConfig(int64_t hidden, int64_t intermediate, int64_t layers, int64_t heads, int64_t kvHeads,
                       int64_t vocab, bool tied, int64_t headDim = 0)
{
    ModelConfig c;
    c.hiddenSize = hidden;
    c.intermediateSize = intermediate;
    c.numLayers = layers;
    c.numHeads = heads;
    c.numKvHeads = kvHeads;
    c.headDim = headDim > 0 ? headDim : hidden / heads;
    c.vocabSize = vocab;
    c.maxPositions = 512;
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    c.tieWordEmbeddings = tied;
    return c;
}

/// Seeded weights scaled so that activations and logits are of order one.
Weights randomWeights(const ModelConfig& c, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    Weights r{c, {}};
    for (const auto& want : mpq::llama::expectedTensors(c)) {
        at::Tensor t = at::randn(want.shape, gen, at::TensorOptions().dtype(at::kFloat));
        if (want.shape.size() == 1) // norm weights near one
            t = 1.0 + 0.2 * t;
        else if (want.name != mpq::llama::embedTensor())
            t = t / std::sqrt(double(want.shape[1]));
        r.w[want.name] = t.contiguous();
    }
    return r;
}

bool writeFile(const QString& path, const std::string& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           f.write(bytes.data(), qint64(bytes.size())) == qint64(bytes.size());
}

std::string bytesOf(const at::Tensor& t)
{
    const at::Tensor c = t.contiguous();
    return std::string(static_cast<const char*>(c.data_ptr()), size_t(c.nbytes()));
}

const char* safetensorsDtype(at::ScalarType t)
{
    return t == at::kHalf ? "F16" : t == at::kBFloat16 ? "BF16" : "F32";
}

/// config.json (transformers-5 style) + model.safetensors with every weight stored as `stored`.
bool writeHuggingFace(const QString& dir, const Weights& m, at::ScalarType stored)
{
    const ModelConfig& c = m.config;
    QJsonObject j{{"model_type", "llama"},
                  {"hidden_act", "silu"},
                  {"hidden_size", qint64(c.hiddenSize)},
                  {"intermediate_size", qint64(c.intermediateSize)},
                  {"num_hidden_layers", qint64(c.numLayers)},
                  {"num_attention_heads", qint64(c.numHeads)},
                  {"num_key_value_heads", qint64(c.numKvHeads)},
                  {"head_dim", qint64(c.headDim)},
                  {"vocab_size", qint64(c.vocabSize)},
                  {"max_position_embeddings", qint64(c.maxPositions)},
                  {"rms_norm_eps", c.rmsNormEps},
                  {"tie_word_embeddings", c.tieWordEmbeddings},
                  {"dtype", "float32"},
                  {"rope_parameters", QJsonObject{{"rope_theta", c.ropeTheta}, {"rope_type", "default"}}}};
    std::string header = "{", data;
    for (const auto& [name, t] : m.w) {
        const std::string bytes = bytesOf(t.to(stored));
        header += (header.size() > 1 ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"" +
                  safetensorsDtype(stored) + "\",\"shape\":[";
        for (int64_t d = 0; d < t.dim(); ++d)
            header += (d ? "," : "") + std::to_string(t.size(d));
        header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + bytes.size()) + "]}";
        data += bytes;
    }
    header += "}";
    std::string length(8, '\0');
    for (int i = 0; i < 8; ++i)
        length[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
    return QDir().mkpath(dir) && writeFile(dir + "/config.json", QJsonDocument(j).toJson().toStdString()) &&
           writeFile(dir + "/model.safetensors", length + header + data);
}

/// A llama2.c legacy .bin (export.py's legacy_export layout) holding the weights verbatim.
bool writeLlama2c(const QString& file, const Weights& m, int32_t seqLen)
{
    const ModelConfig& c = m.config;
    std::string out;
    const int32_t header[7] = {int32_t(c.hiddenSize),
                               int32_t(c.intermediateSize),
                               int32_t(c.numLayers),
                               int32_t(c.numHeads),
                               int32_t(c.numKvHeads),
                               int32_t(c.tieWordEmbeddings ? c.vocabSize : -c.vocabSize),
                               seqLen};
    out.append(reinterpret_cast<const char*>(header), sizeof header);
    auto all = [&](auto nameOf) {
        for (int64_t i = 0; i < c.numLayers; ++i)
            out += bytesOf(m[nameOf(i)]);
    };
    using namespace mpq::llama;
    out += bytesOf(m[embedTensor()]);
    all([](int64_t i) { return inputNormTensor(i); });
    all([](int64_t i) { return denseLinearTensor(i, Linear::Q); });
    all([](int64_t i) { return denseLinearTensor(i, Linear::K); });
    all([](int64_t i) { return denseLinearTensor(i, Linear::V); });
    all([](int64_t i) { return denseLinearTensor(i, Linear::O); });
    all([](int64_t i) { return postAttentionNormTensor(i); });
    all([](int64_t i) { return denseLinearTensor(i, Linear::Gate); }); // w1
    all([](int64_t i) { return denseLinearTensor(i, Linear::Down); }); // w2
    all([](int64_t i) { return denseLinearTensor(i, Linear::Up); });   // w3
    out += bytesOf(m[finalNormTensor()]);
    // freq_cis_real / freq_cis_imag: llama2.c's own tables; a reader must skip them.
    const int64_t half = c.headDim / 2;
    at::Tensor angles =
        at::outer(at::arange(seqLen, at::kFloat),
                  at::pow(10000.0, -at::arange(0, c.headDim, 2, at::kFloat) / double(c.headDim)));
    out += bytesOf(angles.cos().view({seqLen, half}));
    out += bytesOf(angles.sin().view({seqLen, half}));
    if (!c.tieWordEmbeddings)
        out += bytesOf(m[lmHeadTensor()]);
    return writeFile(file, out);
}

// ---------------------------------------------------------------------------------------------
// The reference forward pass (fp64, one sequence)

enum class RopeStyle { HalfSplit, InterleavedPairs };

at::Tensor f64(const at::Tensor& t)
{
    return t.to(at::kDouble);
}

/// RMSNorm row by row: x / sqrt(mean(x²) + eps) · w.
at::Tensor refRmsNorm(const at::Tensor& x, const at::Tensor& w, double eps)
{
    at::Tensor out = at::empty_like(x);
    for (int64_t t = 0; t < x.size(0); ++t) {
        const at::Tensor row = x[t];
        const double meanSquare = (row * row).sum().item<double>() / double(row.size(0));
        out[t] = row / std::sqrt(meanSquare + eps) * w;
    }
    return out;
}

/// Rotary embedding of one head's vectors [T, hd], position t = row t.
/// HalfSplit: Hugging Face's rotate_half, pairs (i, i + hd/2). InterleavedPairs: llama2.c's run.c,
/// pairs (2i, 2i+1). Both rotate pair i by t·θ^(-2i/hd).
at::Tensor refRope(const at::Tensor& x, double theta, RopeStyle style)
{
    const int64_t T = x.size(0), hd = x.size(1);
    at::Tensor out = x.clone();
    auto in = x.accessor<double, 2>();
    auto o = out.accessor<double, 2>();
    for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < hd / 2; ++i) {
            const double angle = double(t) * std::pow(theta, -2.0 * double(i) / double(hd));
            const int64_t a = style == RopeStyle::HalfSplit ? i : 2 * i;
            const int64_t b = style == RopeStyle::HalfSplit ? i + hd / 2 : 2 * i + 1;
            o[t][a] = in[t][a] * std::cos(angle) - in[t][b] * std::sin(angle);
            o[t][b] = in[t][b] * std::cos(angle) + in[t][a] * std::sin(angle);
        }
    return out;
}

/// What one decoder layer computes, step by step (every tensor [T, ·]).
struct RefLayer {
    at::Tensor attnInput;  ///< input_layernorm(x): the input of q/k/v
    at::Tensor attnOutput; ///< heads concatenated: the input of o_proj
    at::Tensor mlpInput;   ///< post_attention_layernorm(h): the input of gate/up
    at::Tensor mlpHidden;  ///< silu(gate) · up: the input of down_proj
    at::Tensor output;
};

RefLayer refLayer(const Weights& m, int64_t layer, const at::Tensor& x, RopeStyle style)
{
    const ModelConfig& c = m.config;
    auto W = [&](Linear l) { return f64(m[mpq::llama::denseLinearTensor(layer, l)]); };
    const int64_t T = x.size(0), hd = c.headDim, group = c.numHeads / c.numKvHeads;
    RefLayer r;
    r.attnInput = refRmsNorm(x, f64(m[mpq::llama::inputNormTensor(layer)]), c.rmsNormEps);
    const at::Tensor q = at::matmul(r.attnInput, W(Linear::Q).t());
    const at::Tensor k = at::matmul(r.attnInput, W(Linear::K).t());
    const at::Tensor v = at::matmul(r.attnInput, W(Linear::V).t());
    std::vector<at::Tensor> heads;
    for (int64_t h = 0; h < c.numHeads; ++h) {
        const int64_t kvh = h / group; // query head h reads key/value head h / (heads / kv heads)
        const at::Tensor qh = refRope(q.slice(1, h * hd, (h + 1) * hd).contiguous(), c.ropeTheta, style);
        const at::Tensor kh = refRope(k.slice(1, kvh * hd, (kvh + 1) * hd).contiguous(), c.ropeTheta, style);
        const at::Tensor vh = v.slice(1, kvh * hd, (kvh + 1) * hd);
        at::Tensor scores = at::matmul(qh, kh.t()) / std::sqrt(double(hd));
        auto s = scores.accessor<double, 2>();
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = i + 1; j < T; ++j)
                s[i][j] = -std::numeric_limits<double>::infinity(); // position i sees 0..i
        heads.push_back(at::matmul(at::softmax(scores, -1), vh));
    }
    r.attnOutput = at::cat(heads, 1);
    const at::Tensor h = x + at::matmul(r.attnOutput, W(Linear::O).t());
    r.mlpInput = refRmsNorm(h, f64(m[mpq::llama::postAttentionNormTensor(layer)]), c.rmsNormEps);
    const at::Tensor gate = at::matmul(r.mlpInput, W(Linear::Gate).t());
    const at::Tensor up = at::matmul(r.mlpInput, W(Linear::Up).t());
    r.mlpHidden = gate / (1.0 + at::exp(-gate)) * up; // silu(g) = g·σ(g)
    r.output = h + at::matmul(r.mlpHidden, W(Linear::Down).t());
    return r;
}

at::Tensor refEmbed(const Weights& m, const std::vector<int64_t>& ids)
{
    const at::Tensor table = f64(m[mpq::llama::embedTensor()]);
    std::vector<at::Tensor> rows;
    for (int64_t id : ids)
        rows.push_back(table[id]);
    return at::stack(rows);
}

/// Logits [T, vocab] of one sequence.
at::Tensor refLogits(const Weights& m, const std::vector<int64_t>& ids, RopeStyle style)
{
    const ModelConfig& c = m.config;
    at::Tensor x = refEmbed(m, ids);
    for (int64_t i = 0; i < c.numLayers; ++i)
        x = refLayer(m, i, x, style).output;
    const at::Tensor head =
        f64(m[c.tieWordEmbeddings ? mpq::llama::embedTensor() : mpq::llama::lmHeadTensor()]);
    return at::matmul(refRmsNorm(x, f64(m[mpq::llama::finalNormTensor()]), c.rmsNormEps), head.t());
}

/// Next-token NLL [T-1]: −log softmax(logits[t])[ids[t+1]].
at::Tensor refNll(const at::Tensor& logits, const std::vector<int64_t>& ids)
{
    const at::Tensor logp = at::log_softmax(logits, -1);
    at::Tensor out = at::empty({int64_t(ids.size()) - 1}, at::kDouble);
    for (size_t t = 0; t + 1 < ids.size(); ++t)
        out[int64_t(t)] = -logp[int64_t(t)][ids[t + 1]];
    return out;
}

/// Seeded token ids in [0, vocab).
std::vector<int64_t> randomIds(int64_t n, int64_t vocab, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    const at::Tensor t = at::randint(vocab, {n}, gen, at::TensorOptions().dtype(at::kLong));
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

at::Tensor idsTensor(const std::vector<std::vector<int64_t>>& batch)
{
    at::Tensor t = at::empty({int64_t(batch.size()), int64_t(batch[0].size())}, at::kLong);
    for (size_t b = 0; b < batch.size(); ++b)
        for (size_t i = 0; i < batch[b].size(); ++i)
            t[int64_t(b)][int64_t(i)] = batch[b][i];
    return t;
}

at::Tensor engineLogits(const mpq::detail::LlamaModel& model, const at::Tensor& ids)
{
    at::Tensor h = model.embed(ids);
    for (int64_t i = 0; i < model.config().numLayers; ++i)
        h = model.layer(i, h);
    return model.logits(h);
}

double maxAbsDiff(const at::Tensor& a, const at::Tensor& b)
{
    return (f64(a) - f64(b)).abs().max().item<double>();
}

QString diffText(const char* what, double diff, double tol)
{
    return QStringLiteral("%1: max |difference| %2 exceeds %3").arg(what).arg(diff, 0, 'g', 3).arg(tol);
}

} // namespace

class TestForward : public QObject
{
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase();

    void rmsNormAndRopeTables();
    void fp32MatchesReference_data();
    void fp32MatchesReference();
    void halfPrecisionStorage_data();
    void halfPrecisionStorage();
    void halfPrecisionCompute_data();
    void halfPrecisionCompute();
    void llama2cPermutation_data();
    void llama2cPermutation();
    void causality();
    void layerByLayerEqualsTokenNll();
    void observerSeesGroupInputs();
    void observerStopsEarly();
    void cudaMatchesCpu();

  private:
    QString writeModel(const Weights& m, at::ScalarType stored = at::kFloat);
    QTemporaryDir m_tmp;
    int m_counter = 0;
};

void TestForward::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    at::manual_seed(0);
}

QString TestForward::writeModel(const Weights& m, at::ScalarType stored)
{
    const QString dir = m_tmp.filePath(QStringLiteral("model%1").arg(++m_counter));
    return writeHuggingFace(dir, m, stored) ? dir : QString();
}

void TestForward::rmsNormAndRopeTables()
{
    // rmsNorm against the row-by-row formula.
    at::Generator gen = at::detail::createCPUGenerator(7);
    const at::Tensor x = at::randn({2, 5, 16}, gen, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor w = at::randn({16}, gen, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor got = mpq::detail::rmsNorm(x, w, 1e-5);
    for (int64_t b = 0; b < 2; ++b) {
        const double d = maxAbsDiff(got[b], refRmsNorm(f64(x[b]), f64(w), 1e-5));
        QVERIFY2(d < 1e-5, qPrintable(diffText("rmsNorm", d, 1e-5)));
    }

    // Rope tables: cos/sin of t·θ^(-2i/d), duplicated over both halves.
    ModelConfig c = makeConfig(32, 64, 1, 4, 2, 50, true);
    c.ropeTheta = 500000.0;
    const mpq::detail::Rope rope = mpq::detail::Rope::build(c, 40, kCpu);
    QCOMPARE(rope.cos.sizes().vec(), (std::vector<int64_t>{40, 8}));
    QCOMPARE(rope.cos.scalar_type(), at::kFloat);
    double worst = 0;
    for (int64_t t = 0; t < 40; ++t)
        for (int64_t i = 0; i < 4; ++i) {
            const double angle = double(t) * std::pow(500000.0, -2.0 * double(i) / 8.0);
            for (int64_t col : {i, i + 4}) {
                worst = std::max(worst, std::abs(rope.cos[t][col].item<double>() - std::cos(angle)));
                worst = std::max(worst, std::abs(rope.sin[t][col].item<double>() - std::sin(angle)));
            }
        }
    QVERIFY2(worst < 1e-5, qPrintable(diffText("rope tables", worst, 1e-5)));
}

void TestForward::fp32MatchesReference_data()
{
    QTest::addColumn<int>("variant");
    QTest::addColumn<int>("tokens");
    QTest::newRow("GQA untied") << 0 << 12;
    QTest::newRow("GQA tied") << 1 << 12;
    QTest::newRow("multi-head, rope theta 5e5") << 2 << 12;
    QTest::newRow("head_dim 16 != hidden/heads") << 3 << 12;
    QTest::newRow("GQA untied, 300 tokens (attention blocks)") << 0 << 300;
}

namespace
{

Weights variantWeights(int variant)
{
    switch (variant) {
    case 0:
        return randomWeights(makeConfig(32, 64, 2, 4, 2, 50, false), 11);
    case 1:
        return randomWeights(makeConfig(32, 64, 2, 4, 2, 50, true), 12);
    case 2: {
        ModelConfig c = makeConfig(32, 48, 2, 4, 4, 50, false);
        c.ropeTheta = 500000.0;
        return randomWeights(c, 13);
    }
    default:
        return randomWeights(makeConfig(32, 64, 2, 4, 2, 50, false, 16), 14);
    }
}

} // namespace

void TestForward::fp32MatchesReference()
{
    QFETCH(int, variant);
    QFETCH(int, tokens);
    const Weights m = variantWeights(variant);
    const QString dir = writeModel(m);
    QVERIFY(!dir.isEmpty());
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);

    const std::vector<std::vector<int64_t>> batch = {randomIds(tokens, 50, 100 + variant),
                                                     randomIds(tokens, 50, 200 + variant)};
    const at::Tensor ids = idsTensor(batch);
    const at::Tensor logits = engineLogits(model, ids);
    const at::Tensor nll = model.tokenNll(ids);
    QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, tokens, 50}));
    QCOMPARE(logits.scalar_type(), at::kFloat);
    QCOMPARE(nll.sizes().vec(), (std::vector<int64_t>{2, tokens - 1}));
    for (size_t b = 0; b < batch.size(); ++b) {
        const at::Tensor ref = refLogits(m, batch[b], RopeStyle::HalfSplit);
        const double d = maxAbsDiff(logits[int64_t(b)], ref);
        qDebug("sequence %zu: max |logit - reference| = %.2e (logits up to %.2f)", b, d,
               ref.abs().max().item<double>());
        QVERIFY2(d < 1e-5, qPrintable(diffText("logits", d, 1e-5)));
        const double dn = maxAbsDiff(nll[int64_t(b)], refNll(ref, batch[b]));
        QVERIFY2(dn < 1e-5, qPrintable(diffText("token NLL", dn, 1e-5)));
    }
}

void TestForward::halfPrecisionStorage_data()
{
    QTest::addColumn<int>("stored");
    QTest::newRow("F16 weights") << int(at::kHalf);
    QTest::newRow("BF16 weights") << int(at::kBFloat16);
}

void TestForward::halfPrecisionStorage()
{
    // Weights stored in 16 bits, computed in fp32: exactly the reference on the rounded weights.
    QFETCH(int, stored);
    const auto type = at::ScalarType(stored);
    const Weights m = variantWeights(0);
    Weights rounded = m;
    for (auto& [name, t] : rounded.w)
        t = t.to(type).to(at::kFloat);
    const QString dir = writeModel(m, type);
    QVERIFY(!dir.isEmpty());
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    const auto ids = randomIds(12, 50, 7);
    const at::Tensor logits = engineLogits(model, idsTensor({ids}))[0];
    const double d = maxAbsDiff(logits, refLogits(rounded, ids, RopeStyle::HalfSplit));
    QVERIFY2(d < 1e-5, qPrintable(diffText("logits", d, 1e-5)));
    // ... and not the reference on the unrounded weights (the storage type was honoured).
    QVERIFY(maxAbsDiff(logits, refLogits(m, ids, RopeStyle::HalfSplit)) > 1e-4);
}

void TestForward::halfPrecisionCompute_data()
{
    // Tolerances on logits of magnitude up to ~4: fp16 keeps 11 significant bits, bf16 8; the
    // errors of the two decoder layers add up. Measured for bf16: 4.4e-2; fp16, with 3 more
    // mantissa bits, is expected near 6e-3.
    QTest::addColumn<int>("dtype");
    QTest::addColumn<double>("tolerance");
    QTest::newRow("fp16") << int(at::kHalf) << 2e-2;
    QTest::newRow("bf16") << int(at::kBFloat16) << 1.5e-1;
}

void TestForward::halfPrecisionCompute()
{
    QFETCH(int, dtype);
    QFETCH(double, tolerance);
    const auto type = at::ScalarType(dtype);
    const Weights m = variantWeights(0);
    const QString dir = writeModel(m);
    QVERIFY(!dir.isEmpty());
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel model(source, kCpu, type);
    const auto ids = randomIds(24, 50, 8);
    at::Tensor logits, nll;
    try {
        logits = engineLogits(model, idsTensor({ids}))[0];
        nll = model.tokenNll(idsTensor({ids}));
    } catch (const std::exception& e) {
        // LibTorch 1.13 has no CPU kernel for some half-precision ops (e.g. silu for fp16).
        std::string what = e.what();
        what = what.substr(0, what.find("\nException raised from"));
        QFAIL(qPrintable(QStringLiteral("the %1 forward on the CPU threw: %2")
                             .arg(c10::toString(type), QString::fromStdString(what))));
    }
    QCOMPARE(logits.scalar_type(), type);
    const at::Tensor ref = refLogits(m, ids, RopeStyle::HalfSplit);
    const double d = maxAbsDiff(logits, ref);
    qDebug("%s: max |logit - fp64 reference| = %.2e (logits up to %.2f)", c10::toString(type), d,
           ref.abs().max().item<double>());
    QVERIFY2(d < tolerance, qPrintable(diffText("logits", d, tolerance)));
    // The NLL comes back in fp32 whatever the compute type.
    QCOMPARE(nll.scalar_type(), at::kFloat);
    const double dn = maxAbsDiff(nll[0], refNll(ref, ids));
    QVERIFY2(dn < tolerance, qPrintable(diffText("token NLL", dn, tolerance)));
}

void TestForward::llama2cPermutation_data()
{
    QTest::addColumn<bool>("shared");
    QTest::newRow("shared classifier") << true;
    QTest::newRow("unshared classifier") << false;
}

void TestForward::llama2cPermutation()
{
    // llama2.c stores q/k rows in its own order and rotates interleaved pairs (2i, 2i+1); the
    // loader permutes the rows so that the Hugging Face rotate_half forward computes the same
    // thing. The reference here runs llama2.c's RoPE on the unpermuted weights.
    QFETCH(bool, shared);
    const Weights m = randomWeights(makeConfig(32, 64, 2, 4, 2, 50, shared), shared ? 21 : 22);
    const QString file = m_tmp.filePath(QStringLiteral("llama2c-%1.bin").arg(shared));
    QVERIFY(writeLlama2c(file, m, 64));
    const mpq::ModelSource source = mpq::ModelSource::open(file.toStdString());
    QCOMPARE(source.format(), mpq::ModelFormat::Llama2c);
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);

    const auto ids = randomIds(20, 50, 9);
    const at::Tensor logits = engineLogits(model, idsTensor({ids}))[0];
    const double d = maxAbsDiff(logits, refLogits(m, ids, RopeStyle::InterleavedPairs));
    QVERIFY2(d < 1e-5, qPrintable(diffText("logits vs llama2.c's own RoPE", d, 1e-5)));
    // Without the permutation the answer would differ: rotate_half on the raw rows is another model.
    const double unpermuted = maxAbsDiff(logits, refLogits(m, ids, RopeStyle::HalfSplit));
    QVERIFY2(unpermuted > 1e-2, qPrintable(QStringLiteral("rotate_half on unpermuted weights differs "
                                                          "by only %1: the test proves nothing")
                                               .arg(unpermuted)));
}

void TestForward::causality()
{
    const Weights m = variantWeights(0);
    const QString dir = writeModel(m);
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    auto ids = randomIds(16, 50, 10);
    const at::Tensor before = engineLogits(model, idsTensor({ids}))[0];
    const int64_t changed = 9;
    ids[size_t(changed)] = (ids[size_t(changed)] + 17) % 50;
    const at::Tensor after = engineLogits(model, idsTensor({ids}))[0];
    const double past = maxAbsDiff(before.slice(0, 0, changed), after.slice(0, 0, changed));
    QVERIFY2(past <= 1e-6, qPrintable(diffText("logits before the changed token", past, 1e-6)));
    for (int64_t t = changed; t < 16; ++t) // every later position sees the change
        QVERIFY2(maxAbsDiff(before[t], after[t]) > 1e-4, qPrintable(QStringLiteral("position %1").arg(t)));
}

void TestForward::layerByLayerEqualsTokenNll()
{
    const Weights m = variantWeights(1);
    const QString dir = writeModel(m);
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    const at::Tensor ids = idsTensor({randomIds(30, 50, 11), randomIds(30, 50, 12)});

    // embed → layer(i) → logits by hand, and again with decoderLayer on weights streamed from
    // disk one layer at a time (the pipeline's path).
    at::Tensor h = model.embed(ids);
    at::Tensor streamed = h.clone();
    const mpq::detail::Rope rope = mpq::detail::Rope::build(source.config(), 30, kCpu);
    for (int64_t i = 0; i < source.config().numLayers; ++i) {
        h = model.layer(i, h);
        const mpq::detail::LayerWeights w = mpq::detail::loadLayer(source, i, at::kFloat, kCpu);
        streamed = mpq::detail::decoderLayer(source.config(), w, streamed, rope);
        QVERIFY2(maxAbsDiff(h, streamed) == 0, qPrintable(QStringLiteral("layer %1").arg(i)));
    }
    // The same logits, scored in fp64 here and in fp32 by tokenNll (logits reach ~30 in this
    // tied model, so fp32 rounding of logsumexp is a few 1e-6).
    const at::Tensor logp = at::log_softmax(model.logits(h).to(at::kDouble), -1);
    const at::Tensor byHand = -logp.slice(1, 0, 29).gather(-1, ids.slice(1, 1).unsqueeze(-1)).squeeze(-1);
    const at::Tensor nll = model.tokenNll(ids);
    QCOMPARE(nll.sizes().vec(), (std::vector<int64_t>{2, 29}));
    const double d = maxAbsDiff(byHand, nll);
    QVERIFY2(d < 1e-5, qPrintable(diffText("layer-by-layer NLL vs tokenNll", d, 1e-5)));
}

void TestForward::observerSeesGroupInputs()
{
    // head_dim 16 with 4 heads makes the o_proj input (64 wide) differ from the hidden size (32).
    const Weights m = variantWeights(3);
    const ModelConfig& c = m.config;
    const QString dir = writeModel(m);
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LayerWeights w = mpq::detail::loadLayer(source, 1, at::kFloat, kCpu);
    const auto ids = randomIds(10, 50, 13);
    const at::Tensor x = refEmbed(m, ids); // any hidden state will do: the embedding
    const RefLayer ref = refLayer(m, 1, x, RopeStyle::HalfSplit);

    std::vector<Stage> seen;
    std::vector<at::Tensor> inputs;
    int notDense = 0;
    const mpq::detail::LinearInputObserver observer = [&](const mpq::detail::LinearInput& in) {
        notDense += in.expert != mpq::llama::kDense;
        seen.push_back(in.stage);
        inputs.push_back(in.x.clone());
        return true;
    };
    const at::Tensor out = mpq::detail::decoderLayer(c, w, x.to(at::kFloat).unsqueeze(0),
                                                     mpq::detail::Rope::build(c, 10, kCpu), observer);
    QVERIFY(out.defined());
    QCOMPARE(notDense, 0);
    QCOMPARE(seen, (std::vector<Stage>{Stage::AttentionInput, Stage::AttentionOutput, Stage::MlpInput, Stage::MlpHidden}));
    QCOMPARE(inputs[0].sizes().vec(), (std::vector<int64_t>{1, 10, 32}));
    QCOMPARE(inputs[1].sizes().vec(), (std::vector<int64_t>{1, 10, 4 * 16}));
    QCOMPARE(inputs[2].sizes().vec(), (std::vector<int64_t>{1, 10, 32}));
    QCOMPARE(inputs[3].sizes().vec(), (std::vector<int64_t>{1, 10, 64}));
    const at::Tensor expected[] = {ref.attnInput, ref.attnOutput, ref.mlpInput, ref.mlpHidden};
    for (size_t g = 0; g < 4; ++g) {
        const double d = maxAbsDiff(inputs[g][0], expected[g]);
        QVERIFY2(d < 1e-5, qPrintable(diffText(("stage " + std::to_string(int(seen[g]))).c_str(), d, 1e-5)));
    }
    const double d = maxAbsDiff(out[0], ref.output);
    QVERIFY2(d < 1e-5, qPrintable(diffText("layer output", d, 1e-5)));
}

void TestForward::observerStopsEarly()
{
    const Weights m = variantWeights(0);
    const QString dir = writeModel(m);
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LayerWeights w = mpq::detail::loadLayer(source, 0, at::kFloat, kCpu);
    const mpq::detail::Rope rope = mpq::detail::Rope::build(m.config, 6, kCpu);
    const at::Tensor x = refEmbed(m, randomIds(6, 50, 14)).to(at::kFloat).unsqueeze(0);
    const std::vector<Stage> groups = {Stage::AttentionInput, Stage::AttentionOutput, Stage::MlpInput, Stage::MlpHidden};
    for (size_t stop = 0; stop < groups.size(); ++stop) {
        std::vector<Stage> seen;
        const at::Tensor out =
            mpq::detail::decoderLayer(m.config, w, x, rope, [&](const mpq::detail::LinearInput& in) {
                seen.push_back(in.stage);
                return in.stage != groups[stop];
            });
        QVERIFY2(!out.defined(), qPrintable(QString::number(int(groups[stop]))));
        QCOMPARE(seen, std::vector<Stage>(groups.begin(), groups.begin() + int64_t(stop) + 1));
    }
}

void TestForward::cudaMatchesCpu()
{
    if (!mpq::cudaAvailable())
        QSKIP("no CUDA GPU (or a CPU-only LibTorch): the CUDA forward is not compared with the CPU");
    const Weights m = variantWeights(0);
    const QString dir = writeModel(m);
    const mpq::ModelSource source = mpq::ModelSource::open(dir.toStdString());
    const mpq::detail::LlamaModel cpu(source, kCpu, at::kFloat);
    const mpq::detail::LlamaModel gpu(source, at::Device(at::kCUDA, 0), at::kFloat);
    const at::Tensor ids = idsTensor({randomIds(300, 50, 15)});
    const double d = maxAbsDiff(engineLogits(cpu, ids), engineLogits(gpu, ids).cpu());
    // TF32 may be on for CUDA matmuls: allow its 10-bit mantissa.
    QVERIFY2(d < 1e-2, qPrintable(diffText("CUDA vs CPU logits (fp32)", d, 1e-2)));
    const mpq::detail::LlamaModel gpuHalf(source, at::Device(at::kCUDA, 0), at::kHalf);
    const double dh = maxAbsDiff(engineLogits(cpu, ids), engineLogits(gpuHalf, ids).cpu());
    QVERIFY2(dh < 2e-2, qPrintable(diffText("CUDA fp16 vs CPU fp32 logits", dh, 2e-2)));
}

QTEST_GUILESS_MAIN(TestForward)
#include "tst_forward.moc"
