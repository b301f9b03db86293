// Hardened inputs (docs/hardening.md): checksummed session data (a flipped byte in stored codes
// is reported by layer and matrix, and --resume recomputes that layer), numerical faults reported
// instead of propagated (NaN/Inf in weights, Hessians, activations and stored scales; GPTQ's
// fallback for a Hessian that is not positive definite; no NaN perplexity with exit 0), every
// bad setting refused before work starts with one line naming it, and two processes writing one
// session.
#include "TestData.h"

#include "core/Error.h"
#include "core/Files.h"
#include "eval/Perplexity.h"
#include "model/ModelSource.h"
#include "model/SafetensorsFile.h"
#include "pipeline/QuantizeJob.h"
#include "runs/detail/QuantizedRun.h"
#include "quant/detail/Gptq.h"
#include "alloc/AllocationPlan.h"
#include "alloc/mxq/MxqProblem.h"
#include "pipeline/QuantizeParamsJson.h"
#include "runs/ResultFolder.h"
#include "session/Session.h"
#include "session/SessionVerify.h"
#include "session/detail/H5.h"

#include <hdf5.h>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#ifndef MPQ_CLI_PATH
#error "MPQ_CLI_PATH must name the mpq executable (tests/hardening.cmake)"
#endif

using namespace mpq;

namespace {

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

bool contains(const std::string& s, const std::string& part)
{
    return s.find(part) != std::string::npos;
}

std::string dataDir()
{
    return std::getenv("MPQ_DATA_DIR") ? std::getenv("MPQ_DATA_DIR") : "";
}

/// A model the cases run on, with the texts it is calibrated and evaluated on.
struct TestModel {
    std::string path;
    std::string calib;     ///< empty: C4 from MPQ_DATA_DIR
    std::string evalText;  ///< a text file, or "wikitext2" from MPQ_DATA_DIR
    std::string tokenizer; ///< empty: the one beside the model
};

/// The embedded demo model (5 decoder layers, as stories260K): every clone, no MPQ_DATA_DIR.
TestModel demoTestModel(const DemoModel& demo)
{
    return {demo.dir, demo.calibText, demo.validText, ""};
}

/// The rows of the cases whose faults are planted in the model file itself: the demo model
/// (safetensors, F16) always, stories260K (llama2.c, F32) from MPQ_DATA_DIR.
void addModelRows()
{
    QTest::addColumn<QString>("modelName");
    QTest::newRow("demo") << QStringLiteral("demo");
    QTest::newRow("stories260K") << QStringLiteral("stories260K");
}

/// Declares `TestModel var` for the row's model, or skips (stories260K without MPQ_DATA_DIR).
#define MPQ_ROW_MODEL(var)                                                                       \
    TestModel var;                                                                               \
    {                                                                                            \
        QFETCH(QString, modelName);                                                              \
        if (modelName == QLatin1String("demo")) {                                                \
            MPQ_DEMO_MODEL(demo_);                                                               \
            var = demoTestModel(demo_);                                                          \
        } else {                                                                                 \
            MPQ_DATA_PATH(path_, "models/stories260K/stories260K.bin");                          \
            var = {path_, "", "wikitext2", files::join(files::parent(path_), "tok512.model")};   \
        }                                                                                        \
    }

QuantizeParams smallJob(const TestModel& model)
{
    QuantizeParams p;
    p.model = model.path;
    p.method = "gptq";
    p.bits = 3;
    p.nsamples = 8;
    p.seqlen = 64;
    if (!model.calib.empty())
        p.calib = model.calib;
    p.dataDir = dataDir();
    return p;
}

/// Copies a model (a llama2.c file or a Hugging Face folder) to `dir`; returns the copy's path.
std::string copyModel(const std::string& model, const std::string& dir)
{
    std::filesystem::path from(model);
    if (from.filename().empty()) // "folder/"
        from = from.parent_path();
    const std::string to = files::join(dir, from.filename().string());
    std::filesystem::copy(model, to, std::filesystem::copy_options::recursive |
                                         std::filesystem::copy_options::overwrite_existing);
    return to;
}

/// File offset and size of the first stored chunk of a dataset (a Fletcher-32 chunked array).
std::pair<uint64_t, uint64_t> firstChunk(const std::string& file, const std::string& dataset)
{
    std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
    const h5::Id f = h5::openFile(file);
    const h5::Id ds(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), file);
    h5::check(ds.get(), file, "open " + dataset);
    hsize_t offset[2] = {}, size = 0;
    haddr_t addr = 0;
    unsigned mask = 0;
    const h5::Id space(H5Dget_space(ds.get()), file);
    h5::check(H5Dget_chunk_info(ds.get(), space.get(), 0, offset, &mask, &addr, &size), file, "chunk of " + dataset);
    return {uint64_t(addr), uint64_t(size)};
}

/// Flips (xors) `count` bytes in the middle of [offset, offset + size) of a file.
void flipBytes(const std::string& file, uint64_t offset, uint64_t size, int count = 3)
{
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    for (int k = 0; k < count; ++k) {
        const uint64_t at = offset + size / 2 + uint64_t(k);
        io.seekg(std::streamoff(at));
        char c = 0;
        io.read(&c, 1);
        c = char(c ^ 0x5a);
        io.seekp(std::streamoff(at));
        io.write(&c, 1);
    }
}

/// Writes NaN or +Inf over the first `count` elements (all: -1) of a tensor of a model copy, in
/// the tensor's stored type (F32 of a llama2.c file, F16/BF16 of a safetensors file).
void poisonTensor(const std::string& model, const std::string& tensor, bool nan, int64_t count = -1)
{
    const ModelSource source = ModelSource::open(model);
    for (const TensorEntry& t : source.tensors())
        if (t.name == tensor) {
            std::string value;
            if (t.type == StorageType::F32) {
                const float f = nan ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
                value.assign(reinterpret_cast<const char*>(&f), 4);
            } else {
                QVERIFY2(t.type == StorageType::F16 || t.type == StorageType::BF16, tensor.c_str());
                // IEEE half: exponent 0x7C00; bfloat16: 0x7F80; a set mantissa bit makes a NaN.
                const uint16_t inf = t.type == StorageType::F16 ? 0x7C00 : 0x7F80;
                const uint16_t h = nan ? uint16_t(inf | (t.type == StorageType::F16 ? 0x0200 : 0x0040)) : inf;
                value.assign(reinterpret_cast<const char*>(&h), 2);
            }
            std::fstream io(t.file, std::ios::in | std::ios::out | std::ios::binary);
            io.seekp(std::streamoff(t.offset));
            const int64_t n = count < 0 ? int64_t(t.bytes / value.size()) : count;
            for (int64_t i = 0; i < n; ++i)
                io.write(value.data(), std::streamsize(value.size()));
            QVERIFY(io.good());
            return;
        }
    QFAIL(("no tensor " + tensor).c_str());
}

struct Run {
    int exitCode = -1;
    bool crashed = true;
    QString out, err;
    qint64 ms = 0;
    QString describe() const
    {
        return QStringLiteral("exit %1%2 after %3 ms\nstdout: %4\nstderr: %5")
            .arg(exitCode)
            .arg(crashed ? " (CRASHED)" : "")
            .arg(ms)
            .arg(out.left(1500), err.left(1500));
    }
};

Run runMpq(const QStringList& args, int timeoutMs = 300000, const QProcessEnvironment* env = nullptr)
{
    QProcess p;
    if (env)
        p.setProcessEnvironment(*env);
    QElapsedTimer t;
    t.start();
    p.start(QStringLiteral(MPQ_CLI_PATH), args);
    Run r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.ms = t.elapsed();
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

class TestHardening : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    qint64 m_startMs = 0; ///< what starting `mpq` costs here (`mpq --help`)

private Q_SLOTS:
    void initTestCase()
    {
        // Loading LibTorch: about a second on an idle machine, much more on a loaded one.
        m_startMs = runMpq({"--help"}).ms;
        qInfo("mpq --help: %lld ms", m_startMs);
    }

    // ---- integrity of stored data ----

    void flippedCodesAreReportedByLayerAndMatrix()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        const std::string file = dir.filePath("s.h5").toStdString();
        QuantizeParams p = smallJob(model);
        p.session = file;
        JobContext ctx;
        quantizeModel(p, ctx);
        QCOMPARE(session::Session::open(file).info().version, session::kSchemaVersion);

        // `mpq session verify` reads everything back: intact before the flip.
        const session::VerifyReport intact = session::verifySession(file);
        QVERIFY2(intact.intact(), intact.problems.empty() ? "" : intact.problems[0].message.c_str());
        QCOMPARE(intact.layersRead, int64_t(5));
        QCOMPARE(intact.contentDigest.size(), size_t(64));
        QCOMPARE(session::verifySession(file).contentDigest, intact.contentDigest); // deterministic

        const auto [offset, size] = firstChunk(file, "/runs/gptq-1/layers/002/down_proj/codes");
        QVERIFY(size > 16);
        flipBytes(file, offset, size);

        // verify names the damaged layer (and only it), through the engine and the CLI.
        const session::VerifyReport damaged = session::verifySession(file);
        QCOMPARE(int(damaged.problems.size()), 1);
        QVERIFY2(contains(damaged.problems[0].object, "decoder layer 2"), damaged.problems[0].object.c_str());
        QCOMPARE(damaged.layersRead, int64_t(4));
        const Run cli = runMpq({"session", "verify", QString::fromStdString(file)});
        QVERIFY2(!cli.crashed && cli.exitCode == 1 && cli.out.contains("1 damaged object") &&
                     cli.out.contains("run gptq-1, decoder layer 2") && cli.out.contains("checksum"),
                 qPrintable(cli.describe()));

        // The session still opens and lists its runs; reading the damaged layer fails by name.
        const session::Session s = session::Session::open(file);
        QCOMPARE(int(s.runs().size()), 1);
        const auto run = mpq::detail::openQuantizedRun(file + "#gptq-1");
        run->layer(1); // the others are intact
        bool checksum = false;
        std::string message;
        try {
            run->layer(2);
        } catch (const h5::ChecksumError& e) {
            checksum = true;
            message = e.what();
        }
        QVERIFY2(checksum, message.c_str());
        QVERIFY2(contains(message, "decoder layer 2") && contains(message, "down_proj") && contains(message, "codes") &&
                     contains(message, "checksum"),
                 message.c_str());
        QVERIFY2(message.find('\n') == std::string::npos, message.c_str());
        // Evaluation refuses it too (one line, naming the layer).
        const std::string evalError = errorOf([&] {
            EvalParams e;
            e.model = file + "#gptq-1";
            e.dataset = model.evalText;
            e.dataDir = p.dataDir;
            e.maxWindows = 1;
            e.seqlen = 64;
            JobContext c;
            evaluatePerplexity(e, c);
        });
        QVERIFY2(contains(evalError, "decoder layer 2") && contains(evalError, "checksum"), evalError.c_str());
    }

    void flippedTextAndMetadataAreDetected()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        const std::string file = dir.filePath("s.h5").toStdString();
        QuantizeParams p = smallJob(model);
        p.session = file;
        p.method = "rtn";
        JobContext ctx;
        quantizeModel(p, ctx);
        // Every byte of the file after the superblock, flipped one at a time in a sample of
        // positions: each read either succeeds with the same data or fails with an mpq::Error;
        // the codes of every layer are never silently different.
        const auto good = mpq::detail::openQuantizedRun(file + "#rtn-1");
        std::vector<at::Tensor> codes;
        for (int64_t k : good->layers())
            for (auto& [name, q] : good->layer(k))
                codes.push_back(q.codes.clone());
        const std::string original = files::readAll(file);
        int detected = 0, harmless = 0;
        for (size_t pos = 64; pos < original.size(); pos += original.size() / 97) {
            std::string bytes = original;
            bytes[pos] = char(bytes[pos] ^ 0x10);
            std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
            try {
                const auto run = mpq::detail::openQuantizedRun(file + "#rtn-1");
                size_t i = 0;
                for (int64_t k : run->layers())
                    for (auto& [name, q] : run->layer(k))
                        QVERIFY2(i < codes.size() && at::equal(q.codes, codes[i++]),
                                 ("silently changed codes, byte " + std::to_string(pos)).c_str());
                ++harmless;
            } catch (const Error&) {
                ++detected;
            }
        }
        qInfo("single-bit flips over the file: %d detected, %d harmless (unused or padding bytes)", detected,
              harmless);
        QVERIFY(detected > 0);
    }

    void resumeRecomputesADamagedLayer()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        const std::string ref = dir.filePath("ref.h5").toStdString();
        const std::string cut = dir.filePath("cut.h5").toStdString();
        {
            QuantizeParams p = smallJob(model);
            p.session = ref;
            JobContext ctx;
            quantizeModel(p, ctx);
        }
        QuantizeParams p = smallJob(model);
        p.session = cut;
        JobContext ctx;
        ctx.setProgressHandler([&](const Progress& pr) {
            if (pr.unit == "layers" && pr.done >= 3)
                ctx.requestCancel();
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, quantizeModel(p, ctx));
        QCOMPARE(session::Session::open(cut).run("gptq-1").layersDone, (std::vector<int64_t>{0, 1, 2}));
        // Damage layer 1's codes: layers 1 and 2 must be recomputed, layer 0 kept.
        const auto [offset, size] = firstChunk(cut, "/runs/gptq-1/layers/001/q_proj/codes");
        flipBytes(cut, offset, size);

        QuantizeParams resume;
        resume.session = cut;
        resume.resume = true;
        JobContext ctx2;
        const QuantizeReport r = quantizeModel(resume, ctx2);
        QCOMPARE(r.resumedLayers, int64_t(1));
        const auto warnings = ctx2.warnings();
        QVERIFY2(std::any_of(warnings.begin(), warnings.end(),
                             [](const std::string& w) {
                                 return contains(w, "damaged") && contains(w, "decoder layer 1") &&
                                        contains(w, "recomputing");
                             }),
                 "no warning naming the damaged layer");
        // Bit-identical to the uninterrupted run, and readable throughout.
        const auto ra = mpq::detail::openQuantizedRun(ref + "#gptq-1");
        const auto rb = mpq::detail::openQuantizedRun(cut + "#gptq-1");
        QCOMPARE(ra->layers(), rb->layers());
        for (int64_t k : ra->layers()) {
            auto la = ra->layer(k), lb = rb->layer(k);
            QCOMPARE(la.size(), lb.size());
            for (size_t i = 0; i < la.size(); ++i)
                QVERIFY2(at::equal(la[i].second.codes, lb[i].second.codes), la[i].first.c_str());
        }
    }

    void schemaVersionOneStillReads()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        const std::string written = dir.filePath("written.h5").toStdString();
        QuantizeParams p = smallJob(model);
        p.session = written;
        p.method = "rtn";
        JobContext ctx;
        quantizeModel(p, ctx);
        // Edited as a copy that this process never opened (HDF5 refuses to reopen a file
        // read-write while a read-only handle of it is cached).
        const std::string file = dir.filePath("s.h5").toStdString();
        std::filesystem::copy_file(written, file);
        {
            // What a version-1 writer left: version 1, texts without their SHA-256.
            std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
            h5::Id f = h5::openFile(file, true);
            h5::setAttr(h5::openGroup(f, "/"), "version", int64_t(1));
            const h5::Id g = h5::openGroup(f, "/runs/rtn-1");
            const h5::Id ds(H5Dopen2(g.get(), "settings", H5P_DEFAULT), file);
            QVERIFY(ds.valid());
            QVERIFY(H5Adelete(ds.get(), "sha256") >= 0);
            h5::closeAndSync(f, file);
        }
        const session::Session s = session::Session::open(file);
        QCOMPARE(s.info().version, 1);
        QCOMPARE(s.run("rtn-1").layersDone.size(), size_t(5));
        mpq::detail::openQuantizedRun(file + "#rtn-1")->layer(0);
        // A newer version than this build is refused with one line.
        const std::string newer = dir.filePath("newer.h5").toStdString();
        std::filesystem::copy_file(written, newer);
        {
            std::lock_guard<std::recursive_mutex> lock(h5::libraryMutex());
            h5::Id f = h5::openFile(newer, true);
            h5::setAttr(h5::openGroup(f, "/"), "version", int64_t(session::kSchemaVersion + 1));
            h5::closeAndSync(f, newer);
        }
        const std::string e = errorOf([&] { session::Session::open(newer); });
        QVERIFY2(contains(e, "newer than this build"), e.c_str());
    }

    // ---- numerical faults ----

    void gptqRefusesNonFiniteInputs()
    {
        const at::Tensor W = at::randn({4, 16});
        const at::Tensor H = at::eye(16);
        const at::Tensor bits = at::full({16}, 4, at::kInt);
        at::Tensor Wn = W.clone();
        Wn[1][3] = std::numeric_limits<float>::quiet_NaN();
        QVERIFY(contains(errorOf([&] { mpq::detail::gptqQuantize(Wn, H, bits, {}); }), "weights hold NaN or Inf"));
        at::Tensor Hn = H.clone();
        Hn[2][2] = std::numeric_limits<float>::infinity();
        QVERIFY(contains(errorOf([&] { mpq::detail::gptqQuantize(W, Hn, bits, {}); }), "Hessian holds NaN or Inf"));
        for (double damp : {std::nan(""), 0.0, -0.1, 1e308}) {
            mpq::detail::GptqOptions o;
            o.dampPercent = damp;
            const std::string e = errorOf([&] { mpq::detail::gptqQuantize(W, H, bits, o); });
            QVERIFY2(contains(e, "damping setting"), e.c_str());
        }
    }

    void gptqFallbackRaisesDampingThenUsesRtn()
    {
        const at::Tensor W = at::randn({6, 16}, at::TensorOptions().dtype(at::kFloat));
        const at::Tensor bits = at::full({16}, 4, at::kInt);
        // Slightly indefinite: one tenfold raise of the damping makes it positive definite.
        at::Tensor H = at::eye(16);
        H[15][15] = -0.05;
        JobContext ctx;
        const auto q = mpq::detail::gptqQuantize(W, H, bits, {}, &ctx);
        QVERIFY2(contains(q.fallback, "damping raised"), q.fallback.c_str());
        QVERIFY(at::isfinite(q.dequant).all().item<bool>());
        // Negative definite: no damping helps; RTN, recorded and warned.
        JobContext ctx2;
        const auto r = mpq::detail::gptqQuantize(W, -at::eye(16), bits, {}, &ctx2);
        QVERIFY2(r.fallback.rfind("RTN", 0) == 0, r.fallback.c_str());
        const auto rtn = mpq::detail::rtnQuantize(W, bits, {});
        QVERIFY(at::equal(r.codes, rtn.codes));
        const auto w = ctx2.warnings();
        QVERIFY(std::any_of(w.begin(), w.end(), [](const std::string& s) { return contains(s, "quantized by RTN"); }));
        // A healthy H needs no fallback.
        QVERIFY(mpq::detail::gptqQuantize(W, at::eye(16) * 2, bits, {}).fallback.empty());
    }

    void nonFiniteWeightsAndActivationsStopTheJobByName_data() { addModelRows(); }
    void nonFiniteWeightsAndActivationsStopTheJobByName()
    {
        MPQ_ROW_MODEL(model);
        QTemporaryDir dir;
        const std::string copy = copyModel(model.path, dir.path().toStdString());
        poisonTensor(copy, "model.layers.1.mlp.up_proj.weight", true, 3);
        TestModel poisoned = model;
        poisoned.path = copy;
        QuantizeParams p = smallJob(poisoned);
        p.out = dir.filePath("out").toStdString();
        p.tokenizer = model.tokenizer;
        JobContext ctx;
        std::string e = errorOf([&] { quantizeModel(p, ctx); });
        QVERIFY2(contains(e, "model.layers.1.mlp.up_proj.weight") && contains(e, "NaN or Inf"), e.c_str());
        QVERIFY(!files::exists(p.out));

        // Inf in the embeddings: the first Hessian (the activations entering layer 0) names it.
        copyModel(model.path, dir.path().toStdString());
        poisonTensor(copy, "model.embed_tokens.weight", false);
        e = errorOf([&] { quantizeModel(p, ctx); });
        QVERIFY2(contains(e, "decoder layer 0") && contains(e, "Hessian") && contains(e, "not finite"), e.c_str());
    }

    void nanPerplexityIsAnError_data() { addModelRows(); }
    void nanPerplexityIsAnError()
    {
        MPQ_ROW_MODEL(model);
        QTemporaryDir dir;
        const std::string copy = copyModel(model.path, dir.path().toStdString());
        poisonTensor(copy, "model.norm.weight", true, 1);
        EvalParams e;
        e.model = copy;
        e.tokenizer = model.tokenizer;
        e.dataset = model.evalText;
        e.dataDir = dataDir();
        e.seqlen = 64;
        e.maxWindows = 2;
        JobContext ctx;
        const std::string msg = errorOf([&] { evaluatePerplexity(e, ctx); });
        QVERIFY2(contains(msg, "not a finite number"), msg.c_str());
        // Through the CLI: status 1, one line.
        QStringList args{"eval", QString::fromStdString(copy), "--dataset", QString::fromStdString(e.dataset),
                         "--seqlen", "64", "--max-windows", "2"};
        if (!e.tokenizer.empty())
            args << "--tokenizer" << QString::fromStdString(e.tokenizer);
        if (!e.dataDir.empty())
            args << "--data-dir" << QString::fromStdString(e.dataDir);
        const Run r = runMpq(args);
        QVERIFY2(!r.crashed && r.exitCode == 1 && r.err.contains("not a finite number"), qPrintable(r.describe()));
    }

    void nanScalesInAResultFolderAreRefused()
    {
        MPQ_DEMO_MODEL(demo);
        const TestModel model = demoTestModel(demo);
        QTemporaryDir dir;
        QuantizeParams p = smallJob(model);
        p.method = "rtn";
        p.out = dir.filePath("r").toStdString();
        JobContext ctx;
        quantizeModel(p, ctx);
        const std::string layer = files::join(p.out, "layers/" + mpq::detail::layerFileName(0));
        const auto entries = readSafetensorsHeader(layer);
        bool poisoned = false;
        for (const auto& t : entries)
            if (contains(t.name, "k_proj") && contains(t.name, "scales")) {
                std::fstream io(layer, std::ios::in | std::ios::out | std::ios::binary);
                io.seekp(std::streamoff(t.offset));
                const float nan = std::numeric_limits<float>::quiet_NaN();
                io.write(reinterpret_cast<const char*>(&nan), 4);
                poisoned = true;
            }
        QVERIFY(poisoned);
        const Run r = runMpq({"eval", QString::fromStdString(p.out), "--dataset", QString::fromStdString(model.evalText),
                              "--seqlen", "64", "--max-windows", "1"});
        QVERIFY2(!r.crashed && r.exitCode == 1 && r.err.contains("k_proj") && r.err.contains("NaN or Inf") &&
                     r.err.trimmed().count('\n') == 0,
                 qPrintable(r.describe()));
    }

    // ---- validation before work: one line naming the option, quickly ----

    void outOfRangeJsonNumbersAreErrors()
    {
        // nlohmann::json converts a stored float to an integer with a plain cast (undefined
        // behaviour when it does not fit; fuzz_packed found "bytes": 1e126). Every reader of
        // integers from files range-checks them: one mpq::Error naming the file and field.
        const std::string plan =
            errorOf([] { AllocationPlan::fromJson(R"({"matrices":[{"tensor":"t","rows":1e300,"cols":4,"bits":4}]})", "plan.json"); });
        QVERIFY2(contains(plan, "plan.json") && contains(plan, "rows"), plan.c_str());
        const std::string bits =
            errorOf([] { AllocationPlan::fromJson(R"({"matrices":[{"tensor":"t","rows":4,"cols":4,"bits":300}]})", "plan.json"); });
        QVERIFY2(contains(bits, "bits") && contains(bits, "out of range"), bits.c_str());
        const std::string settings = errorOf([] { quantizeParamsFromJson(R"({"bits": 1e300})", "settings"); });
        QVERIFY2(contains(settings, "settings") && contains(settings, "\"bits\" must be an integer"), settings.c_str());
        const std::string seqlen = errorOf([] { quantizeParamsFromJson(R"({"seqlen": 18446744073709551615})", "settings"); });
        QVERIFY2(contains(seqlen, "seqlen") && contains(seqlen, "out of range"), seqlen.c_str());
        const std::string narrow = errorOf([] { quantizeParamsFromJson(R"({"bits": 99999999999})", "settings"); });
        QVERIFY2(contains(narrow, "bits") && contains(narrow, "out of range"), narrow.c_str());
        const std::string table = errorOf([] {
            MxqCostTable::fromJson(R"({"format":"mpq-mxq-costs","version":1e126,"configs":[],"matrices":[]})", "costs.json");
        });
        QVERIFY2(contains(table, "costs.json"), table.c_str());
        QTemporaryDir dir;
        std::ofstream(dir.filePath("result.json").toStdString()) << R"({"format":"mpq-result","version":1e300,"model":"m"})";
        const std::string result = errorOf([&] { resultModelPath(dir.path().toStdString()); });
        QVERIFY2(contains(result, "result.json") && contains(result, "version"), result.c_str());
    }

    void badSettingsAreRefusedBeforeWork_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("names");
        const QString m = QStringLiteral("@MODEL@");
        QTest::newRow("damp nan") << QStringList{"quantize", m, "--out", "@TMP@/o", "--damp", "nan"} << 2 << "--damp";
        QTest::newRow("damp 1e308") << QStringList{"quantize", m, "--out", "@TMP@/o", "--damp", "1e308"} << 2
                                    << "--damp";
        QTest::newRow("bits 9") << QStringList{"quantize", m, "--out", "@TMP@/o", "--bits", "9"} << 2 << "--bits";
        QTest::newRow("group size 0") << QStringList{"quantize", m, "--out", "@TMP@/o", "--group-size", "0"} << 2
                                      << "--group-size";
        QTest::newRow("nsamples x seqlen too big")
            << QStringList{"quantize", m, "--out", "@TMP@/o", "--calib", "@CALIB@", "--nsamples", "1000000",
                           "--seqlen", "1000000"}
            << 2 << "--nsamples";
        QTest::newRow("bench seqlen 0") << QStringList{"bench", m, "--seqlen", "0"} << 2 << "--seqlen";
        QTest::newRow("bench absurd batch") << QStringList{"bench", m, "--forward-batch", "1000000", "--skip-eval"}
                                            << 2 << "--forward-batch";
        QTest::newRow("eval absurd batch")
            << QStringList{"eval", m, "--dataset", "@VALID@", "--batch-size", "1000000"} << 2 << "--batch-size";
        QTest::newRow("eval unknown data set") << QStringList{"eval", m, "--dataset", "foo"} << 1 << "foo";
        QTest::newRow("sweep unknown eval data set")
            << QStringList{"sweep", m, "--method", "gptq", "--bits", "2,3", "--out", "@TMP@/sw", "--calib", "@CALIB@",
                           "--eval-datasets", "@VALID@,foo"}
            << 1 << "--eval-datasets foo";
        QTest::newRow("sweep bad point") << QStringList{"sweep", m, "--method", "gptq", "--bits", "3,x", "--out",
                                                        "@TMP@/sw"}
                                         << 2 << "--bits";
        QTest::newRow("mxq budget nan") << QStringList{"quantize", m, "--method", "mxq", "--budget", "nan", "--out",
                                                       "@TMP@/o"}
                                        << 2 << "--budget";
        QTest::newRow("mgptq epochs 0") << QStringList{"quantize", m, "--method", "mgptq", "--target-bits", "3",
                                                       "--epochs", "0", "--out", "@TMP@/o"}
                                        << 2 << "--epochs";
        QTest::newRow("missing calibration file")
            << QStringList{"quantize", m, "--calib", "@TMP@/none.txt", "--out", "@TMP@/o"} << 1 << "--calib";
        QTest::newRow("missing tokenizer") << QStringList{"eval", m, "--tokenizer", "@TMP@/none.model"} << 1
                                           << "--tokenizer";
        QTest::newRow("missing data directory")
            << QStringList{"eval", m, "--data-dir", "@TMP@/no-data"} << 1 << "or MPQ_DATA_DIR) (--data-dir)";
        QTest::newRow("export shard size") << QStringList{"export", "@TMP@/r", "--out", "@TMP@/x", "--shard-size", "0"}
                                           << 2 << "--shard-size";
    }

    void badSettingsAreRefusedBeforeWork()
    {
        QFETCH(QStringList, args);
        QFETCH(int, status);
        QFETCH(QString, names);
        // The embedded demo model and its texts: what is checked is the command line, not the
        // model; no case needs MPQ_DATA_DIR (the rows that name a text name the demo's).
        MPQ_DEMO_MODEL(demo);
        const QString tmp = m_tmp.path();
        for (QString& a : args)
            a.replace("@MODEL@", QString::fromStdString(demo.dir))
                .replace("@CALIB@", QString::fromStdString(demo.calibText))
                .replace("@VALID@", QString::fromStdString(demo.validText))
                .replace("@TMP@", tmp);
        const Run r = runMpq(args);
        QVERIFY2(!r.crashed && r.exitCode == status, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(names), qPrintable(r.describe()));
        QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable("not one line: " + r.describe()));
        QVERIFY2(!r.err.contains("internal error"), qPrintable(r.describe()));
        QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
        // Before any work: no progress, no model loading (seconds, not the minutes of a job).
        QVERIFY2(!r.err.contains("load weights") && !r.err.contains("layer 1/"), qPrintable(r.describe()));
        // Time: what starting the process costs plus a few seconds for reading headers.
        qInfo("%s: %lld ms (mpq --help: %lld ms)", qPrintable(args.mid(0, 2).join(' ')), r.ms, m_startMs);
        QVERIFY2(r.ms < 3 * m_startMs + 10000, qPrintable(r.describe()));
        QVERIFY(!QFileInfo::exists(tmp + "/o") && !QFileInfo::exists(tmp + "/x"));
    }

    void usageWithoutCommandIsOneLine()
    {
        for (const QStringList& args : {QStringList{}, QStringList{"session"}}) {
            const Run r = runMpq(args);
            QVERIFY2(!r.crashed && r.exitCode == 2, qPrintable(r.describe()));
            QVERIFY2(r.err.startsWith("usage: mpq") && r.err.trimmed().count('\n') == 0, qPrintable(r.describe()));
            QVERIFY(r.out.isEmpty());
        }
    }

    /// files::removeAll (used instead of std::filesystem::remove_all, see core/Files.h): a tree
    /// goes, a symbolic link in it goes without what it points to, a missing path is no error.
    void removeAllRemovesTreesNotLinkTargets()
    {
        QTemporaryDir tmp;
        namespace fs = std::filesystem;
        const fs::path root = tmp.path().toStdString();
        const fs::path outside = root / "outside", tree = root / "tree";
        fs::create_directories(outside);
        fs::create_directories(tree / "a" / "b");
        std::ofstream(outside / "keep.txt") << "kept";
        std::ofstream(tree / "a" / "b" / "x.bin") << "x";
        std::ofstream(tree / "top.txt") << "t";
        fs::create_directory_symlink(outside, tree / "a" / "link");
        std::string why;
        QVERIFY2(files::removeAll(tree.string(), &why), why.c_str());
        QVERIFY(!fs::exists(tree));
        QVERIFY(fs::exists(outside / "keep.txt"));
        QVERIFY(files::removeAll((root / "missing").string(), &why));
        std::ofstream(root / "file.txt") << "f"; // a plain file is removed too
        QVERIFY(files::removeAll((root / "file.txt").string(), &why));
        QVERIFY(!fs::exists(root / "file.txt"));
    }

    /// files::adviseWillNeed is advice: true for a readable range, false for a missing file,
    /// and the file reads the same afterwards.
    void adviseWillNeedIsOnlyAdvice()
    {
        QTemporaryDir tmp;
        const std::string path = (std::filesystem::path(tmp.path().toStdString()) / "data.bin").string();
        std::ofstream(path, std::ios::binary) << std::string(10000, 'z');
        QVERIFY(files::adviseWillNeed(path, 0, 10000));
        QVERIFY(files::adviseWillNeed(path, 4096, 100));
        QVERIFY(!files::adviseWillNeed(path + ".missing", 0, 10));
        QCOMPARE(files::readAll(path), std::string(10000, 'z'));
    }

    // ---- concurrency: two processes writing one session ----

    void twoWritersOfOneSession()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const QString file = dir.filePath("shared.h5");
        auto start = [&](QProcess& p, const QString& run) {
            p.start(QStringLiteral(MPQ_CLI_PATH),
                    {"quantize", QString::fromStdString(demo.dir), "--method", "gptq", "--bits", "3", "--nsamples",
                     "8", "--seqlen", "64", "--calib", QString::fromStdString(demo.calibText), "--session", file,
                     "--run", run});
            return p.waitForStarted(10000);
        };
        // Two runs at once: both finish, both are stored, complete and readable (the writers take
        // turns on the session's lock; neither loses the other's run).
        {
            QProcess a, b;
            QVERIFY(start(a, "a"));
            QVERIFY(start(b, "b"));
            QVERIFY(a.waitForFinished(300000) && b.waitForFinished(300000));
            QVERIFY2(a.exitCode() == 0, a.readAllStandardError().constData());
            QVERIFY2(b.exitCode() == 0, b.readAllStandardError().constData());
            const session::Session s = session::Session::open(file.toStdString());
            QCOMPARE(int(s.runs().size()), 2);
            for (const char* name : {"a", "b"}) {
                QCOMPARE(s.run(name).status, session::RunStatus::Complete);
                QCOMPARE(s.run(name).layersDone.size(), size_t(5));
                mpq::detail::openQuantizedRun(file.toStdString() + "#" + name)->layer(4);
            }
        }
        // The same run name from two processes: exactly one writes it, the other is refused with
        // one line (while the first runs: "being written by another process"; after: "already
        // exists").
        {
            QProcess a, b;
            QVERIFY(start(a, "same"));
            QVERIFY(start(b, "same"));
            QVERIFY(a.waitForFinished(300000) && b.waitForFinished(300000));
            const int ok = (a.exitCode() == 0) + (b.exitCode() == 0);
            QProcess& refused = a.exitCode() == 0 ? b : a;
            const QString err = QString::fromUtf8(refused.readAllStandardError());
            QVERIFY2(ok == 1, qPrintable(err));
            QVERIFY2(refused.exitCode() == 1 && (err.contains("another process") || err.contains("already exists")),
                     qPrintable(err));
            const session::Session s = session::Session::open(file.toStdString());
            QCOMPARE(s.run("same").status, session::RunStatus::Complete);
            QCOMPARE(int(s.runs().size()), 3);
        }
    }
};

QTEST_GUILESS_MAIN(TestHardening)
#include "tst_hardening.moc"
