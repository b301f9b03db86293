// The `mpq` command line, driven with QProcess as a user drives it: help texts, exit statuses
// (0 success, 1 error, 2 bad usage, 130 interrupted), messages on stderr that name the file,
// machine-readable --json output, and Ctrl-C (SIGINT) stopping a long evaluation cleanly.

#include "TestData.h"

#include "session/Session.h"
#include "tokenizer/Tokenizer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <map>
#include <string>
#include <sys/types.h>

#ifndef MPQ_CLI_PATH
#error "MPQ_CLI_PATH must name the mpq executable (tests/cli.cmake)"
#endif

namespace
{

struct Result {
    bool finished = false;
    QProcess::ExitStatus status = QProcess::CrashExit;
    int exitCode = -1;
    QString out;
    QString err;
    qint64 ms = 0;

    QString describe() const
    {
        return QStringLiteral("%1, exit code %2 after %3 ms\nstdout: %4\nstderr: %5")
            .arg(status == QProcess::NormalExit ? "normal exit" : "CRASHED (signal)")
            .arg(exitCode)
            .arg(ms)
            .arg(out.left(2000), err.left(2000));
    }
};

QString mpqPath()
{
    return QStringLiteral(MPQ_CLI_PATH);
}

Result runMpq(const QStringList& args, int timeoutMs = 120000)
{
    QProcess p;
    QElapsedTimer timer;
    timer.start();
    p.start(mpqPath(), args);
    Result r;
    r.finished = p.waitForStarted(10000) && p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.ms = timer.elapsed();
    r.status = p.exitStatus();
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

/// mpq run in `dir` without shared data (MPQ_DATA_DIR names a missing folder) and on one thread: a
/// tiny model's many small kernels gain nothing from two, and OpenMP's spinning threads crawl when
/// the cores are shared (measured: 37 tokens/s vs ~1,400).
Result runMpqWithoutData(const QTemporaryDir& dir, const QStringList& args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MPQ_DATA_DIR", dir.filePath("no-data"));
    env.insert("MPQ_THREADS", "1");
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(dir.path());
    p.start(mpqPath(), args);
    Result r;
    r.finished = p.waitForStarted(10000) && p.waitForFinished(120000);
    r.status = p.exitStatus();
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

/// A llama2.c legacy .bin of zeros with a consistent header (dim 16, hidden 40, 2 layers,
/// 4 heads, 2 kv heads, vocab 32, seq_len 8; shared classifier).
QByteArray tinyLlama2c()
{
    const int32_t h[7] = {16, 40, 2, 4, 2, 32, 8};
    const int64_t dim = 16, hidden = 40, layers = 2, kvDim = 8, vocab = 32, seq = 8, headSize = 4;
    const int64_t floats = vocab * dim +
                           layers * (2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * hidden * dim) + dim +
                           2 * seq * (headSize / 2);
    QByteArray b(reinterpret_cast<const char*>(h), sizeof h);
    b.append(QByteArray(int(floats * 4), '\0'));
    return b;
}

/// Options of `--help`: name → whether it takes a value.
std::map<QString, bool> helpOptions(const QString& help)
{
    std::map<QString, bool> out;
    static const QRegularExpression line(QStringLiteral("^\\s+--([a-z][a-z0-9-]*)( \\S+)?\\s*$"));
    for (const QString& l : help.split(QLatin1Char('\n'))) {
        const auto m = line.match(l);
        if (m.hasMatch())
            out[m.captured(1)] = !m.captured(2).isEmpty();
    }
    return out;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase();
    void topLevelHelp();
    void subcommandHelp_data();
    void subcommandHelp();
    void usageErrors_data();
    void usageErrors();
    void nonexistentModel_data();
    void nonexistentModel();
    void corruptModel();
    void infoJson();
    void infoJsonRealModel();
    void evalJson();
    void version();
    void demoEvalQuantizeInfo();
    void demoNotFound();
    void calibrationSampledFromTheModel();
    void sigintStopsEval_data();
    void sigintStopsEval();
    void tokenize();

  private:
    QTemporaryDir m_tmp;
    QString m_text; ///< a small UTF-8 text file, for --dataset
};

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(mpqPath()).isExecutable(), qPrintable(mpqPath() + " is not an executable"));
    QVERIFY(m_tmp.isValid());
    m_text = m_tmp.filePath("text.txt");
    QVERIFY(writeFile(m_text, "Once upon a time there was a test.\n"));
}

void TestCli::topLevelHelp()
{
    for (const QString& flag : {QStringLiteral("--help"), QStringLiteral("-h"), QStringLiteral("help")}) {
        const Result r = runMpq({flag});
        QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
        for (const char* command : {"info", "eval", "bench"})
            QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("^\\s+%1\\b").arg(command),
                                                       QRegularExpression::MultilineOption)),
                     qPrintable(QStringLiteral("'%1' is not listed:\n%2").arg(command, r.out)));
        QVERIFY(r.out.contains("Exit status"));
    }
    // No command at all: usage on stderr, exit 2.
    const Result r = runMpq({});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 2, qPrintable(r.describe()));
    QVERIFY(r.out.isEmpty());
    QVERIFY(r.err.contains("usage: mpq"));
}

void TestCli::subcommandHelp_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QStringList>("options");
    const QStringList eval = {"dataset",    "protocol",    "seqlen",    "stride",   "device", "dtype",
                              "batch-size", "max-windows", "tokenizer", "data-dir", "json"};
    QTest::newRow("info") << "info" << QStringList{"tokenizer", "json"};
    QTest::newRow("eval") << "eval" << eval;
    QTest::newRow("bench") << "bench" << (eval + QStringList{"forward-batch", "iterations", "skip-eval"});
}

void TestCli::subcommandHelp()
{
    QFETCH(QString, command);
    QFETCH(QStringList, options);
    const Result r = runMpq({command, "--help"});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
    QVERIFY(r.out.startsWith("usage: mpq " + command + " MODEL"));
    QVERIFY(r.err.isEmpty());
    const auto listed = helpOptions(r.out);
    for (const QString& o : options)
        QVERIFY2(listed.count(o),
                 qPrintable(QStringLiteral("--%1 is not in 'mpq %2 --help':\n%3").arg(o, command, r.out)));
    QVERIFY(listed.count("help"));

    // Every option the help lists is one the parser accepts: all of them on one command line
    // with a model that does not exist fail with status 1 (the missing model), not 2 (bad usage).
    const std::map<QString, QString> values = {
        {"dataset", m_text},    {"protocol", "gptq"}, {"seqlen", "16"},
        {"stride", "8"},        {"device", "cpu"},    {"dtype", "fp32"},
        {"batch-size", "1"},    {"max-windows", "1"}, {"data-dir", m_tmp.path()},
        {"forward-batch", "1"}, {"iterations", "1"},  {"tokenizer", m_tmp.filePath("tok.model")}};
    const QString missingModel = m_tmp.filePath("no-model");
    QStringList args = {command, missingModel};
    for (const auto& [name, takesValue] : listed) {
        if (name == "help")
            continue;
        args << "--" + name;
        if (takesValue)
            args << (values.count(name) ? values.at(name) : QStringLiteral("1"));
    }
    const Result u = runMpq(args);
    QVERIFY2(u.status == QProcess::NormalExit && u.exitCode == 1,
             qPrintable(args.join(' ') + "\n" + u.describe()));
    QVERIFY2(u.err.contains(missingModel), qPrintable(u.describe()));
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    const QString m = QStringLiteral("model-dir");
    QTest::newRow("unknown command") << QStringList{"quantise", m} << "unknown command";
    QTest::newRow("unknown option") << QStringList{"info", m, "--bogus"} << "unknown option --bogus";
    QTest::newRow("unknown option with value")
        << QStringList{"eval", m, "--bogus=1"} << "unknown option --bogus";
    QTest::newRow("missing model") << QStringList{"info"} << "missing MODEL";
    QTest::newRow("missing model (eval)") << QStringList{"eval", "--json"} << "missing MODEL";
    QTest::newRow("missing option value") << QStringList{"eval", m, "--seqlen"} << "needs a value";
    QTest::newRow("non-integer value") << QStringList{"eval", m, "--seqlen", "2k"} << "needs an integer";
    QTest::newRow("non-integer iterations")
        << QStringList{"bench", m, "--iterations", "x"} << "needs an integer";
    QTest::newRow("extra argument") << QStringList{"info", m, "other"} << "unexpected argument";
    QTest::newRow("value on a flag") << QStringList{"info", m, "--json=yes"} << "takes no value";
    // The GGUF methods pass the settings check (issue 20; the check's method list had lost them).
    QTest::newRow("gguf-mxq without a budget")
        << QStringList{"quantize", m, "--method", "gguf-mxq", "--out", "o"} << "gguf-mxq needs exactly one of --budget";
    QTest::newRow("mxq with a bad cost") << QStringList{"quantize", m, "--method", "mxq", "--budget", "3.5", "--cost",
                                                        "l1", "--out", "o"}
                                         << "--cost must be auto, fnorm, relative, relative-mse, hessian";
    QTest::newRow("gguf-mxq with a bad cost") << QStringList{"quantize", m, "--method", "gguf-mxq", "--budget", "4.5",
                                                              "--cost", "l1", "--out", "o"}
                                              << "--cost must be auto, fnorm or hessian";
    QTest::newRow("unknown method") << QStringList{"quantize", m, "--method", "gptq2", "--out", "o"}
                                    << "(rtn, gptq, hqq, mgptq, mxq, gguf or gguf-mxq)";
}

void TestCli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = runMpq(args);
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 2, qPrintable(r.describe()));
    QVERIFY2(r.err.contains(message), qPrintable(r.describe()));
    QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
}

void TestCli::nonexistentModel_data()
{
    QTest::addColumn<QString>("command");
    QTest::newRow("info") << "info";
    QTest::newRow("eval") << "eval";
    QTest::newRow("bench") << "bench";
}

void TestCli::nonexistentModel()
{
    QFETCH(QString, command);
    const QString missing = m_tmp.filePath("models/absent-model");
    QStringList args = {command, missing};
    if (command != "info")
        args << "--dataset" << m_text << "--seqlen"
             << "8";
    const Result r = runMpq(args);
    QVERIFY2(r.status == QProcess::NormalExit, qPrintable(r.describe()));
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(missing), qPrintable(r.describe()));
    QVERIFY2(r.err.contains("error"), qPrintable(r.describe()));
    QVERIFY(r.out.isEmpty());
}

void TestCli::corruptModel()
{
    // A Hugging Face folder whose safetensors header claims more bytes than the file has.
    const QString dir = m_tmp.filePath("corrupt");
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeFile(dir + "/config.json",
                      R"({"model_type": "llama", "hidden_size": 16, "intermediate_size": 40,
                          "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 32})"));
    QByteArray st(8, '\0');
    st[0] = char(200); // header length 200, but only 20 bytes follow
    st.append("{\"a\": {\"dtype\": \"F32\"");
    QVERIFY(writeFile(dir + "/model.safetensors", st));
    for (const QString& command : {QStringLiteral("info"), QStringLiteral("eval"), QStringLiteral("bench")}) {
        QStringList args = {command, dir};
        if (command != "info")
            args << "--dataset" << m_text;
        const Result r = runMpq(args);
        QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 1, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(dir + "/model.safetensors"), qPrintable(r.describe()));
    }
}

void TestCli::infoJson()
{
    const QString file = m_tmp.filePath("tiny.bin");
    QVERIFY(writeFile(file, tinyLlama2c()));
    const Result r = runMpq({"info", file, "--json"});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(),
             qPrintable(error.errorString() + "\n" + r.out));
    const QJsonObject j = doc.object();
    QCOMPARE(j["format"].toString(), QStringLiteral("llama2c"));
    QCOMPARE(j["path"].toString(), file);
    const QJsonObject c = j["config"].toObject();
    QCOMPARE(c["hidden_size"].toInteger(), qint64(16));
    QCOMPARE(c["intermediate_size"].toInteger(), qint64(40));
    QCOMPARE(c["num_hidden_layers"].toInteger(), qint64(2));
    QCOMPARE(c["num_attention_heads"].toInteger(), qint64(4));
    QCOMPARE(c["num_key_value_heads"].toInteger(), qint64(2));
    QCOMPARE(c["head_dim"].toInteger(), qint64(4));
    QCOMPARE(c["vocab_size"].toInteger(), qint64(32));
    QCOMPARE(c["max_position_embeddings"].toInteger(), qint64(8));
    QCOMPARE(c["tie_word_embeddings"].toBool(), true);
    QCOMPARE(j["tensors"].toArray().size(), qsizetype(1 + 9 * 2 + 1));
    // embedding 32·16 + 2 layers · (q 256 + k 128 + v 128 + o 256 + 3·640 mlp + 32 norms) + 16
    QCOMPARE(j["parameters"].toObject()["total"].toInteger(),
             qint64(512 + 2 * (256 + 128 + 128 + 256 + 1920 + 32) + 16));
    QVERIFY(r.err.isEmpty());
}

void TestCli::infoJsonRealModel()
{
    MPQ_DATA_PATH(dir, "models/mpq-llama-42m");
    const Result r = runMpq({"info", QString::fromStdString(dir), "--json"});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
    const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j["format"].toString(), QStringLiteral("huggingface"));
    const QJsonObject c = j["config"].toObject();
    QCOMPARE(c["hidden_size"].toInteger(), qint64(512));
    QCOMPARE(c["intermediate_size"].toInteger(), qint64(1408));
    QCOMPARE(c["num_hidden_layers"].toInteger(), qint64(8));
    QCOMPARE(c["vocab_size"].toInteger(), qint64(32000));
    QCOMPARE(c["rope_theta"].toDouble(), 10000.0);
    QCOMPARE(c["torch_dtype"].toString(), QStringLiteral("float16"));
    QCOMPARE(j["parameters"].toObject()["total"].toInteger(), qint64(42082816));
    QSet<QString> files;
    for (const auto& t : j["tensors"].toArray())
        files.insert(t.toObject()["file"].toString());
    QCOMPARE(files.size(), qsizetype(5));
    QVERIFY(j["tokenizer"].toString().endsWith("/tokenizer.model"));
}

void TestCli::evalJson()
{
    MPQ_DATA_PATH(model, "models/stories260K/stories260K.bin");
    MPQ_DATA_PATH(text, "tinystories/tinystories-sample5.txt");
    const Result r = runMpq({"eval", QString::fromStdString(model), "--dataset", QString::fromStdString(text),
                             "--protocol", "documents", "--seqlen", "512", "--json"});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
    // Exactly one JSON object on stdout, on one line; progress went to stderr.
    const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(), qPrintable(r.out));
    const QJsonObject j = doc.object();
    QVERIFY(j.contains("perplexity") && j.contains("mean_nll") && j.contains("tokens"));
    QVERIFY2(std::abs(j["perplexity"].toDouble() - 3.55) <= 0.005, qPrintable(r.out));
    QVERIFY2(std::abs(j["mean_nll"].toDouble() - 1.266) <= 0.0005, qPrintable(r.out));
    QCOMPARE(j["tokens"].toInteger(), qint64(1804));
    QCOMPARE(j["windows"].toInteger(), qint64(5));
    QCOMPARE(j["window_mean_nll"].toArray().size(), 5); // one mean NLL per window (story)
    QCOMPARE(j["protocol"].toString(), QStringLiteral("documents"));
    qDebug("mpq eval stories260K --json: %lld ms", r.ms);
}

// `mpq --version` prints CMake's project() version (compiled in; tests/cli.cmake passes it).
void TestCli::version()
{
    const Result r = runMpq({"--version"});
    QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.out, QStringLiteral("mpq (MPQ Workbench) %1\n").arg(QStringLiteral(MPQ_PROJECT_VERSION)));
    QVERIFY(runMpq({"--help"}).out.contains("mpq eval --demo"));
}

// --demo: the embedded model, its texts and 128-token windows, with no data directory at all
// (MPQ_DATA_DIR pointed at an empty folder).
void TestCli::demoEvalQuantizeInfo()
{
    MPQ_DEMO_MODEL(demo);
    QTemporaryDir dir;
    const auto run = [&](const QStringList& args) { return runMpqWithoutData(dir, args); };
    Result r = run({"eval", "--demo", "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY2(std::abs(j["perplexity"].toDouble() - 1.3727) < 5e-4, qPrintable(r.out));
    QCOMPARE(j["seqlen"].toInteger(), qint64(128));
    QCOMPARE(j["windows"].toInteger(), qint64(163));
    QCOMPARE(QFileInfo(j["dataset_path"].toString()).fileName(), QStringLiteral("demo-valid.txt"));

    r = run({"info", "--demo", "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["config"].toObject()["hidden_size"].toInteger(), qint64(64));

    // quantize --demo, then eval --demo RESULT: the result is evaluated on the demo's text.
    const QString out = dir.filePath("gptq4");
    r = run({"quantize", "--demo", "--method", "gptq", "--bits", "4", "--nsamples", "16", "--out", out, "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    {
        const QJsonObject q = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(q["avg_bits"].toDouble(), 4.0);
        // The time split names every stage, reading and writing the layers included, and the
        // stages add up to no more than the whole.
        const QJsonObject split = q["seconds_split"].toObject();
        double sum = 0;
        for (const char* stage : {"calibration", "load", "hessian", "quantize", "forward", "output"}) {
            QVERIFY2(split.contains(stage) && split[stage].toDouble() >= 0, stage);
            sum += split[stage].toDouble();
        }
        QVERIFY2(split["load"].toDouble() > 0 && split["output"].toDouble() > 0, qPrintable(r.out));
        QVERIFY2(sum <= q["seconds"].toDouble() + 1e-6, qPrintable(r.out));
    }
    // Named relative to the working folder and stored in a session: the session records the
    // folder's absolute path (the workbench shows it as a run from anywhere).
    const QString sessionFile = dir.filePath("evals.h5");
    r = run({"eval", "--demo", "gptq4", "--max-windows", "40", "--json", "--session", sessionFile});
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const double ppl = j["perplexity"].toDouble();
    QVERIFY2(ppl > 1.2 && ppl < 1.6, qPrintable(r.out));
    {
        const auto evals = mpq::session::Session::open(sessionFile.toStdString()).evaluations();
        QCOMPARE(evals.size(), size_t(1));
        QCOMPARE(QString::fromStdString(evals[0].model), QFileInfo(out).absoluteFilePath());
        QVERIFY(evals[0].run.empty());
        QCOMPARE(evals[0].perplexity, ppl);
    }
    QCOMPARE(j["windows"].toInteger(), qint64(40));
    QCOMPARE(j["seqlen"].toInteger(), qint64(128));
    // An explicit option wins over the demo's default.
    r = run({"eval", "--demo", "--seqlen", "64", "--max-windows", "3", "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["seqlen"].toInteger(), qint64(64));
}

// MPQ_DEMO_DIR names where the demo model is; a folder without it is an error naming the place.
namespace
{
/// The windows of a calibration.bin (MPQCAL01, int64 count, int64 length, int32 ids); empty when
/// the file is missing or malformed.
std::vector<std::vector<int32_t>> calibrationWindows(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray b = f.readAll();
    int64_t n = 0, len = 0;
    if (b.size() < 24 || !b.startsWith("MPQCAL01"))
        return {};
    std::memcpy(&n, b.constData() + 8, 8);
    std::memcpy(&len, b.constData() + 16, 8);
    if (n < 1 || len < 1 || b.size() != 24 + n * len * 4)
        return {};
    std::vector<std::vector<int32_t>> w;
    const char* ids = b.constData() + 24;
    for (int64_t i = 0; i < n; ++i) {
        std::vector<int32_t> window;
        for (int64_t t = 0; t < len; ++t) {
            int32_t id = 0;
            std::memcpy(&id, ids + (i * len + t) * 4, 4);
            window.push_back(id);
        }
        w.push_back(std::move(window));
    }
    return w;
}
} // namespace

/// `--calib self` and mixtures such as `c4+self` (docs/data.md): windows sampled from the model,
/// the same for the same seed; a mixture alternates the windows that each part gives alone; a bad
/// part is an error naming it, with a non-zero exit.
void TestCli::calibrationSampledFromTheModel()
{
    MPQ_DEMO_MODEL(demo);
    QTemporaryDir dir;
    const auto quantize = [&](const QString& calib, int windows, const QString& name) {
        return runMpqWithoutData(dir, {"quantize", "--demo", "--method", "gptq", "--bits", "4", "--calib", calib,
                                       "--nsamples", QString::number(windows), "--seqlen", "24", "--out",
                                       dir.filePath(name)});
    };
    Result r = quantize("self", 2, "self");
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    const auto self = calibrationWindows(dir.filePath("self/calibration.bin"));
    QCOMPARE(self.size(), size_t(2));
    QCOMPARE(self[0].size(), size_t(24));
    QCOMPARE(self[0][0], 1); // the demo model's documents start with BOS (1)
    QVERIFY(self[0] != self[1]);
    r = quantize("self", 2, "again");
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    QVERIFY(calibrationWindows(dir.filePath("again/calibration.bin")) == self);

    const QString text = QString::fromStdString(demo.calibText);
    r = quantize(text, 2, "text");
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    const auto fromText = calibrationWindows(dir.filePath("text/calibration.bin"));
    r = quantize(text + "+self", 4, "mixed");
    QVERIFY2(r.finished && r.exitCode == 0, qPrintable(r.describe()));
    const auto mixed = calibrationWindows(dir.filePath("mixed/calibration.bin"));
    QCOMPARE(mixed.size(), size_t(4));
    QVERIFY(mixed[0] == fromText[0] && mixed[1] == self[0] && mixed[2] == fromText[1] && mixed[3] == self[1]);

    for (const QString& bad : {QStringLiteral("c4+self"), QStringLiteral("self+")}) {
        r = quantize(bad, 2, "bad");
        QVERIFY2(r.finished && r.status == QProcess::NormalExit && r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(bad.startsWith("c4") ? "c4" : "empty part"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(dir.filePath("bad")));
    }
}

void TestCli::demoNotFound()
{
    QTemporaryDir dir;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MPQ_DEMO_DIR", dir.path());
    p.setProcessEnvironment(env);
    p.start(mpqPath(), {"eval", "--demo"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 1);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains("demo model was not found") && err.contains(dir.path()) && err.contains("MPQ_DEMO_DIR"),
             qPrintable(err));
}

// Rows: the embedded demo model (every clone, no MPQ_DATA_DIR) and mpq-llama-42m (whose
// 2048-token windows are the longest stretch between cancellation checks; MPQ_DATA_DIR).
void TestCli::sigintStopsEval_data()
{
    QTest::addColumn<QString>("modelName");
    QTest::newRow("demo") << "demo";
    QTest::newRow("mpq-llama-42m") << "mpq-llama-42m";
}

void TestCli::sigintStopsEval()
{
    QFETCH(QString, modelName);
    QStringList args;
    if (modelName == QLatin1String("demo")) {
        MPQ_DEMO_MODEL(demo);
        // Hugging Face's sliding protocol with stride 1, one window per forward pass: ~20,700
        // windows of 128 tokens on demo-valid.txt, about a minute on a quiet 2-core machine.
        args = {"eval", QString::fromStdString(demo.dir), "--dataset", QString::fromStdString(demo.validText),
                "--protocol", "sliding", "--seqlen", "128", "--stride", "1", "--batch-size", "1"};
    } else {
        MPQ_DATA_PATH(model, "models/mpq-llama-42m");
        MPQ_DATA_PATH(joined, "wikitext2/wiki.test.joined.txt");
        const QString dataDir = QFileInfo(QString::fromStdString(joined)).dir().absolutePath() + "/..";
        // The full WikiText-2 run: 166 windows of 2048 tokens, minutes on a CPU.
        args = {"eval", QString::fromStdString(model), "--dataset", "wikitext2", "--data-dir", dataDir};
    }
    QProcess p;
    p.start(mpqPath(), args);
    QVERIFY(p.waitForStarted(10000));
    QElapsedTimer sinceStart;
    sinceStart.start();
    // Interrupt in the first forward pass, the longest stretch between cancellation checks:
    // wait for the weights to start loading (tokenization is over then; loading takes well under
    // a second), then 2 s more, and at least ~3 s in all.
    QByteArray err;
    while (!err.contains("load weights") && sinceStart.elapsed() < 60000 && p.state() == QProcess::Running) {
        p.waitForReadyRead(200);
        err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("load weights"), err.constData());
    QTest::qWait(int(std::max<qint64>(2000, 3000 - sinceStart.elapsed())));
    QVERIFY2(p.state() == QProcess::Running, qPrintable("mpq eval ended before the interrupt: " +
                                                        QString::fromUtf8(p.readAllStandardError())));
    QElapsedTimer sinceSignal;
    sinceSignal.start();
    QCOMPARE(::kill(pid_t(p.processId()), SIGINT), 0);
    const bool finished = p.waitForFinished(60000);
    const qint64 ms = sinceSignal.elapsed();
    if (!finished) {
        p.kill();
        p.waitForFinished(5000);
        QFAIL("mpq eval did not stop within 60 s of SIGINT");
    }
    err += p.readAllStandardError();
    qDebug("%s: mpq eval exited %lld ms after SIGINT (sent %lld ms after start)", qPrintable(modelName), ms,
           sinceStart.elapsed() - ms);
    QVERIFY2(p.exitStatus() == QProcess::NormalExit,
             qPrintable("killed by a signal:\n" + QString::fromUtf8(err)));
    QVERIFY2(p.exitCode() == 130,
             qPrintable(QStringLiteral("exit code %1:\n%2").arg(p.exitCode()).arg(QString::fromUtf8(err))));
    QVERIFY2(err.contains("cancelled"), err.constData());
    QVERIFY(p.readAllStandardOutput().isEmpty()); // no result printed
    // One window (2048 tokens) is the longest stretch between cancellation checks: ~2.5 s alone
    // on two cores (measured 2.5 s), up to ~7 s when other jobs share them.
    QVERIFY2(ms < 20000, qPrintable(QStringLiteral("took %1 ms to stop").arg(ms)));
}

void TestCli::tokenize()
{
    // The fingerprint `mpq tokenize` prints equals the engine's ids, with and without the
    // post-processor's BOS; a bad tokenizer file is one error line with status 1.
    const QString tokenizer = QStringLiteral(MPQ_TOKENIZER_TEST_DATA "/tiny_sp_legacy/tokenizer.json");
    const QString text = m_tmp.filePath("tokenize.txt");
    const std::string content = "The model reads 2024 words <tool> and caf\xC3\xA9 \xF0\x9F\x98\x80\n\nnext line";
    QVERIFY(writeFile(text, QByteArray::fromStdString(content)));
    const auto tok = mpq::openTokenizer(tokenizer.toStdString());
    for (const bool special : {true, false}) {
        QStringList args = {"tokenize", tokenizer, text, "--json"};
        if (!special)
            args << "--no-special";
        const Result r = runMpq(args);
        QVERIFY2(r.status == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        const std::vector<int32_t> ids = special ? tok->encodeForModel(content) : tok->encode(content);
        QCOMPARE(j["count"].toInteger(), qint64(ids.size()));
        QCOMPARE(j["sha256"].toString().toStdString(), mpq::tokenIdsSha256(ids));
        QCOMPARE(j["special"].toBool(), special);
        const QJsonArray first = j["first"].toArray();
        QCOMPARE(first.size(), qsizetype(std::min<size_t>(24, ids.size())));
        for (qsizetype i = 0; i < first.size(); ++i)
            QCOMPARE(first[i].toInt(), ids[size_t(i)]);
        QCOMPARE(first[0].toInt() == 1, special); // BOS from TemplateProcessing
    }
    const Result plain = runMpq({"tokenize", tokenizer, text});
    QVERIFY2(plain.exitCode == 0 && plain.out.contains("sha256") && plain.out.contains("count"),
             qPrintable(plain.describe()));
    const Result bench = runMpq({"bench-tokenize", tokenizer, text, "--repeat", "2"});
    QVERIFY2(bench.exitCode == 0 && bench.out.contains("s CPU"), qPrintable(bench.describe()));

    const QString broken = m_tmp.filePath("broken-tokenizer.json");
    QVERIFY(writeFile(broken, "{\"model\": {\"type\": \"WordPiece\"}}"));
    const Result bad = runMpq({"tokenize", broken, text});
    QVERIFY2(bad.status == QProcess::NormalExit && bad.exitCode == 1, qPrintable(bad.describe()));
    QVERIFY2(bad.err.contains(broken) && bad.err.contains("WordPiece") && bad.err.trimmed().count('\n') == 0,
             qPrintable(bad.describe()));
    const Result usage = runMpq({"tokenize", tokenizer});
    QVERIFY2(usage.exitCode == 2 && usage.err.contains("missing TEXT_FILE"), qPrintable(usage.describe()));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
