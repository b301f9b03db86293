// HDF5 session files: the SHA-256 of model references, write-then-read round trips of every
// part, one clear error for each kind of bad file, and quantization runs written into sessions
// (per-layer data, QuantizedRun access, cancellation and bit-identical resume).
#include "TestData.h"

#include "core/Error.h"
#include "core/Files.h"
#include "pipeline/QuantizeJob.h"
#include "runs/StoredRun.h"
#include "runs/detail/QuantizedRun.h"
#include "session/Session.h"
#include "session/detail/Sha256.h"

#include <hdf5.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using namespace mpq;

namespace {

/// The Error message of `f()`, or "" when it did not throw mpq::Error.
template <typename F>
std::string errorOf(F f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

/// A model the quantization cases run on, with its calibration text.
struct TestModel {
    std::string path;
    std::string calib;       ///< empty: C4 from MPQ_DATA_DIR
    int64_t intermediate = 0;
};

/// The rows of the quantization cases: the embedded demo model (every clone, no MPQ_DATA_DIR)
/// and stories260K (llama2.c format, from MPQ_DATA_DIR; skipped without it).
void addModelRows(const char* extra = nullptr, const QStringList& extras = {})
{
    QTest::addColumn<QString>("modelName");
    if (extra)
        QTest::addColumn<QString>(extra);
    for (const char* m : {"demo", "stories260K"}) {
        if (extras.isEmpty())
            QTest::newRow(m) << QString::fromLatin1(m);
        for (const QString& e : extras)
            QTest::newRow(qPrintable(QStringLiteral("%1 %2").arg(QLatin1String(m), e))) << QString::fromLatin1(m) << e;
    }
}

/// Declares `TestModel var` for the row's model, or skips (stories260K without MPQ_DATA_DIR).
#define MPQ_ROW_MODEL(var)                                                                       \
    TestModel var;                                                                               \
    {                                                                                            \
        QFETCH(QString, modelName);                                                              \
        if (modelName == QLatin1String("demo")) {                                                \
            MPQ_DEMO_MODEL(demo_);                                                               \
            var = {demo_.dir, demo_.calibText, 192};                                             \
        } else {                                                                                 \
            MPQ_DATA_PATH(path_, "models/stories260K/stories260K.bin");                          \
            var = {path_, "", 172};                                                              \
        }                                                                                        \
    }

QuantizeParams smallJob(const TestModel& model, const std::string& method = "gptq")
{
    QuantizeParams p;
    p.model = model.path;
    p.method = method;
    p.bits = 3;
    p.nsamples = 8;
    p.seqlen = 64;
    if (!model.calib.empty())
        p.calib = model.calib;
    if (const char* data = std::getenv("MPQ_DATA_DIR"))
        p.dataDir = data;
    return p;
}

/// Every stored quantized matrix of two runs is equal bit for bit.
void compareRuns(const std::string& a, const std::string& b)
{
    const auto ra = mpq::detail::openQuantizedRun(a);
    const auto rb = mpq::detail::openQuantizedRun(b);
    QCOMPARE(ra->layers(), rb->layers());
    for (int64_t i : ra->layers()) {
        auto la = ra->layer(i);
        auto lb = rb->layer(i);
        const auto byName = [](const auto& x, const auto& y) { return x.first < y.first; };
        std::sort(la.begin(), la.end(), byName);
        std::sort(lb.begin(), lb.end(), byName);
        QCOMPARE(la.size(), lb.size());
        for (size_t k = 0; k < la.size(); ++k) {
            QCOMPARE(la[k].first, lb[k].first);
            QVERIFY2(at::equal(la[k].second.codes, lb[k].second.codes), la[k].first.c_str());
            QVERIFY2(at::equal(la[k].second.scales, lb[k].second.scales), la[k].first.c_str());
            QVERIFY2(at::equal(la[k].second.zeros, lb[k].second.zeros), la[k].first.c_str());
            QVERIFY(at::equal(la[k].second.slotOfColumn, lb[k].second.slotOfColumn));
        }
    }
}

} // namespace

class TestSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // FIPS 180-2's vectors, and a 670 KB file against coreutils' sha256sum (the committed demo
    // model's weights; every clone, no MPQ_DATA_DIR).
    void sha256MatchesFipsAndSha256sum()
    {
        QCOMPARE(session::detail::sha256("abc"),
                 std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(session::detail::sha256(""),
                 std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        MPQ_DEMO_MODEL(demo);
        QCOMPARE(session::detail::sha256File(files::join(demo.dir, "model.safetensors")),
                 std::string("244a86fe62fa6ad001eeb3fc692b6930eef05b18bba0555c83c5520eb38e8b3b"));
    }

    void sha256MatchesTheDataReadme()
    {
        MPQ_DATA_PATH(model, "models/stories260K/stories260K.bin");
        QCOMPARE(session::detail::sha256File(model),
                 std::string("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"));
    }

    void smallPartsRoundTrip()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("s.h5").toStdString();
        session::Evaluation e;
        e.run = "gptq-1";
        e.model = file + "#gptq-1";
        e.dataset = "wikitext2";
        e.protocol = "sliding";
        e.seqlen = 512;
        e.perplexity = 12.5;
        e.meanNll = std::log(12.5);
        e.tokens = 4096;
        e.resultJson = R"({"device":"cpu"})";
        QCOMPARE(session::addEvaluation(file, e), int64_t(1));
        e.dataset = "c4";
        QCOMPARE(session::addEvaluation(file, e), int64_t(2));

        session::Sweep sw;
        sw.name = "alpha-sweep";
        sw.method = "mgptq";
        sw.axis = "alpha";
        sw.model = "/m";
        sw.points.push_back({0.1, "alpha-sweep-00", 3.5, 3.75, {{"wikitext2", 20.0}, {"c4", 30.0}}});
        sw.points.push_back({1.0, "alpha-sweep-01", 2.5, 2.75, {{"wikitext2", 40.0}}});
        session::saveSweep(file, sw);
        sw.points.pop_back(); // replaced by name, not added
        session::saveSweep(file, sw);

        MxqCostTable t;
        t.model = "/m";
        t.device = "cpu";
        t.seconds = 1.5;
        t.costChoice = "auto: fnorm (data-free, the paper's): no calibration data";
        t.configs = {{2, 64}, {4, 128}};
        t.matrices.push_back({"model.layers.0.self_attn.q_proj.weight", 0, "q_proj", 64, 64, {3.0, 1.0},
                              {mxqStorageBits(64, 64, {2, 64}), mxqStorageBits(64, 64, {4, 128})}});
        session::saveMxqCostTable(file, "costs", t);
        session::appendLog(file, {{"2025-01-01T00:00:00Z", "gptq-1", "first"}});
        session::appendLog(file, {{"2025-01-01T00:00:01Z", "", "second"}});

        const session::Session s = session::Session::open(file);
        QCOMPARE(s.info().version, session::kSchemaVersion);
        const auto evals = s.evaluations();
        QCOMPARE(int(evals.size()), 2);
        QCOMPARE(evals[0].id, int64_t(1));
        QCOMPARE(evals[0].dataset, std::string("wikitext2"));
        QCOMPARE(evals[1].dataset, std::string("c4"));
        QCOMPARE(evals[0].protocol, std::string("sliding"));
        QCOMPARE(evals[0].perplexity, 12.5);
        QCOMPARE(evals[0].tokens, int64_t(4096));
        QCOMPARE(evals[0].resultJson, e.resultJson);
        const auto sweeps = s.sweeps();
        QCOMPARE(int(sweeps.size()), 1);
        QCOMPARE(int(sweeps[0].points.size()), 1);
        QCOMPARE(sweeps[0].points[0].run, std::string("alpha-sweep-00"));
        QCOMPARE(sweeps[0].points[0].avgBitsWithOverhead, 3.75);
        QCOMPARE(int(sweeps[0].points[0].perplexity.size()), 2);
        QCOMPARE(s.mxqCostTableNames(), std::vector<std::string>{"costs"});
        const MxqCostTable back = s.mxqCostTable("costs");
        QCOMPARE(back.toJson(), t.toJson());
        const auto log = s.log();
        QCOMPARE(int(log.size()), 2);
        QCOMPARE(log[1].message, std::string("second"));
        QVERIFY(s.runs().empty());
        QVERIFY(errorOf([&] { s.run("nope"); }).find("no run named \"nope\"") != std::string::npos);
        // Nothing but the session and its lock folder is left behind.
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot),
                 QStringList({"s.h5", "s.h5.journal"}));
    }

    void badFilesGiveOneClearError()
    {
        QTemporaryDir dir;
        const std::string good = dir.filePath("good.h5").toStdString();
        session::appendLog(good, {{"t", "", "x"}});

        const std::string missing = dir.filePath("missing.h5").toStdString();
        QVERIFY(errorOf([&] { session::Session::open(missing); }).find("no such session file") != std::string::npos);

        const std::string random = dir.filePath("random.h5").toStdString();
        {
            std::mt19937 gen(7);
            std::ofstream out(random, std::ios::binary);
            for (int i = 0; i < 4096; ++i)
                out.put(char(gen()));
        }
        QVERIFY(errorOf([&] { session::Session::open(random); }).find("not HDF5 at all") != std::string::npos);

        const std::string truncated = dir.filePath("truncated.h5").toStdString();
        QVERIFY(QFile::copy(QString::fromStdString(good), QString::fromStdString(truncated)));
        std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 2);
        const std::string tmsg = errorOf([&] { session::Session::open(truncated); });
        QVERIFY2(tmsg.find("damaged or truncated") != std::string::npos, tmsg.c_str());

        const std::string foreign = dir.filePath("foreign.h5").toStdString();
        {
            const hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            QVERIFY(f >= 0);
            const hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Gclose(g);
            H5Fclose(f);
        }
        const std::string fmsg = errorOf([&] { session::Session::open(foreign); });
        QVERIFY2(fmsg.find("not an MPQ session") != std::string::npos, fmsg.c_str());

        const std::string newer = dir.filePath("newer.h5").toStdString();
        QVERIFY(QFile::copy(QString::fromStdString(good), QString::fromStdString(newer)));
        QFile::setPermissions(QString::fromStdString(newer), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        {
            const hid_t f = H5Fopen(newer.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
            QVERIFY(f >= 0);
            const int64_t v = session::kSchemaVersion + 1;
            const hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
            QVERIFY(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
            H5Aclose(a);
            H5Fclose(f);
        }
        const std::string nmsg = errorOf([&] { session::Session::open(newer); });
        QVERIFY2(nmsg.find("is newer than this build") != std::string::npos, nmsg.c_str());

        // The same files as runs, and as targets of writes: errors, no crash, nothing replaced.
        for (const auto& f : {random, truncated, foreign, newer}) {
            QVERIFY(!errorOf([&] { mpq::detail::openQuantizedRun(f + "#gptq-1"); }).empty());
            QVERIFY(!errorOf([&] { session::appendLog(f, {{"t", "", "y"}}); }).empty());
        }
        QVERIFY(errorOf([&] { session::Session::open(newer); }).find("is newer") != std::string::npos);
    }

    // A sweep evaluated on a text file (the demo's demo-valid.txt): the column named by a path
    // round-trips ('/' is not allowed in an HDF5 name; docs/session-format.md).
    void sweepColumnNamedByAPath()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath("s.h5").toStdString();
        session::Sweep sw;
        sw.name = "bits";
        sw.method = "gptq";
        sw.axis = "bits";
        sw.model = "/m";
        const std::string path = "/x/100%/demo-valid.txt";
        sw.points.push_back({4, "gptq-4bit", 4, 4.25, {{path, 1.37}, {"wikitext2", 20.0}}});
        sw.points.push_back({3, "gptq-3bit", 3, 3.25, {{path, 1.38}}});
        session::saveSweep(file, sw);
        const auto sweeps = session::Session::open(file).sweeps();
        QCOMPARE(int(sweeps.size()), 1);
        const auto& p = sweeps[0].points;
        QCOMPARE(int(p.size()), 2);
        std::map<std::string, double> first(p[0].perplexity.begin(), p[0].perplexity.end());
        QCOMPARE(first.at(path), 1.37);
        QCOMPARE(first.at("wikitext2"), 20.0);
        QCOMPARE(int(p[1].perplexity.size()), 1);
        QCOMPARE(p[1].perplexity[0].first, path);
    }

    void quantizeIntoSessionStoresEveryPart_data() { addModelRows(); }
    void quantizeIntoSessionStoresEveryPart()
    {
        MPQ_ROW_MODEL(model);
        const int n = int(model.intermediate); // down_proj's columns
        QTemporaryDir dir;
        const std::string file = dir.filePath("s.h5").toStdString();
        QuantizeParams p = smallJob(model);
        p.session = file;
        p.out = dir.filePath("folder").toStdString();
        JobContext ctx;
        const QuantizeReport r = quantizeModel(p, ctx);
        QCOMPARE(r.sessionRun, file + "#gptq-1");

        const session::Session s = session::Session::open(file);
        const auto runs = s.runs();
        QCOMPARE(int(runs.size()), 1);
        const auto& run = runs[0];
        QCOMPARE(run.name, std::string("gptq-1"));
        QCOMPARE(run.method, std::string("gptq"));
        QCOMPARE(run.status, session::RunStatus::Complete);
        QCOMPARE(run.layersTotal, int64_t(5));
        QCOMPARE(run.layersDone, (std::vector<int64_t>{0, 1, 2, 3, 4}));
        QCOMPARE(run.calibrationWindows, int64_t(8));
        QCOMPARE(run.calibrationLength, int64_t(64));
        QCOMPARE(run.model.path, files::absolute(model.path));
        QVERIFY(!run.model.sha256.empty());
        if (model.calib.empty()) // stories260K: the data README's checksum
            QCOMPARE(run.model.sha256[0].second,
                     std::string("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"));
        QVERIFY(std::abs(run.avgBits - r.avgBits) < 1e-12);
        QVERIFY(run.settingsJson.find("\"bits\":3") != std::string::npos);

        const auto matrices = s.matrices("gptq-1");
        QCOMPARE(int(matrices.size()), 35);
        QCOMPARE(matrices[0].linear, std::string("q_proj"));
        for (const auto& m : matrices) {
            QVERIFY(m.outputError >= 0);
            QVERIFY(m.hasHessian); // 64 and 172 (192) columns: under the default limit
            QCOMPARE(m.codeBits, 3.0);
        }
        const session::MatrixDetail d = s.matrix("gptq-1", "model.layers.2.mlp.down_proj.weight");
        QCOMPARE(int(d.columnBits.size()), n);
        QCOMPARE(int(d.hessianDiagonal.size()), n);
        QCOMPARE(int(d.hessian.size()), n * n);
        for (int j = 0; j < n; ++j)
            QCOMPARE(d.hessian[size_t(j * n + j)], d.hessianDiagonal[size_t(j)]);
        QCOMPARE(d.adjacency.nodes, int64_t(n));
        QCOMPARE(d.adjacency.topK, int64_t(16));
        QCOMPARE(d.adjacency.construction, std::string("mgptq-dense"));
        QCOMPARE(int(d.adjacency.row.size()), n * 16);
        for (size_t e = 0; e < d.adjacency.row.size(); ++e) {
            QVERIFY(d.adjacency.row[e] != d.adjacency.col[e]);
            QVERIFY(d.adjacency.value[e] >= 0 && std::isfinite(d.adjacency.value[e]));
        }
        // q, k and v share their group's Hessian (stored once, linked).
        const auto q = s.matrix("gptq-1", "model.layers.0.self_attn.q_proj.weight");
        const auto v = s.matrix("gptq-1", "model.layers.0.self_attn.v_proj.weight");
        QCOMPARE(q.hessianDiagonal, v.hessianDiagonal);

        // The session run and the result folder hold the same quantized weights.
        compareRuns(file + "#gptq-1", r.outDir);
        const auto sr = mpq::detail::openQuantizedRun(file + "#gptq-1");
        QCOMPARE(sr->method(), std::string("gptq"));
        QCOMPARE(int(sr->plan().matrices.size()), 35);
        QVERIFY(isQuantizedRun(file + "#gptq-1"));
        QVERIFY(errorOf([&] { mpq::detail::openQuantizedRun(file + "#nope"); }).find("runs: gptq-1") != std::string::npos);
        // A second run goes beside the first; a taken name is refused.
        QuantizeParams p2 = smallJob(model, "rtn");
        p2.session = file;
        QCOMPARE(quantizeModel(p2, ctx).sessionRun, file + "#rtn-1");
        p2.runName = "gptq-1";
        QVERIFY(errorOf([&] { quantizeModel(p2, ctx); }).find("already exists") != std::string::npos);
        QCOMPARE(int(session::Session::open(file).runs().size()), 2);
    }

    void mgptqStoresTrainingCurves_data() { addModelRows(); }
    void mgptqStoresTrainingCurves()
    {
        MPQ_ROW_MODEL(model);
        QTemporaryDir dir;
        QuantizeParams p = smallJob(model);
        p.session = dir.filePath("s.h5").toStdString();
        p.allocator = "mgptq-gcn";
        p.mgptq.targetBits = 3.0;
        p.mgptq.epochs = 12;
        JobContext ctx;
        const QuantizeReport r = quantizeModel(p, ctx);
        const session::Session s = session::Session::open(p.session);
        QCOMPARE(s.runs().at(0).method, std::string("mgptq-gcn"));
        const auto d = s.matrix("mgptq-gcn-1", "model.layers.1.self_attn.o_proj.weight");
        QCOMPARE(int(d.curves.epochs()), 12);
        QCOMPARE(d.curves.lQuant.size(), d.curves.loss.size());
        QCOMPARE(d.curves.avgBits.size(), d.curves.loss.size());
        QVERIFY(d.summary.hasCurves);
        QVERIFY(d.diagnosticsJson.find("\"curves\"") != std::string::npos);
        QVERIFY(d.adjacency.row.size() > 0);
        (void)r;
    }

    void cancelledRunResumesBitIdentical_data()
    {
        addModelRows("method", {QStringLiteral("gptq"), QStringLiteral("hqq"), QStringLiteral("mgptq-gcn")});
    }

    void cancelledRunResumesBitIdentical()
    {
        QFETCH(QString, method);
        MPQ_ROW_MODEL(model);
        QTemporaryDir dir;
        const std::string ref = dir.filePath("ref.h5").toStdString();
        const std::string cut = dir.filePath("cut.h5").toStdString();
        auto job = [&] {
            QuantizeParams p = smallJob(model, method == "hqq" ? "hqq" : "gptq");
            if (method == "mgptq-gcn") {
                p.allocator = "mgptq-gcn";
                p.mgptq.targetBits = 3.0;
                p.mgptq.epochs = 12;
            }
            return p;
        };
        const std::string run = method.toStdString() + "-1";
        {
            QuantizeParams p = job();
            p.session = ref;
            JobContext ctx;
            quantizeModel(p, ctx);
        }
        QuantizeParams p = job();
        p.session = cut;
        JobContext ctx;
        ctx.setProgressHandler([&](const Progress& pr) {
            if (pr.unit == "layers" && pr.done >= 2)
                ctx.requestCancel();
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, quantizeModel(p, ctx));
        {
            const session::RunInfo info = session::Session::open(cut).run(run);
            QCOMPARE(info.status, session::RunStatus::Cancelled);
            QCOMPARE(info.layersDone, (std::vector<int64_t>{0, 1}));
        }
        QVERIFY(errorOf([&] { mpq::detail::openQuantizedRun(cut + "#" + run)->layer(3); }).find("not stored") !=
                std::string::npos);
        QuantizeParams resume;
        resume.session = cut;
        resume.resume = true;
        JobContext ctx2;
        const QuantizeReport r = quantizeModel(resume, ctx2);
        QCOMPARE(r.resumedLayers, int64_t(2));
        QCOMPARE(int(r.matrices.size()), 35);
        QCOMPARE(session::Session::open(cut).run(run).status, session::RunStatus::Complete);
        compareRuns(ref + "#" + run, cut + "#" + run);
        // The allocation too (MG-PTQ's per-column bits).
        const auto pa = mpq::detail::openQuantizedRun(ref + "#" + run)->plan();
        const auto pb = mpq::detail::openQuantizedRun(cut + "#" + run)->plan();
        QCOMPARE(pa.matrices.size(), pb.matrices.size());
        for (size_t i = 0; i < pa.matrices.size(); ++i)
            QVERIFY(pa.matrices[i].columnBits == pb.matrices[i].columnBits);
        QVERIFY(errorOf([&] { quantizeModel(resume, ctx2); }).find("no unfinished run") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
