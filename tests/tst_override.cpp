// Override runs (issue 19, docs/override.md): the widths set where the file says, the layers
// before the first override identical to the base run's, the same result as quantizing the
// overridden plan from scratch, the record kept, MXQ re-solved with a pin, and bad files refused
// with one line naming the file and the entry (engine and `mpq quantize --override`).
#include "TestData.h"

#include "alloc/mxq/MxqSolver.h"
#include "core/Error.h"
#include "demo/SyntheticModel.h"
#include "pipeline/Override.h"
#include "pipeline/QuantizeJob.h"
#include "runs/detail/QuantizedRun.h"
#include "session/Session.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace mpq;

namespace {

/// Quantized layer `i` of two runs equal bit for bit (codes, scales, zeros, slots).
bool sameLayer(const mpq::detail::QuantizedRun& a, const mpq::detail::QuantizedRun& b, int64_t i, std::string* which = nullptr)
{
    auto la = a.layer(i), lb = b.layer(i);
    const auto byName = [](const auto& x, const auto& y) { return x.first < y.first; };
    std::sort(la.begin(), la.end(), byName);
    std::sort(lb.begin(), lb.end(), byName);
    if (la.size() != lb.size())
        return false;
    for (size_t k = 0; k < la.size(); ++k) {
        const auto& x = la[k].second;
        const auto& y = lb[k].second;
        if (la[k].first != lb[k].first || !at::equal(x.codes, y.codes) || !at::equal(x.scales, y.scales) ||
            !at::equal(x.zeros, y.zeros) || !at::equal(x.slotOfColumn, y.slotOfColumn)) {
            if (which)
                *which = la[k].first;
            return false;
        }
    }
    return true;
}

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

} // namespace

class TestOverride : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_model, m_session;

    std::string writeFile(const char* name, const std::string& text)
    {
        const QString path = m_dir.filePath(QString::fromLatin1(name));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(text.data(), qint64(text.size()));
        return path.toStdString();
    }

    QuantizeReport runOverride(const std::string& file, const std::string& name = {})
    {
        OverrideParams op;
        op.session = m_session;
        op.source = file;
        op.spec = OverrideSpec::load(file);
        op.runName = name;
        JobContext ctx;
        return quantizeOverride(op, ctx);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        SyntheticDemoSpec spec;
        spec.layers = 4;
        spec.hidden = 32;
        spec.intermediate = 64;
        spec.heads = 2;
        spec.vocab = 64;
        spec.calibWindows = 4;
        spec.calibLength = 16;
        m_model = m_dir.filePath(QStringLiteral("model")).toStdString();
        writeSyntheticModel(spec, m_model);
        m_session = m_dir.filePath(QStringLiteral("s.h5")).toStdString();
        QuantizeParams p;
        p.model = m_model;
        p.calibTokens = syntheticCalibrationFile(m_model);
        p.session = m_session;
        p.runName = "mg";
        p.allocator = "mgptq-gcn";
        p.mgptq.targetBits = 3.0;
        p.mgptq.epochs = 10;
        JobContext ctx;
        quantizeModel(p, ctx);
        p.allocator.clear();
        p.runName = "g3";
        p.bits = 3;
        quantizeModel(p, ctx);
    }

    void overrideColumnsAndAMatrix()
    {
        const std::string down = "model.layers.2.mlp.down_proj.weight";
        const std::string q3 = "model.layers.3.self_attn.q_proj.weight";
        const std::string file = writeFile("cols.json", R"({"format": "mpq-override", "version": 1, "base": "mg",
            "overrides": [{"tensor": ")" + down + R"(", "columns": [0, 15], "bits": 4},
                          {"tensor": ")" + q3 + R"(", "bits": 2}]})");
        const QuantizeReport r = runOverride(file);
        QCOMPARE(r.sessionRun, m_session + "#mg-override-1");
        QCOMPARE(r.resumedLayers, int64_t(2)); // layers 0 and 1 copied

        const session::Session s = session::Session::open(m_session);
        const session::RunInfo run = s.run("mg-override-1");
        QCOMPARE(run.status, session::RunStatus::Complete);
        QCOMPARE(run.layersDone, (std::vector<int64_t>{0, 1, 2, 3}));
        // The record.
        const auto settings = nlohmann::json::parse(run.settingsJson);
        QVERIFY(settings.contains("override"));
        QCOMPARE(settings["override"]["base"].get<std::string>(), std::string("mg"));
        QCOMPARE(settings["override"]["from_layer"].get<int64_t>(), int64_t(2));
        QCOMPARE(settings["override"]["entries"].size(), size_t(2));
        QCOMPARE(settings["override"]["file"].get<std::string>(), file);
        QCOMPARE(settings["override"]["matrices_changed"].get<int64_t>(), int64_t(2));

        // The widths: as the file says there, the base's elsewhere.
        const auto base = s.matrix("mg", down).columnBits;
        const auto now = s.matrix("mg-override-1", down).columnBits;
        for (size_t j = 0; j < now.size(); ++j)
            QCOMPARE(int(now[j]), j < 16 ? 4 : int(base[j]));
        for (auto b : s.matrix("mg-override-1", q3).columnBits)
            QCOMPARE(int(b), 2);
        for (const auto& m : s.matrices("mg"))
            if (m.tensor != down && m.tensor != q3)
                QCOMPARE(s.matrix("mg-override-1", m.tensor).columnBits, s.matrix("mg", m.tensor).columnBits);

        // Earlier layers identical to the base's, stored Hessian data too; layer 2 not.
        const auto a = mpq::detail::openQuantizedRun(m_session + "#mg");
        const auto b = mpq::detail::openQuantizedRun(m_session + "#mg-override-1");
        for (int64_t i : {0, 1}) {
            std::string which;
            QVERIFY2(sameLayer(*a, *b, i, &which), which.c_str());
        }
        QVERIFY(!sameLayer(*a, *b, 2));
        const auto da = s.matrix("mg", "model.layers.1.self_attn.k_proj.weight");
        const auto db = s.matrix("mg-override-1", "model.layers.1.self_attn.k_proj.weight");
        QCOMPARE(db.hessianDiagonal, da.hessianDiagonal);
        QCOMPARE(db.hessian, da.hessian);
        QCOMPARE(db.adjacency.value, da.adjacency.value);
        QCOMPARE(db.summary.outputError, da.summary.outputError);

        // Copy-and-continue equals quantizing the overridden plan from scratch.
        QuantizeParams p;
        p.model = m_model;
        p.calibTokens = syntheticCalibrationFile(m_model);
        p.session = m_session;
        p.runName = "scratch";
        p.plan = b->plan();
        JobContext ctx;
        quantizeModel(p, ctx);
        const auto c = mpq::detail::openQuantizedRun(m_session + "#scratch");
        for (int64_t i = 0; i < 4; ++i) {
            std::string which;
            QVERIFY2(sameLayer(*b, *c, i, &which), (std::to_string(i) + " " + which).c_str());
        }
        // The base run is untouched.
        QCOMPARE(s.run("mg").status, session::RunStatus::Complete);
    }

    void overrideALayerOfAGptqRun()
    {
        const std::string file = writeFile("layer.json", R"({"format": "mpq-override", "version": 1, "base": "g3",
            "overrides": [{"layer": 1, "bits": 4}]})");
        runOverride(file, "g3-layer1");
        const session::Session s = session::Session::open(m_session);
        for (const auto& m : s.matrices("g3-layer1"))
            for (auto bits : s.matrix("g3-layer1", m.tensor).columnBits)
                QCOMPARE(int(bits), m.layer == 1 ? 4 : 3);
        const auto a = mpq::detail::openQuantizedRun(m_session + "#g3");
        const auto b = mpq::detail::openQuantizedRun(m_session + "#g3-layer1");
        QVERIFY(sameLayer(*a, *b, 0));
        QVERIFY(!sameLayer(*a, *b, 1));
        QVERIFY(!sameLayer(*a, *b, 2)); // its inputs changed
    }

    void pinAnMxqConfigurationReSolves()
    {
        MxqCostParams cp;
        cp.model = m_model;
        cp.configs = parseMxqConfigs("2,3,4,8x16,32");
        JobContext ctx;
        const MxqCostTable table = computeMxqCosts(cp, ctx);
        const MxqBudget budget = MxqBudget::bitsPerParameter(3.5);
        const MxqSolution sol = solveMxq(table, budget);
        QVERIFY(sol.hasSolution());
        QuantizeParams p;
        p.model = m_model;
        p.session = m_session;
        p.runName = "mx";
        p.plan = toPlan(table, sol);
        p.method = "hqq";
        p.solver.budget = budget;
        quantizeModel(p, ctx);
        session::saveMxqCostTable(m_session, "mx", table);

        const std::string pinned = "model.layers.2.mlp.up_proj.weight";
        const std::string file = writeFile("mxq.json", R"({"format": "mpq-override", "version": 1, "base": "mx",
            "overrides": [{"tensor": ")" + pinned + R"(", "mxq": "b8g16"}]})");
        runOverride(file, "mx-pin");
        const session::Session s = session::Session::open(m_session);
        const auto m = s.matrix("mx-pin", pinned);
        QCOMPARE(m.summary.groupSize, int64_t(16));
        for (auto bits : m.columnBits)
            QCOMPARE(int(bits), 8);
        // Re-solved: the budget still holds with the expensive pin (others gave way).
        double storage = 0;
        for (const auto& sm : s.matrices("mx-pin"))
            for (size_t k = 0; k < table.configs.size(); ++k)
                if (table.configs[k].groupSize == sm.groupSize && table.configs[k].bits == int(sm.codeBits))
                    for (const auto& t : table.matrices)
                        if (t.tensor == sm.tensor)
                            storage += t.storageBits[k];
        QVERIFY(storage <= budget.toBits(table.totalParameters()) * (1 + 1e-9));
        const auto record = nlohmann::json::parse(s.run("mx-pin").settingsJson)["override"];
        QVERIFY(record["mxq"].get<std::string>().rfind("re-solved", 0) == 0);
        QVERIFY(record["matrices_changed"].get<int64_t>() >= 2); // the pin and at least one that gave way
    }

    void badFilesAreRefused_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        const QString t = QStringLiteral("model.layers.0.mlp.up_proj.weight");
        auto file = [](const QString& overrides, const QString& base = QStringLiteral("mg")) {
            return QStringLiteral(R"({"format": "mpq-override", "version": 1, "base": "%1", "overrides": [%2]})")
                .arg(base, overrides);
        };
        QTest::newRow("not json") << QStringLiteral("{nope") << QStringLiteral(": not valid JSON");
        QTest::newRow("format") << QStringLiteral(R"({"format": "x", "version": 1})") << QStringLiteral("\"format\" must be");
        QTest::newRow("no base") << QStringLiteral(R"({"format": "mpq-override", "version": 1, "overrides": [{"layer": 0, "bits": 4}]})")
                                 << QStringLiteral("\"base\" must name");
        QTest::newRow("empty") << file(QString()) << QStringLiteral("non-empty list");
        QTest::newRow("bits 9") << file(QStringLiteral(R"({"tensor": "%1", "bits": 9})").arg(t))
                                << QStringLiteral("override 1 (tensor %1): \"bits\" 9 is outside 1..8").arg(t);
        QTest::newRow("unknown key") << file(QStringLiteral(R"({"layer": 0, "bits": 4}, {"layer": 1, "bitz": 4})"))
                                     << QStringLiteral("override 2 (layer 1): unknown key \"bitz\"");
        QTest::newRow("tensor and layer") << file(QStringLiteral(R"({"tensor": "%1", "layer": 0, "bits": 4})").arg(t))
                                          << QStringLiteral("override 1 (tensor %1): give exactly one of \"tensor\" and \"layer\"").arg(t);
        QTest::newRow("bits and mxq") << file(QStringLiteral(R"({"layer": 0, "bits": 4, "mxq": "b4g32"})"))
                                      << QStringLiteral("override 1 (layer 0): give exactly one of \"bits\" and \"mxq\"");
        QTest::newRow("bad range") << file(QStringLiteral(R"({"tensor": "%1", "columns": [5, 2], "bits": 4})").arg(t))
                                   << QStringLiteral("override 1 (tensor %1): \"columns\" [5, 2] is not a range").arg(t);
        QTest::newRow("no such tensor") << file(QStringLiteral(R"({"layer": 0, "bits": 4}, {"tensor": "model.layers.9.mlp.up_proj.weight", "bits": 4})"))
                                        << QStringLiteral("override 2 (tensor model.layers.9.mlp.up_proj.weight): the run has no matrix named");
        QTest::newRow("no such layer") << file(QStringLiteral(R"({"layer": 7, "bits": 4})"))
                                       << QStringLiteral("override 1 (layer 7): the run has no decoder layer 7");
        QTest::newRow("column out of range") << file(QStringLiteral(R"({"tensor": "%1", "columns": [30, 32], "bits": 4})").arg(t))
                                             << QStringLiteral("override 1 (tensor %1 columns 30-32): %1 has 32 columns; column 32 is not one of them").arg(t);
        QTest::newRow("mxq on gptq") << file(QStringLiteral(R"({"tensor": "%1", "mxq": "b4g32"})").arg(t))
                                     << QStringLiteral("override 1 (tensor %1): pins an MXQ configuration, but").arg(t);
        QTest::newRow("columns on mxq") << file(QStringLiteral(R"({"tensor": "%1", "columns": [0, 3], "bits": 4})").arg(t), QStringLiteral("mx"))
                                        << QStringLiteral("is quantized whole (hqq): no column ranges");
        QTest::newRow("no base run") << file(QStringLiteral(R"({"layer": 0, "bits": 4})"), QStringLiteral("nope"))
                                     << QStringLiteral(": \"base\": ");
        QTest::newRow("nothing changes") << file(QStringLiteral(R"({"layer": 0, "bits": 3})"), QStringLiteral("g3"))
                                         << QStringLiteral("the overrides change nothing in run g3");
    }

    void badFilesAreRefused()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        const std::string file = writeFile("bad.json", text.toStdString());
        const size_t runsBefore = session::Session::open(m_session).runs().size();
        const std::string message = errorOf([&] { runOverride(file); });
        QVERIFY2(message.rfind(file + ":", 0) == 0, message.c_str());            // names the file first
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
        QVERIFY2(message.find('\n') == std::string::npos, message.c_str());      // one line
        QCOMPARE(session::Session::open(m_session).runs().size(), runsBefore);  // nothing written

        // The CLI: non-zero exit, the same line on stderr.
        QProcess mpq;
        mpq.start(QStringLiteral(MPQ_CLI_PATH), {QStringLiteral("quantize"), QStringLiteral("--override"),
                                                 QString::fromStdString(file), QStringLiteral("--session"),
                                                 QString::fromStdString(m_session)});
        QVERIFY(mpq.waitForFinished(120000));
        QVERIFY(mpq.exitCode() != 0);
        const QString err = QString::fromUtf8(mpq.readAllStandardError()).trimmed();
        QVERIFY2(err.contains(expected), qPrintable(err));
        QCOMPARE(err.count(QLatin1Char('\n')), 0);
    }

    void cliRunsAnOverride()
    {
        const std::string file = writeFile("cli.json", R"({"format": "mpq-override", "version": 1, "base": "g3",
            "overrides": [{"tensor": "model.layers.3.mlp.down_proj.weight", "columns": [0, 7], "bits": 8}]})");
        QProcess mpq;
        mpq.start(QStringLiteral(MPQ_CLI_PATH), {QStringLiteral("quantize"), QStringLiteral("--override"),
                                                 QString::fromStdString(file), QStringLiteral("--session"),
                                                 QString::fromStdString(m_session), QStringLiteral("--run"),
                                                 QStringLiteral("cli-run"), QStringLiteral("--json")});
        QVERIFY(mpq.waitForFinished(120000));
        QVERIFY2(mpq.exitCode() == 0, mpq.readAllStandardError().constData());
        const auto out = nlohmann::json::parse(mpq.readAllStandardOutput().toStdString());
        QCOMPARE(out["session_run"].get<std::string>(), m_session + "#cli-run");
        QCOMPARE(out["resumed_layers"].get<int64_t>(), int64_t(3));
        const auto bits = session::Session::open(m_session).matrix("cli-run", "model.layers.3.mlp.down_proj.weight").columnBits;
        QCOMPARE(int(bits[7]), 8);
        QCOMPARE(int(bits[8]), 3);
    }
};

QTEST_GUILESS_MAIN(TestOverride)
#include "tst_override.moc"
