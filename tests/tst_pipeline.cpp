// End-to-end quantization: the sequential pipeline on real models, result folders, cancellation.
#include "TestData.h"

#include "core/Error.h"
#include "core/Files.h"
#include "eval/Perplexity.h"
#include "pipeline/QuantizeJob.h"
#include "runs/ResultFolder.h"

#include <QTemporaryDir>
#include <cmath>
#include <QtTest>

using namespace mpq;

class TestPipeline : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cancellingLeavesNoOutput()
    {
        MPQ_DATA_PATH(model, "models/stories260K/stories260K.bin");
        QTemporaryDir dir;
        QuantizeParams p;
        p.model = model;
        p.method = "gptq";
        p.bits = 3;
        p.nsamples = 8;
        p.seqlen = 256;
        p.dataDir = std::getenv("MPQ_DATA_DIR");
        p.out = dir.filePath("result").toStdString();
        JobContext ctx;
        int layersDone = 0;
        ctx.setProgressHandler([&](const Progress& pr) {
            if (pr.unit == "layers" && pr.done >= 2) {
                ++layersDone;
                ctx.requestCancel();
            }
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, quantizeModel(p, ctx));
        QVERIFY(layersDone > 0);
        QVERIFY(!files::exists(p.out));
        QVERIFY(!files::exists(p.out + ".partial"));
    }

    void resultFolderRoundTrip()
    {
        MPQ_DATA_PATH(model, "models/stories260K/stories260K.bin");
        QTemporaryDir dir;
        QuantizeParams p;
        p.model = model;
        p.method = "rtn";
        p.bits = 4;
        p.nsamples = 4;
        p.seqlen = 128;
        p.dataDir = std::getenv("MPQ_DATA_DIR");
        p.out = dir.filePath("r").toStdString();
        JobContext ctx;
        const QuantizeReport r = quantizeModel(p, ctx);
        QVERIFY(isResultFolder(r.outDir));
        QCOMPARE(resultModelPath(r.outDir), files::absolute(model));
        QCOMPARE(int(r.matrices.size()), 5 * 7);
        QCOMPARE(r.avgBits, 4.0);
        QVERIFY(r.avgBitsWithOverhead > 4.0);
        QVERIFY(files::exists(files::join(r.outDir, "calibration.bin")));
    }

    // GPTQ at 3 bits beats RTN at 3 bits on a slice of the C4 validation text (mpq-llama-42m,
    // 16 × 512 C4-train calibration windows).
    void gptqBeatsRtnOnMpqLlama42m()
    {
        MPQ_DATA_PATH(model, "models/mpq-llama-42m/config.json");
        const std::string folder = files::parent(model);
        QTemporaryDir dir;
        double ppl[2] = {0, 0};
        const char* methods[2] = {"rtn", "gptq"};
        for (int i = 0; i < 2; ++i) {
            QuantizeParams p;
            p.model = folder;
            p.method = methods[i];
            p.bits = 3;
            p.nsamples = 16;
            p.seqlen = 512;
            p.dataDir = std::getenv("MPQ_DATA_DIR");
            p.out = dir.filePath(methods[i]).toStdString();
            JobContext ctx;
            const QuantizeReport r = quantizeModel(p, ctx);
            EvalParams e;
            e.model = r.outDir;
            e.dataset = "c4";
            e.seqlen = 512;
            e.maxWindows = 8;
            e.dataDir = p.dataDir;
            ppl[i] = evaluatePerplexity(e, ctx).perplexity;
            qInfo("%s 3-bit: C4 perplexity %.3f on 8 windows of 512", methods[i], ppl[i]);
        }
        QVERIFY2(ppl[1] < ppl[0], qPrintable(QString("GPTQ %1 >= RTN %2").arg(ppl[1]).arg(ppl[0])));
    }

    // ---- The embedded demo model: these run on every clone, without MPQ_DATA_DIR -------------

    static QuantizeParams demoParams(const DemoModel& demo, const char* method, int bits, const QString& out)
    {
        QuantizeParams p;
        p.model = demo.dir;
        p.method = method;
        p.bits = bits;
        p.calib = demo.calibText;
        p.nsamples = 32;
        p.seqlen = DemoModel::kSeqlen;
        p.out = out.toStdString();
        return p;
    }
    static EvalResult demoEval(const DemoModel& demo, const std::string& model)
    {
        EvalParams e;
        e.model = model;
        e.dataset = demo.validText;
        e.seqlen = DemoModel::kSeqlen;
        JobContext ctx;
        return evaluatePerplexity(e, ctx);
    }

    // The unquantized demo model on its validation text, 128-token windows: the figure of
    // docs/packaging.md (a broken forward pass, loader or tokenizer moves it).
    void demoReferencePerplexity()
    {
        MPQ_DEMO_MODEL(demo);
        const EvalResult r = demoEval(demo, demo.dir);
        QCOMPARE(r.windows, int64_t(163));
        QCOMPARE(r.tokens, int64_t(20701));
        QVERIFY2(std::abs(r.perplexity - 1.3727) < 5e-4, qPrintable(QString::number(r.perplexity, 'f', 6)));
    }

    void demoResultFolderRoundTrip()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        JobContext ctx;
        const QuantizeReport r = quantizeModel(demoParams(demo, "rtn", 4, dir.filePath("r")), ctx);
        QVERIFY(isResultFolder(r.outDir));
        QCOMPARE(resultModelPath(r.outDir), files::absolute(demo.dir));
        QCOMPARE(int(r.matrices.size()), 5 * 7);
        QCOMPARE(r.avgBits, 4.0);
        QVERIFY(r.avgBitsWithOverhead > 4.0);
        QVERIFY(files::exists(files::join(r.outDir, "calibration.bin")));
    }

    void demoCancellingLeavesNoOutput()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const QuantizeParams p = demoParams(demo, "gptq", 3, dir.filePath("result"));
        JobContext ctx;
        int layersDone = 0;
        ctx.setProgressHandler([&](const Progress& pr) {
            if (pr.unit == "layers" && pr.done >= 2) {
                ++layersDone;
                ctx.requestCancel();
            }
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, quantizeModel(p, ctx));
        QVERIFY(layersDone > 0);
        QVERIFY(!files::exists(p.out));
        QVERIFY(!files::exists(p.out + ".partial"));
    }

    // GPTQ beats RTN at 2 bits on the demo model, and quantization costs perplexity:
    // reference < GPTQ < RTN (32 calibration windows of 128 tokens). Measured: reference 1.3727,
    // GPTQ 1.4378, RTN 1.5140 (at 3 bits 1.3788 against 1.3815: too close to test).
    void demoGptqBeatsRtn()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        const double reference = demoEval(demo, demo.dir).perplexity;
        for (int bits : {2}) {
            double ppl[2] = {0, 0};
            const char* methods[2] = {"rtn", "gptq"};
            for (int i = 0; i < 2; ++i) {
                JobContext ctx;
                const QuantizeReport r = quantizeModel(
                    demoParams(demo, methods[i], bits, dir.filePath(QStringLiteral("%1-%2").arg(methods[i]).arg(bits))), ctx);
                ppl[i] = demoEval(demo, r.outDir).perplexity;
                qInfo("demo %s %d-bit: perplexity %.4f (reference %.4f)", methods[i], bits, ppl[i], reference);
            }
            QVERIFY2(reference < ppl[1] && ppl[1] < ppl[0],
                     qPrintable(QString("%1 bits: reference %2, GPTQ %3, RTN %4").arg(bits).arg(reference).arg(ppl[1]).arg(ppl[0])));
        }
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
