// Model families against transformers: small random-weight checkpoints of every supported
// family in the hub's layout (tests/data/families/, made by bench/reference/make_family_fixtures.py
// with transformers 5 on the GPU machine), with transformers' fp32 mean NLL, MoE routing and rope
// tables as reference figures. No GPU and no shared data needed.
#include "core/Error.h"
#include "core/JobContext.h"
#include "data/Calibration.h"
#include "eval/ModelSampler.h"
#include "model/LlamaArch.h"
#include "model/ModelSource.h"
#include "model/detail/LlamaModel.h"
#include "pipeline/QuantizeJob.h"

#include <c10/core/InferenceMode.h>

#include <QFile>
#include <QProcess>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <set>

using namespace mpq;

namespace {

const at::Device kCpu(at::kCPU);

QString fixtureDir(const QString& name)
{
    return QStringLiteral(MPQ_FAMILY_FIXTURES) + "/" + name;
}

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

std::vector<int32_t> idsOf(const QJsonObject& ref)
{
    std::vector<int32_t> ids;
    for (const auto& v : ref["ids"].toArray())
        ids.push_back(v.toInt());
    return ids;
}

/// GPTQ's protocol: consecutive windows of `seqlen` tokens; the remainder is dropped.
at::Tensor windowsOf(const std::vector<int32_t>& ids, int64_t seqlen, int64_t count)
{
    at::Tensor t = at::empty({count, seqlen}, at::TensorOptions().dtype(at::kLong));
    auto a = t.accessor<int64_t, 2>();
    for (int64_t w = 0; w < count; ++w)
        for (int64_t i = 0; i < seqlen; ++i)
            a[w][i] = ids[size_t(w * seqlen + i)];
    return t;
}

/// The windows of a calibration set as ids [windows, length].
at::Tensor windowsOf(const CalibrationSet& set)
{
    std::vector<int32_t> flat;
    for (const auto& w : set.windows)
        flat.insert(flat.end(), w.begin(), w.end());
    return windowsOf(flat, int64_t(set.windows.front().size()), int64_t(set.windows.size()));
}

/// The full forward pass's logits [B, T, vocab] (every position at once, no cache).
at::Tensor fullLogits(const mpq::detail::LlamaModel& model, const at::Tensor& ids)
{
    at::Tensor h = model.embed(ids);
    for (int64_t i = 0; i < model.config().numLayers; ++i)
        h = model.layer(i, h);
    return model.logits(h);
}

const QStringList kFamilies = {"llama3", "llama2-linear", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe"};

} // namespace

class TestFamilies : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void featuresFromConfig();
    void meanNllMatchesTransformers_data();
    void meanNllMatchesTransformers();
    void routingMatchesTransformers_data();
    void routingMatchesTransformers();
    void cachedDecodingMatchesTheFullForward_data();
    void cachedDecodingMatchesTheFullForward();
    void samplesFromTheModel_data();
    void samplesFromTheModel();
    void ropeTablesMatchTransformers_data();
    void ropeTablesMatchTransformers();
    void linearsOfMoeLayers();
    void gptqQuantizesEveryExpert();
    void starvedExpertsFallBackToAllTokens();
    void unsupportedFamilyNamesTheSupportedOnes();
    void everyMethodOnEveryFamily_data();
    void everyMethodOnEveryFamily();
};

void TestFamilies::featuresFromConfig()
{
    auto open = [](const char* name) { return ModelSource::open(fixtureDir(name).toStdString()).config(); };
    const ModelConfig llama3 = open("llama3");
    QCOMPARE(llama3.rope.type, RopeType::Llama3);
    QCOMPARE(llama3.rope.originalMaxPositions, int64_t(16));
    QVERIFY(llama3.qkvBias && llama3.oBias && llama3.mlpBias);
    QCOMPARE(llama3.eosTokenId, 319); // the first of Llama 3.1's eos_token_id list

    const ModelConfig linear = open("llama2-linear");
    QCOMPARE(linear.rope.type, RopeType::Linear); // rope_scaling {"type": "linear"}
    QVERIFY(linear.tieWordEmbeddings);

    const ModelConfig mistral = open("mistral");
    QCOMPARE(mistral.windowOf(0), int64_t(8));
    QCOMPARE(mistral.windowOf(1), int64_t(8));

    const ModelConfig qwen2 = open("qwen2");
    QCOMPARE(qwen2.rope.type, RopeType::Yarn);
    QVERIFY(qwen2.qkvBias && !qwen2.oBias);
    QCOMPARE(qwen2.windowOf(0), int64_t(0)); // layer_types: full, sliding (max_window_layers 1)
    QCOMPARE(qwen2.windowOf(1), int64_t(8));
    QCOMPARE(qwen2.bosTokenId, -1);

    const ModelConfig qwen3 = open("qwen3");
    QVERIFY(qwen3.qkNorm);
    QCOMPARE(qwen3.headDim, int64_t(12)); // explicit head_dim, not hidden / heads (8)

    const ModelConfig mixtral = open("mixtral");
    QCOMPARE(mixtral.moe.kind, MoeKind::Mixtral);
    QCOMPARE(mixtral.moe.numExperts, int64_t(4));
    QCOMPARE(mixtral.moe.topK, int64_t(2));
    QVERIFY(mixtral.isMoeLayer(0) && mixtral.isMoeLayer(1));

    const ModelConfig qwen2moe = open("qwen2_moe");
    QVERIFY(qwen2moe.isMoeLayer(0) && !qwen2moe.isMoeLayer(1) && qwen2moe.isMoeLayer(2)); // mlp_only_layers [1]
    QCOMPARE(qwen2moe.moe.sharedExpertIntermediateSize, int64_t(24));
    QVERIFY(!qwen2moe.moe.normTopkProb);

    const ModelConfig qwen3moe = open("qwen3_moe");
    QVERIFY(qwen3moe.qkNorm && qwen3moe.moe.normTopkProb);
}

void TestFamilies::meanNllMatchesTransformers_data()
{
    QTest::addColumn<QString>("family");
    for (const QString& f : kFamilies)
        QTest::newRow(qPrintable(f)) << f;
}

void TestFamilies::meanNllMatchesTransformers()
{
    QFETCH(QString, family);
    const QJsonObject ref = readJson(fixtureDir(family) + "/reference.json");
    QVERIFY2(!ref.isEmpty(), "reference.json missing");
    const ModelSource source = ModelSource::open(fixtureDir(family).toStdString());
    c10::InferenceMode guard;
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    const int64_t seqlen = ref["seqlen"].toInt(), count = ref["windows"].toInt();
    const at::Tensor windows = windowsOf(idsOf(ref), seqlen, count);
    double sum = 0;
    for (int64_t w = 0; w < count; ++w) {
        const double nll = model.tokenNll(windows.slice(0, w, w + 1)).to(at::kDouble).mean().item<double>();
        sum += nll;
        const QJsonArray perWindow = ref["nll_fp32_windows"].toArray();
        if (w < perWindow.size()) {
            const double want = perWindow[int(w)].toDouble();
            QVERIFY2(std::abs(nll - want) <= 1e-5 * want,
                     qPrintable(QString("window %1: %2 vs transformers %3").arg(w).arg(nll, 0, 'g', 10).arg(want, 0, 'g', 10)));
        }
    }
    const double mean = sum / double(count), want = ref["mean_nll_fp32"].toDouble();
    const double rel = std::abs(mean - want) / want;
    qInfo("%s: mean NLL %.9f, transformers fp32 %.9f, fp64 %.9f: relative difference %.2e", qPrintable(family), mean,
          want, ref["mean_nll_fp64"].toDouble(), rel);
    QVERIFY2(rel <= 1e-5, qPrintable(QString("relative difference %1 > 1e-5").arg(rel)));
}

void TestFamilies::routingMatchesTransformers_data()
{
    QTest::addColumn<QString>("family");
    for (const char* f : {"mixtral", "qwen2_moe", "qwen3_moe"})
        QTest::newRow(f) << QString(f);
}

void TestFamilies::routingMatchesTransformers()
{
    QFETCH(QString, family);
    const QJsonObject ref = readJson(fixtureDir(family) + "/reference.json");
    const QJsonObject expected = ref["router_topk_window0"].toObject();
    QVERIFY(!expected.isEmpty());
    const ModelSource source = ModelSource::open(fixtureDir(family).toStdString());
    const ModelConfig& c = source.config();
    c10::InferenceMode guard;
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    const int64_t seqlen = ref["seqlen"].toInt();
    at::Tensor h = model.embed(windowsOf(idsOf(ref), seqlen, 1));
    int checked = 0;
    for (int64_t i = 0; i < c.numLayers; ++i) {
        if (c.isMoeLayer(i)) {
            const mpq::detail::LayerWeights w = mpq::detail::loadLayer(source, i, at::kFloat, kCpu);
            // The router sees the post-attention, normed hidden states: stop the layer there.
            at::Tensor y;
            mpq::detail::decoderLayer(c, w, h, mpq::detail::Rope::build(c, seqlen, kCpu), [&](const mpq::detail::LinearInput& in) {
                if (in.stage == llama::Stage::MlpInput && in.expert == llama::kAllTokens)
                    y = in.x.clone();
                return in.stage != llama::Stage::MlpInput;
            });
            QVERIFY(y.defined());
            const mpq::detail::Routing r = mpq::detail::route(c, w, y.reshape({-1, c.hiddenSize}));
            const QJsonArray want = expected[QString::number(i)].toArray();
            QCOMPARE(int64_t(want.size()), r.experts.size(0));
            for (int t = 0; t < want.size(); ++t)
                for (int k = 0; k < int(c.moe.topK); ++k)
                    QCOMPARE(r.experts[t][k].item<int64_t>(), int64_t(want[t].toArray()[k].toInt()));
            ++checked;
        }
        h = model.layer(i, h);
    }
    QCOMPARE(checked, expected.size());
}

void TestFamilies::cachedDecodingMatchesTheFullForward_data()
{
    QTest::addColumn<QString>("family");
    for (const QString& f : kFamilies)
        QTest::newRow(qPrintable(f)) << f;
}

/// Decoding a token at a time with the key/value cache (LlamaModel::nextLogits, which
/// sampleFromModel uses) gives the full forward's logits at every position: rope offsets, the
/// sliding window (mistral's 8 and qwen2's sliding layer, over 32 positions), q/k norms, biases,
/// grouped-query heads and routing each see one token at a time here.
void TestFamilies::cachedDecodingMatchesTheFullForward()
{
    QFETCH(QString, family);
    const QJsonObject ref = readJson(fixtureDir(family) + "/reference.json");
    const ModelSource source = ModelSource::open(fixtureDir(family).toStdString());
    c10::InferenceMode guard;
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    const int64_t seqlen = ref["seqlen"].toInt();
    const at::Tensor ids = windowsOf(idsOf(ref), seqlen, 2); // two sequences: a batch of 2
    const at::Tensor full = fullLogits(model, ids).to(at::kFloat);
    std::vector<mpq::detail::LayerKv> cache;
    double worst = 0, scale = 0;
    for (int64_t t = 0; t < seqlen; ++t) {
        const at::Tensor step = model.nextLogits(ids.slice(1, t, t + 1), cache, seqlen);
        QCOMPARE(step.sizes().vec(), (std::vector<int64_t>{2, full.size(2)}));
        worst = std::max(worst, (step - full.select(1, t)).abs().max().item<double>());
        scale = std::max(scale, full.select(1, t).abs().max().item<double>());
    }
    QCOMPARE(cache.front().length, seqlen);
    qInfo("%s: max |cached - full| logit %.2e over %lld positions (logits up to %.2f)", qPrintable(family), worst,
          (long long)seqlen, scale);
    QVERIFY2(worst <= 1e-4 * std::max(1.0, scale), qPrintable(QString("difference %1").arg(worst)));
    // A cache is for `capacity` positions: one more token is an error, not a silent overwrite.
    QVERIFY_EXCEPTION_THROWN(model.nextLogits(ids.slice(1, 0, 1), cache, seqlen), c10::Error);
}

void TestFamilies::samplesFromTheModel_data()
{
    QTest::addColumn<QString>("family");
    QTest::newRow("llama3 (BOS)") << QString("llama3");
    QTest::newRow("qwen2 (no BOS: documents start after end-of-text)") << QString("qwen2");
}

/// `--calib self`: windows sampled from the model. Same seed, same windows; another seed, other
/// windows; each window starts as the model's documents do; and the draws follow the model's
/// distribution: at a temperature near 0 every token is the full forward's argmax of what came
/// before, and at temperature 1 the sampled text's mean NLL under the model is near its mean
/// entropy (they are equal in expectation), far below the NLL of uniformly random tokens.
void TestFamilies::samplesFromTheModel()
{
    QFETCH(QString, family);
    const ModelSource source = ModelSource::open(fixtureDir(family).toStdString());
    const ModelConfig& c = source.config();
    JobContext ctx;
    ModelSampleParams p;
    p.windows = 6;
    p.seqlen = 24;
    const CalibrationSet a = sampleFromModel(source, p, ctx);
    const CalibrationSet again = sampleFromModel(source, p, ctx);
    p.seed = 1;
    const CalibrationSet other = sampleFromModel(source, p, ctx);
    QCOMPARE(int64_t(a.windows.size()), p.windows);
    for (const auto& w : a.windows) {
        QCOMPARE(int64_t(w.size()), p.seqlen);
        for (int32_t t : w)
            QVERIFY(t >= 0 && t < c.vocabSize);
    }
    QVERIFY(a.windows == again.windows);
    QVERIFY(a.windows != other.windows);
    const int32_t first = c.bosTokenId >= 0 ? c.bosTokenId : c.eosTokenId;
    for (const auto& w : a.windows)
        QCOMPARE(w.front(), first);
    QVERIFY(QString::fromStdString(a.description).contains("sampled from the model"));

    c10::InferenceMode guard;
    const mpq::detail::LlamaModel model(source, kCpu, at::kFloat);
    // Temperature near 0: greedy decoding (ties aside, which random weights do not produce).
    p.temperature = 1e-6;
    const at::Tensor greedy = windowsOf(sampleFromModel(source, p, ctx));
    const at::Tensor argmax = fullLogits(model, greedy).argmax(-1);
    int64_t followed = 0, checked = 0;
    for (int64_t b = 0; b < greedy.size(0); ++b)
        for (int64_t t = 0; t + 1 < greedy.size(1); ++t) {
            if (greedy[b][t].item<int64_t>() == c.eosTokenId && c.bosTokenId >= 0)
                continue; // a new document's BOS follows, not a draw
            ++checked;
            followed += greedy[b][t + 1].item<int64_t>() == argmax[b][t].item<int64_t>();
        }
    QCOMPARE(followed, checked);
    // Temperature 1: the sample's NLL against the model's entropy at the same positions.
    p.temperature = 1.0;
    p.windows = 16;
    const at::Tensor sampled = windowsOf(sampleFromModel(source, p, ctx));
    const at::Tensor logp = at::log_softmax(fullLogits(model, sampled).to(at::kDouble), -1).slice(1, 0, p.seqlen - 1);
    const double nll = -logp.gather(-1, sampled.slice(1, 1).unsqueeze(-1)).mean().item<double>();
    const double entropy = -(logp.exp() * logp).sum(-1).mean().item<double>();
    const double uniform = -logp.mean().item<double>(); // expected NLL of a uniformly random token
    qInfo("%s: sampled NLL %.4f, model entropy %.4f, random tokens' NLL %.4f", qPrintable(family), nll, entropy, uniform);
    QVERIFY2(std::abs(nll - entropy) < 0.25 * (uniform - entropy),
             qPrintable(QString("sampled NLL %1 vs entropy %2 (random %3)").arg(nll).arg(entropy).arg(uniform)));
}

void TestFamilies::ropeTablesMatchTransformers_data()
{
    QTest::addColumn<QString>("kind");
    for (const char* k : {"default", "linear", "dynamic", "llama3", "yarn", "yarn-mscale"})
        QTest::newRow(k) << QString(k);
}

void TestFamilies::ropeTablesMatchTransformers()
{
    QFETCH(QString, kind);
    const QJsonObject all = readJson(QStringLiteral(MPQ_FAMILY_FIXTURES) + "/rope_tables.json");
    const QJsonObject t = all[kind].toObject();
    QVERIFY(!t.isEmpty());
    const QJsonObject cfg = t["config"].toObject();
    QJsonObject j{{"model_type", "llama"}, {"hidden_size", cfg["hidden_size"]}, {"intermediate_size", 64},
                  {"num_hidden_layers", 1}, {"num_attention_heads", cfg["num_attention_heads"]}, {"vocab_size", 32},
                  {"max_position_embeddings", cfg["max_position_embeddings"]}, {"rope_parameters", cfg["rope_parameters"]}};
    const ModelConfig c = ModelConfig::fromHuggingFaceJson(QJsonDocument(j).toJson().toStdString(), "rope_tables.json");
    const int64_t positions = t["positions"].toInt();
    const mpq::detail::Rope rope = mpq::detail::Rope::build(c, positions, kCpu);
    auto compare = [&](const at::Tensor& ours, const QJsonArray& theirs, const char* what) {
        QCOMPARE(int64_t(theirs.size()), ours.numel());
        const at::Tensor flat = ours.flatten();
        double worst = 0;
        for (int i = 0; i < theirs.size(); ++i)
            worst = std::max(worst, std::abs(flat[i].item<double>() - theirs[i].toDouble()));
        qInfo("%s %s: max |ours - transformers| = %.3g", qPrintable(kind), what, worst);
        QVERIFY2(worst <= 2e-6, qPrintable(QString("%1: %2").arg(what).arg(worst)));
    };
    compare(rope.cos, t["cos"].toArray(), "cos");
    compare(rope.sin, t["sin"].toArray(), "sin");
}

void TestFamilies::linearsOfMoeLayers()
{
    const ModelConfig c = ModelSource::open(fixtureDir("qwen2_moe").toStdString()).config();
    const auto moe = llama::layerLinears(c, 0), dense = llama::layerLinears(c, 1);
    QCOMPARE(dense.size(), size_t(7));
    QCOMPARE(moe.size(), size_t(4 + 3 + 4 * 3)); // attention, shared expert, 4 experts
    std::set<int> groups;
    for (const auto& s : moe)
        groups.insert(llama::hessianGroup(s));
    QCOMPARE(groups.size(), size_t(4 + 4 * 2)); // q/k/v, o, shared in/hidden, and each expert's two
    const llama::LinearSpec* e3 = llama::findLinear(moe, "model.layers.0.mlp.experts.3.down_proj.weight");
    QVERIFY(e3);
    QCOMPARE(e3->expert, 3);
    QCOMPARE(e3->name, std::string("experts.3.down_proj"));
    QCOMPARE(e3->cols, int64_t(16));
    const ModelConfig mixtral = ModelSource::open(fixtureDir("mixtral").toStdString()).config();
    QVERIFY(llama::findLinear(llama::layerLinears(mixtral, 1), "model.layers.1.block_sparse_moe.experts.0.w2.weight"));
    QCOMPARE(llama::shortNameOf("model.layers.1.block_sparse_moe.experts.0.w2.weight"), std::string("experts.0.w2"));
}

namespace {

/// GPTQ 4-bit on a fixture, calibrated with the windows of its reference ids.
QuantizeReport quantizeFixture(const QString& family, const QString& out, int64_t expertMinTokens)
{
    const QJsonObject ref = readJson(fixtureDir(family) + "/reference.json");
    const std::vector<int32_t> ids = idsOf(ref);
    CalibrationSet calib;
    for (int64_t w = 0; w < 8; ++w)
        calib.windows.emplace_back(ids.begin() + w * 32, ids.begin() + (w + 1) * 32);
    calib.sourcePath = "reference ids";
    const std::string tokens = (out + ".calibration.bin").toStdString();
    saveCalibrationTokens(calib, tokens);
    QuantizeParams p;
    p.model = fixtureDir(family).toStdString();
    p.method = "gptq";
    p.bits = 4;
    p.calibTokens = tokens;
    p.expertMinTokens = expertMinTokens;
    p.out = out.toStdString();
    JobContext ctx;
    return quantizeModel(p, ctx);
}

} // namespace

void TestFamilies::gptqQuantizesEveryExpert()
{
    QTemporaryDir dir;
    const QuantizeReport r = quantizeFixture("qwen2_moe", dir.filePath("run"), 1);
    const ModelConfig c = ModelSource::open(fixtureDir("qwen2_moe").toStdString()).config();
    size_t linears = 0;
    for (int64_t i = 0; i < c.numLayers; ++i)
        linears += llama::layerLinears(c, i).size();
    QCOMPARE(r.matrices.size(), linears); // every expert, the shared expert and the dense layer
    int64_t routedGateTokens = 0;
    for (const auto& m : r.matrices) {
        QVERIFY2(m.outputError >= 0, m.tensor.c_str());
        if (m.linear.rfind("experts.", 0) == 0 && m.linear.find("gate_proj") != std::string::npos && m.layer == 0) {
            QCOMPARE(m.hessianSource, std::string("routed"));
            routedGateTokens += m.calibrationTokens;
        } else if (m.linear.rfind("experts.", 0) != 0) {
            QCOMPARE(m.calibrationTokens, int64_t(8 * 32));
        }
    }
    QCOMPARE(routedGateTokens, int64_t(8 * 32 * 2)); // top-2: each token routed to two experts
    QVERIFY(std::abs(r.avgBits - 4.0) < 1e-9);
}

void TestFamilies::starvedExpertsFallBackToAllTokens()
{
    QTemporaryDir dir;
    // No expert can see a million tokens: all fall back, and say so.
    const QuantizeReport r = quantizeFixture("mixtral", dir.filePath("run"), 1000000);
    int fallbacks = 0;
    for (const auto& m : r.matrices)
        if (m.linear.rfind("experts.", 0) == 0) {
            QCOMPARE(m.hessianSource, std::string("all-tokens"));
            QVERIFY(m.calibrationTokens < 1000000);
            ++fallbacks;
        }
    QCOMPARE(fallbacks, 2 * 4 * 3);
    bool warned = false;
    for (const auto& w : r.warnings)
        warned = warned || w.find("Hessian comes from all tokens") != std::string::npos;
    QVERIFY(warned);
    QVERIFY(QFile::exists(dir.filePath("run/result.json")));
}

void TestFamilies::unsupportedFamilyNamesTheSupportedOnes()
{
    try {
        ModelConfig::fromHuggingFaceJson(R"({"model_type": "gemma2", "hidden_size": 8})", "config.json");
        QFAIL("gemma2 accepted");
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (const char* family : {"gemma2", "llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe"})
            QVERIFY2(msg.find(family) != std::string::npos, msg.c_str());
    }
}

void TestFamilies::everyMethodOnEveryFamily_data()
{
    QTest::addColumn<QString>("family");
    QTest::addColumn<QStringList>("method");
    const QList<QStringList> methods = {{"rtn", "--bits", "3"},
                                        {"gptq", "--bits", "4", "--act-order"},
                                        {"hqq", "--bits", "4", "--group-size", "8"},
                                        {"mgptq", "--target-bits", "3", "--epochs", "20"},
                                        {"mxq", "--budget", "4.5"}};
    for (const QString& f : kFamilies)
        for (const QStringList& m : methods)
            QTest::newRow(qPrintable(f + " " + m.front())) << f << m;
}

void TestFamilies::everyMethodOnEveryFamily()
{
    QFETCH(QString, family);
    QFETCH(QStringList, method);
    QTemporaryDir dir;
    const QJsonObject ref = readJson(fixtureDir(family) + "/reference.json");
    const std::vector<int32_t> ids = idsOf(ref);
    CalibrationSet calib;
    for (int64_t w = 0; w < 6; ++w)
        calib.windows.emplace_back(ids.begin() + w * 32, ids.begin() + (w + 1) * 32);
    const QString tokens = dir.filePath("calibration.bin");
    saveCalibrationTokens(calib, tokens.toStdString());
    QProcess p;
    QStringList args = {"quantize", fixtureDir(family), "--method"};
    args << method << "--calib-tokens" << tokens << "--out" << dir.filePath("run") << "--json";
    p.start(QStringLiteral(MPQ_CLI_PATH), args);
    QVERIFY(p.waitForFinished(300000));
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err.constData());
    const QJsonObject result = readJson(dir.filePath("run/result.json"));
    const ModelConfig c = ModelSource::open(fixtureDir(family).toStdString()).config();
    int linears = 0;
    for (int64_t i = 0; i < c.numLayers; ++i)
        linears += int(llama::layerLinears(c, i).size());
    QCOMPARE(result["matrices"].toArray().size(), linears); // every linear of every expert
    const double bits = result["avg_bits"].toDouble();
    QVERIFY2(bits >= 2.0 && bits <= 8.0, qPrintable(QString::number(bits)));
}

QTEST_GUILESS_MAIN(TestFamilies)
#include "tst_families.moc"
