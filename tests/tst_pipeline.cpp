// End-to-end quantization: the sequential pipeline on real models, result folders, cancellation.
#include "TestData.h"

#include "core/Error.h"
#include "core/Files.h"
#include "eval/Perplexity.h"
#include "pipeline/QuantizeJob.h"
#include "pipeline/ResultFolder.h"

#include <QTemporaryDir>
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
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
