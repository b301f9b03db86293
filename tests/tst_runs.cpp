// engine/runs: result folders written and read back through the one format module and
// QuantizedRun, folders of older builds, and the stored forms that resuming and the views rely
// on (a model's architecture JSON, MG-PTQ's training curves). The family fixture is committed
// under tests/data/families; no shared data needed.
#include "alloc/AllocationPlan.h"
#include "alloc/mgptq/TrainingCurves.h"
#include "core/Error.h"
#include "core/Files.h"
#include "core/JobContext.h"
#include "data/Calibration.h"
#include "model/ModelConfig.h"
#include "model/ModelSource.h"
#include "pipeline/QuantizeJob.h"
#include "runs/ResultFolder.h"
#include "runs/detail/QuantizedRun.h"
#include "runs/detail/ResultFolderFiles.h"
#include "session/Session.h"
#include "session/detail/H5.h"

#include <nlohmann/json.hpp>

#include <hdf5.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace mpq;

namespace {

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

/// A quantized matrix with two slots (columns alternate between `lo` and `hi` bits).
mpq::detail::QuantizedWeight twoSlotMatrix(int64_t rows, int64_t cols, int lo, int hi, uint64_t seed)
{
    at::manual_seed(seed);
    mpq::detail::QuantizedWeight q;
    q.slotBits = {lo, hi};
    q.slotOfColumn = (at::arange(cols, at::kInt) % 2).to(at::kInt);
    q.codes = at::randint(0, 1 << lo, {rows, cols}, at::kByte);
    q.scales = at::rand({rows, 2}, at::kFloat) + 0.1;
    q.zeros = at::randint(0, 1 << lo, {rows, 2}, at::kFloat);
    return q;
}

MatrixPlan planOf(const std::string& tensor, int64_t layer, const std::string& linear,
                  const mpq::detail::QuantizedWeight& q)
{
    MatrixPlan p;
    p.tensor = tensor;
    p.layer = layer;
    p.linear = linear;
    p.rows = q.codes.size(0);
    p.cols = q.codes.size(1);
    for (int64_t c = 0; c < p.cols; ++c)
        p.columnBits.push_back(uint8_t(q.slotBits[size_t(q.slotOfColumn[c].item<int>())]));
    p.quantizer = "gptq";
    return p;
}

MatrixReport reportOf(const MatrixPlan& p)
{
    MatrixReport r;
    r.tensor = p.tensor;
    r.layer = p.layer;
    r.linear = p.linear;
    r.rows = p.rows;
    r.cols = p.cols;
    r.quantizer = p.quantizer;
    r.codeBits = 3;
    r.bitsWithOverhead = 3.25;
    r.outputError = 0.5;
    r.gptqLoss = 0.25;
    r.damping = 0.01;
    r.calibrationTokens = 256;
    return r;
}

bool sameWeight(const mpq::detail::QuantizedWeight& a, const mpq::detail::QuantizedWeight& b)
{
    return a.codes.equal(b.codes) && a.scales.equal(b.scales) && a.zeros.equal(b.zeros) &&
           a.slotOfColumn.to(at::kInt).equal(b.slotOfColumn.to(at::kInt)) && a.slotBits == b.slotBits;
}

QString fixtureDir(const QString& name)
{
    return QStringLiteral(MPQ_FAMILY_FIXTURES) + "/" + name;
}

/// What sessions kept of a model before ModelConfig::toJson() was the one form: LLaMA-2's fields
/// for every family (engine/pipeline/QuantizeModel.cpp's configJson(), removed).
std::string legacyConfigJson(const ModelConfig& c)
{
    return nlohmann::json{{"hidden_size", c.hiddenSize},       {"intermediate_size", c.intermediateSize},
                          {"num_hidden_layers", c.numLayers},  {"num_attention_heads", c.numHeads},
                          {"num_key_value_heads", c.numKvHeads}, {"head_dim", c.headDim},
                          {"vocab_size", c.vocabSize},         {"max_position_embeddings", c.maxPositions},
                          {"rms_norm_eps", c.rmsNormEps},      {"rope_theta", c.ropeTheta},
                          {"tie_word_embeddings", c.tieWordEmbeddings}, {"torch_dtype", c.torchDtype},
                          {"bos_token_id", c.bosTokenId},      {"eos_token_id", c.eosTokenId}}
        .dump();
}

/// Replaces the stored architecture of run `run` in session `file`, as an older build wrote it.
void storeModelConfig(const std::string& file, const std::string& run, const std::string& configJson)
{
    h5::Id f = h5::openFile(file, true);
    {
        const h5::Id model = h5::openGroup(f, "runs/" + run + "/model");
        QVERIFY(H5Ldelete(model.get(), "config", H5P_DEFAULT) >= 0);
        h5::writeText(model, "config", configJson);
    }
    h5::closeAndSync(f, file);
}

} // namespace

class TestRuns : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void descriptionRoundTrip()
    {
        QTemporaryDir dir;
        const mpq::detail::QuantizedWeight q = twoSlotMatrix(4, 6, 2, 4, 1);
        ResultDescription d;
        d.model = "/models/m";
        d.method = "mgptq-gcn";
        d.settingsJson = R"({"bits":4,"seed":3})";
        d.hasCalibration = true;
        d.calibrationSource = "/data/c4.jsonl";
        d.calibrationDescription = "c4, 8 windows";
        AllocationPlan plan;
        plan.method = "mgptq";
        plan.matrices.push_back(planOf("model.layers.0.self_attn.q_proj.weight", 0, "q_proj", q));
        d.planJson = plan.toJson();
        d.solver.status = "optimal";
        d.solver.budget = MxqBudget::mib(12.5);
        d.solver.objective = 3.25;
        d.solver.ggufTypes = {{"model.layers.0.self_attn.q_proj.weight", "q4_K"}};
        d.solver.imatrix = false;
        d.avgBits = 3;
        d.avgBitsWithOverhead = 3.25;
        d.seconds = 1.5;
        d.sessionRun = "/s.h5#mg-1";
        d.matrices.push_back(reportOf(plan.matrices[0]));
        d.matrices[0].hessianSource = "routed";
        d.matrices[0].fallback = "damping raised to 0.1";
        d.warnings = {"w1", "w2"};
        writeResultDescription(dir.path().toStdString(), d);

        QVERIFY(isResultFolder(dir.path().toStdString()));
        QCOMPARE(resultModelPath(dir.path().toStdString()), d.model);
        const ResultDescription b = readResultDescription(dir.path().toStdString());
        QCOMPARE(b.model, d.model);
        QCOMPARE(b.method, d.method);
        QCOMPARE(nlohmann::json::parse(b.settingsJson), nlohmann::json::parse(d.settingsJson));
        QVERIFY(b.hasCalibration);
        QCOMPARE(b.calibrationSource, d.calibrationSource);
        QCOMPARE(b.calibrationDescription, d.calibrationDescription);
        QCOMPARE(AllocationPlan::fromJson(b.planJson, "plan").toJson(), d.planJson);
        QCOMPARE(b.solver.toJson(), d.solver.toJson());
        QVERIFY(b.solver.budget == MxqBudget::mib(12.5));
        QCOMPARE(b.solver.ggufTypes, d.solver.ggufTypes);
        QVERIFY(b.solver.imatrix.has_value() && !*b.solver.imatrix);
        QVERIFY(!b.solver.gap.has_value());
        QCOMPARE(b.avgBits, d.avgBits);
        QCOMPARE(b.avgBitsWithOverhead, d.avgBitsWithOverhead);
        QCOMPARE(b.seconds, d.seconds);
        QCOMPARE(b.sessionRun, d.sessionRun);
        QCOMPARE(b.warnings, d.warnings);
        QCOMPARE(b.matrices.size(), size_t(1));
        const MatrixReport& m = b.matrices[0];
        const MatrixReport& w = d.matrices[0];
        QCOMPARE(m.tensor, w.tensor);
        QCOMPARE(m.layer, w.layer);
        QCOMPARE(m.linear, w.linear);
        QCOMPARE(m.rows, w.rows);
        QCOMPARE(m.cols, w.cols);
        QCOMPARE(m.quantizer, w.quantizer);
        QCOMPARE(m.codeBits, w.codeBits);
        QCOMPARE(m.bitsWithOverhead, w.bitsWithOverhead);
        QCOMPARE(m.outputError, w.outputError);
        QCOMPARE(m.frobeniusError, w.frobeniusError);
        QCOMPARE(m.gptqLoss, w.gptqLoss);
        QCOMPARE(m.damping, w.damping);
        QCOMPARE(m.fallback, w.fallback);
        QCOMPARE(m.calibrationTokens, w.calibrationTokens);
        QCOMPARE(m.hessianSource, w.hessianSource);
    }

    // The solver record ("extra" of result.json and of a session run): the keys of the records
    // that runs of earlier builds stored read into the same fields, and bad records are refused
    // with the place named.
    void solverRecordReadsEarlierRecordsAndRefusesBadOnes()
    {
        const std::string mxq = R"({"status":"optimal","solver":"GLPK 5.0","message":"m","budget":"3.5000 bits/parameter",
            "objective":1.5,"gap":0,"bits_per_parameter":3.49,"solve_seconds":0.25,"cost_kind":"fnorm","cost_seconds":2})";
        const SolverRecord r = SolverRecord::fromJson(mxq, "r");
        QCOMPARE(r.status, std::string("optimal"));
        QVERIFY(r.budget == MxqBudget::bitsPerParameter(3.5));
        QCOMPARE(*r.bitsPerParameter, 3.49);
        QCOMPARE(r.costKind, std::string("fnorm"));
        QVERIFY(r.costChoice.empty());
        QCOMPARE(nlohmann::json::parse(r.toJson()), nlohmann::json::parse(mxq)); // nothing lost or added
        // Since session 12: why --cost auto chose the kind.
        const std::string autoRecord = R"({"cost_kind":"probed","cost_choice":"auto: probed on 8 + 8 windows"})";
        const SolverRecord a = SolverRecord::fromJson(autoRecord, "a");
        QCOMPARE(a.costChoice, std::string("auto: probed on 8 + 8 windows"));
        QCOMPARE(nlohmann::json::parse(a.toJson()), nlohmann::json::parse(autoRecord));
        const std::string preset = R"({"types":{"a.weight":"q4_K","b.weight":"f16"},"bits_per_weight":4.6,
            "preset":"q4_k_m","imatrix":true})";
        const SolverRecord g = SolverRecord::fromJson(preset, "g");
        QCOMPARE(g.ggufPreset, std::string("q4_k_m"));
        QCOMPARE(g.ggufTypes.at("b.weight"), std::string("f16"));
        QVERIFY(!g.budget && g.status.empty());
        QCOMPARE(nlohmann::json::parse(g.toJson()), nlohmann::json::parse(preset));
        QVERIFY(SolverRecord::fromJson("", "e").empty());
        QVERIFY(SolverRecord::fromJson("{}", "e").empty());
        QVERIFY(SolverRecord().toJson().empty());
        QVERIFY(MxqBudget::parse("120.000 MiB") == MxqBudget::mib(120));
        QVERIFY(!MxqBudget::parse("3.5 furlongs"));
        for (const char* bad : {"[1]", "{\"gap\":\"small\"}", "{\"budget\":\"lots\"}", "{\"types\":[\"q4_K\"]}",
                                "{\"imatrix\":1}", "{\"cost_choice\":3}", "not json"}) {
            try {
                SolverRecord::fromJson(bad, "s.h5: run x");
                QFAIL(bad);
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("s.h5: run x") != std::string::npos, e.what());
            }
        }
    }

    void folderRoundTripThroughQuantizedRun()
    {
        QTemporaryDir dir;
        const std::string out = files::join(dir.path().toStdString(), "r");
        mpq::detail::LayerRecord l0, l2;
        l0.layer = 0;
        l2.layer = 2;
        const mpq::detail::QuantizedWeight q0 = twoSlotMatrix(8, 6, 2, 4, 1);
        const mpq::detail::QuantizedWeight d0 = twoSlotMatrix(6, 10, 3, 8, 2);
        const mpq::detail::QuantizedWeight q2 = twoSlotMatrix(8, 6, 4, 4, 3);
        l0.matrices.push_back({q0, planOf("model.layers.0.self_attn.q_proj.weight", 0, "q_proj", q0), {}, 0});
        l0.matrices.push_back({d0, planOf("model.layers.0.mlp.down_proj.weight", 0, "down_proj", d0), {}, 3});
        l2.matrices.push_back({q2, planOf("model.layers.2.self_attn.q_proj.weight", 2, "q_proj", q2), {}, 0});
        AllocationPlan plan;
        plan.method = "mgptq";
        for (const auto* l : {&l0, &l2})
            for (const auto& m : l->matrices)
                plan.matrices.push_back(m.plan);
        CalibrationSet calib;
        calib.windows = {{1, 2, 3, 4}, {5, 6, 7, 8}};
        {
            mpq::detail::ResultFolderWriter w(out);
            w.writeCalibration(calib);
            w.addLayer(l0);
            w.addLayer(l2);
            QVERIFY(files::exists(resultLayerFile(partialResultFolder(out), 2)));
            QVERIFY(!files::exists(out));
            ResultDescription d;
            d.model = "/models/m";
            d.method = "mgptq-gcn";
            d.settingsJson = R"({"bits":3})";
            d.hasCalibration = true;
            d.planJson = plan.toJson();
            w.writeDescription(d);
            QCOMPARE(w.commit(), out);
        }
        QVERIFY(!files::exists(partialResultFolder(out)));

        const auto run = mpq::detail::openQuantizedRun(out);
        QCOMPARE(run->describe(), out);
        QCOMPARE(run->modelPath(), std::string("/models/m"));
        QCOMPARE(run->method(), std::string("mgptq-gcn"));
        QCOMPARE(nlohmann::json::parse(run->settingsJson())["bits"].get<int>(), 3);
        QCOMPARE(run->plan().toJson(), plan.toJson());
        QCOMPARE(run->layers(), (std::vector<int64_t>{0, 2}));
        const mpq::detail::QuantizedLayer back = run->layer(0);
        QCOMPARE(back.size(), size_t(2));
        for (const auto& [name, q] : back) {
            const mpq::detail::QuantizedWeight& want = name.find("down_proj") != std::string::npos ? d0 : q0;
            QVERIFY2(sameWeight(q, want), name.c_str());
            QVERIFY(q.dequant.equal(want.dequantize()));
        }
        QVERIFY(errorOf([&] { run->layer(1); }).find("not stored") != std::string::npos);
        const CalibrationSet windows = loadCalibrationTokens(files::join(out, "calibration.bin"), 100);
        QCOMPARE(windows.windows, calib.windows);

        // The views' reading of a layer file: per-column bits, layer and linear from the name.
        const std::vector<StoredColumnBits> bits = readLayerColumnBits(resultLayerFile(out, 0));
        QCOMPARE(bits.size(), size_t(2));
        for (const StoredColumnBits& b : bits) {
            QCOMPARE(b.layer, int64_t(0));
            const MatrixPlan& p = b.linear == "q_proj" ? l0.matrices[0].plan : l0.matrices[1].plan;
            QCOMPARE(b.tensor, p.tensor);
            QCOMPARE(b.rows, p.rows);
            QCOMPARE(b.cols, p.cols);
            QVERIFY(b.columnBits == p.columnBits);
        }

        // A writer let go without commit() leaves nothing behind.
        const std::string dropped = files::join(dir.path().toStdString(), "dropped");
        {
            mpq::detail::ResultFolderWriter w(dropped);
            w.addLayer(l0);
        }
        QVERIFY(!files::exists(dropped));
        QVERIFY(!files::exists(partialResultFolder(dropped)));
    }

    void olderFolderStillReads()
    {
        // result.json as the first builds wrote it: no frobenius_error, calibration_tokens,
        // hessian_source, extra or session_run; the layer file in the format that never changed.
        QTemporaryDir dir;
        const std::string out = dir.path().toStdString();
        const mpq::detail::QuantizedWeight q = twoSlotMatrix(4, 6, 3, 3, 4);
        mpq::detail::writeLayerFile(resultLayerFile(out, 0), 0, {{"model.layers.0.self_attn.k_proj.weight", q}});
        std::ofstream(files::join(out, "result.json")) << R"({
 "format": "mpq-result", "version": 1, "model": "/models/old", "method": "gptq",
 "settings": {"bits": 3, "group_size": -1, "act_order": false, "static_groups": false, "symmetric": false,
              "damp_percent": 0.01, "block_size": 128, "calib": "c4", "nsamples": 2, "seqlen": 4, "seed": 0,
              "device": "cpu", "activation_dtype": "Float"},
 "calibration": {"file": "calibration.bin", "source": "c4.jsonl", "description": "c4"},
 "plan": {"method": "uniform", "matrices": [{"tensor": "model.layers.0.self_attn.k_proj.weight", "layer": 0,
          "linear": "k_proj", "rows": 4, "cols": 6, "bits": 3, "group_size": -1, "quantizer": "gptq"}]},
 "avg_bits": 3, "avg_bits_with_overhead": 3.5, "seconds": 2,
 "matrices": [{"tensor": "model.layers.0.self_attn.k_proj.weight", "layer": 0, "linear": "k_proj", "rows": 4,
               "cols": 6, "quantizer": "gptq", "code_bits": 3, "bits_with_overhead": 3.5, "output_error": 0.125,
               "gptq_loss": 0.5, "damping": 0.02}],
 "warnings": []
})";
        const ResultDescription d = readResultDescription(out);
        QCOMPARE(d.model, std::string("/models/old"));
        QVERIFY(d.hasCalibration);
        QVERIFY(d.solver.empty());
        QVERIFY(d.sessionRun.empty());
        QCOMPARE(d.matrices.size(), size_t(1));
        QCOMPARE(d.matrices[0].outputError, 0.125);
        QCOMPARE(d.matrices[0].frobeniusError, -1.0);
        QCOMPARE(d.matrices[0].calibrationTokens, int64_t(-1));
        QVERIFY(d.matrices[0].hessianSource.empty());
        const auto run = mpq::detail::openQuantizedRun(out);
        QCOMPARE(run->method(), std::string("gptq"));
        QCOMPARE(run->plan().matrices.at(0).columnBits, std::vector<uint8_t>(6, 3));
        QVERIFY(sameWeight(run->layer(0).at(0).second, q));

        // A newer version or another format is refused, naming the file.
        std::ofstream(files::join(out, "result.json")) << R"({"format": "mpq-result", "version": 2, "model": "m"})";
        const std::string newer = errorOf([&] { readResultDescription(out); });
        QVERIFY2(newer.find("result.json") != std::string::npos && newer.find("newer") != std::string::npos,
                 newer.c_str());
        std::ofstream(files::join(out, "result.json")) << R"({"format": "other", "model": "m"})";
        QVERIFY(errorOf([&] { mpq::detail::openQuantizedRun(out); }).find("not an MPQ result") != std::string::npos);
    }

    void storedArchitectureMatchesBothForms()
    {
        const ModelConfig qwen = ModelSource::open(fixtureDir("qwen2").toStdString()).config();
        QVERIFY(qwen.qkvBias); // a family whose toJson() differs from the legacy form
        QVERIFY(qwen.toJson() != legacyConfigJson(qwen));
        const auto stored = [](const std::string& json) {
            session::ModelReference m;
            m.configJson = json;
            return m;
        };
        QVERIFY(stored(qwen.toJson()).sameArchitecture(qwen.toJson()));
        QVERIFY(stored(legacyConfigJson(qwen)).sameArchitecture(qwen.toJson()));
        ModelConfig wider = qwen;
        wider.hiddenSize += 8;
        QVERIFY(!stored(wider.toJson()).sameArchitecture(qwen.toJson()));
        QVERIFY(!stored(legacyConfigJson(wider)).sameArchitecture(qwen.toJson()));
        ModelConfig noBias = qwen;
        noBias.qkvBias = false;
        // model_type without qkv_bias is a newer record of another architecture, not the legacy form
        QVERIFY(!stored(noBias.toJson()).sameArchitecture(qwen.toJson()));
        QVERIFY(!stored("not json").sameArchitecture(qwen.toJson()));
        QVERIFY(!stored("[1, 2]").sameArchitecture(qwen.toJson()));
        ModelConfig llama; // a plain LLaMA: its record never changed
        llama.hiddenSize = qwen.hiddenSize;
        llama.intermediateSize = qwen.intermediateSize;
        llama.numLayers = qwen.numLayers;
        llama.numHeads = qwen.numHeads;
        llama.numKvHeads = qwen.numKvHeads;
        llama.headDim = qwen.headDim;
        llama.vocabSize = qwen.vocabSize;
        llama.maxPositions = qwen.maxPositions;
        QCOMPARE(llama.toJson(), legacyConfigJson(llama));
    }

    void sessionOfAnOlderBuildResumes()
    {
        // A qwen2 run cancelled after its first layer, whose session holds the architecture as
        // older builds stored it, resumes; a different architecture is still refused.
        const QString model = fixtureDir("qwen2");
        const QJsonObject ref = [&] {
            QFile f(model + "/reference.json");
            return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
        }();
        std::vector<int32_t> ids;
        for (const auto& v : ref["ids"].toArray())
            ids.push_back(v.toInt());
        QVERIFY(ids.size() >= 4 * 32);
        QTemporaryDir dir;
        CalibrationSet calib;
        for (size_t w = 0; w < 4; ++w)
            calib.windows.emplace_back(ids.begin() + long(w * 32), ids.begin() + long((w + 1) * 32));
        const std::string tokens = dir.filePath("calibration.bin").toStdString();
        saveCalibrationTokens(calib, tokens);
        const ModelConfig config = ModelSource::open(model.toStdString()).config();

        auto cancelledRun = [&](const std::string& session) {
            QuantizeParams p;
            p.model = model.toStdString();
            p.calibTokens = tokens;
            p.session = session;
            p.runName = "g";
            JobContext ctx;
            ctx.setLayerHandler([&](int64_t layer, int64_t) {
                if (layer == 0)
                    ctx.requestCancel();
            });
            QVERIFY_THROWS_EXCEPTION(Cancelled, quantizeModel(p, ctx));
        };
        QuantizeParams resume;
        resume.resume = true;
        resume.runName = "g";

        const std::string old = dir.filePath("old.h5").toStdString();
        cancelledRun(old);
        storeModelConfig(old, "g", legacyConfigJson(config));
        resume.session = old;
        JobContext ctx;
        const QuantizeReport r = quantizeModel(resume, ctx);
        QCOMPARE(r.resumedLayers, int64_t(1));
        QCOMPARE(session::Session::open(old).run("g").status, session::RunStatus::Complete);

        const std::string other = dir.filePath("other.h5").toStdString();
        cancelledRun(other);
        ModelConfig wider = config;
        wider.hiddenSize += 8;
        storeModelConfig(other, "g", legacyConfigJson(wider));
        resume.session = other;
        JobContext ctx2;
        const std::string refused = errorOf([&] { quantizeModel(resume, ctx2); });
        QVERIFY2(refused.find("is not the one this run started from") != std::string::npos, refused.c_str());
    }

    void trainingCurvesHaveOneReader()
    {
        const TrainingCurves c = parseTrainingCurves(
            R"({"alpha": 0.5, "curves": {"loss": [1, 0.5], "l_quant": [0.75, 0.25], "l_bit": [3, 2.5],
                "avg_bits": [3, 2.5], "alpha": [0.25, 0.5], "tau": [1, "x"]}})");
        QCOMPARE(c.epochs(), size_t(2));
        QCOMPARE(c.loss, (std::vector<double>{1, 0.5}));
        QCOMPARE(c.lQuant, (std::vector<double>{0.75, 0.25}));
        QCOMPARE(c.lBit, (std::vector<double>{3, 2.5}));
        QCOMPARE(c.avgBits, (std::vector<double>{3, 2.5}));
        QCOMPARE(c.alpha, (std::vector<double>{0.25, 0.5}));
        QCOMPARE(c.tau, (std::vector<double>{1, 0})); // a non-number counts as 0
        QCOMPARE(c.finalAlpha, 0.5);
        const TrainingCurves partial = parseTrainingCurves(R"({"alpha": 2, "curves": {"loss": [4]}})");
        QCOMPARE(partial.loss, std::vector<double>{4});
        QVERIFY(partial.lBit.empty() && partial.tau.empty());
        QCOMPARE(partial.finalAlpha, 2.0);
        QCOMPARE(parseTrainingCurves(R"({"alpha": 1})").epochs(), size_t(0));
        QCOMPARE(parseTrainingCurves("").epochs(), size_t(0));
        QCOMPARE(parseTrainingCurves("not json").epochs(), size_t(0));
        QCOMPARE(parseTrainingCurves("[1]").epochs(), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestRuns)
#include "tst_runs.moc"
