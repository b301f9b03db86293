// Widgets library: readers, session file, item model, adapters (QSignalSpy) and every view fed with
// synthetic structs on the offscreen platform.
#include "BitMapView.h"
#include "HessianGraphView.h"
#include "JobRunner.h"
#include "LayerTreeModel.h"
#include "MxqResolver.h"
#include "MxqFixtures.h"
#include "PerplexityView.h"
#include "ResultReader.h"
#include "SessionReader.h"
#include "SyntheticRuns.h"
#include "TradeoffView.h"
#include "TrainingCurvesView.h"
#include "WorkbenchFile.h"

#include "core/Error.h"
#include "runs/ResultFolder.h"
#include "TestData.h"
#include "demo/SyntheticModel.h"

#include <hdf5.h>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

using namespace mpq::gui;

namespace {

/// A worker object on its own thread for a test's scope. The thread is quit and joined by stop()
/// or, at the latest, on scope exit — also when a failed QVERIFY returns early, where a running
/// QThread would otherwise be destroyed and abort the test binary.
template <typename Worker>
struct WorkerThread {
    QThread thread;
    Worker* worker = new Worker;
    WorkerThread()
    {
        worker->moveToThread(&thread);
        QObject::connect(&thread, &QThread::finished, worker, &QObject::deleteLater);
        thread.start();
    }
    ~WorkerThread() { stop(); }
    void stop()
    {
        thread.quit();
        thread.wait();
    }
};

/// A job request on a tiny synthetic model written into `dir` ("model"), with its calibration tokens.
JobRequest tinyModelRequest(const QTemporaryDir& dir, const QString& method)
{
    const QString model = mpq::test::writeTinySyntheticModel(dir.filePath(QStringLiteral("model")));
    JobRequest r;
    r.method = method;
    r.params.model = model.toStdString();
    r.params.calibTokens = mpq::syntheticCalibrationFile(model.toStdString());
    return r;
}

MatrixResult matrix(int layer, const char* linear, int cols, uint8_t lo, uint8_t hi)
{
    MatrixResult m;
    m.layer = layer;
    m.linear = QString::fromLatin1(linear);
    m.tensor = QStringLiteral("model.layers.%1.%2.%3.weight")
                   .arg(layer)
                   .arg(m.linear.endsWith(QLatin1String("proj")) && m.linear.startsWith(QLatin1Char('q')) ? "self_attn" : "mlp")
                   .arg(m.linear);
    m.rows = 16;
    m.cols = cols;
    for (int c = 0; c < cols; ++c)
        m.columnBits.push_back(c % 3 == 0 ? hi : lo);
    m.bitsWithOverhead = m.averageBits() + 0.25;
    m.outputError = 0.5 * layer + 1;
    return m;
}

RunData syntheticRun()
{
    RunData r;
    r.name = QStringLiteral("mgptq target 3");
    r.method = QStringLiteral("mgptq-gcn");
    r.complete = true;
    r.avgBitsWithOverhead = 3.1;
    for (int l = 0; l < 2; ++l) {
        r.matrices.push_back(matrix(l, "q_proj", 32, 2, 4));
        r.matrices.push_back(matrix(l, "down_proj", 64, 3, 4));
    }
    r.matrices[0].curves.loss = {1.0, 0.6, 0.4};
    r.matrices[0].curves.lBit = {3.0, 2.9, 2.8};
    r.matrices[0].curves.avgBits = {3.1, 3.0, 3.0};
    r.perplexity[QStringLiteral("wikitext2")] = 20.5;
    r.perplexity[QStringLiteral("c4")] = 25.0;
    return r;
}

const char* kResultJson =
    "{\"format\":\"mpq-result\",\"version\":1,\"model\":\"/m\",\"method\":\"mgptq-gcn\","
    " \"avg_bits\":2.5,\"avg_bits_with_overhead\":2.75,\"seconds\":3,"
    " \"plan\":{\"method\":\"mgptq\",\"matrices\":[{\"tensor\":\"model.layers.0.self_attn.q_proj.weight\",\"layer\":0,"
    "   \"linear\":\"q_proj\",\"rows\":2,\"cols\":4,\"column_bits\":[2,3,2,3],\"group_size\":-1,\"quantizer\":\"gptq\","
    "   \"diagnostics\":{\"alpha\":0.5,\"curves\":{\"loss\":[1,0.5],\"l_bit\":[3,2.5],\"avg_bits\":[3,2.5]}}}]},"
    " \"matrices\":[{\"tensor\":\"model.layers.0.self_attn.q_proj.weight\",\"bits_with_overhead\":2.9,\"output_error\":0.125,"
    "   \"frobenius_error\":-1,\"fallback\":\"RTN: H stayed indefinite after damping 0.1\"}],"
    " \"warnings\":[\"w1\"]}";

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

} // namespace

class TestWidgets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void resultFolderIsRead()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath(QStringLiteral("layers")));
        writeFile(dir.filePath(QStringLiteral("result.json")), kResultJson);
        const RunData r = ResultReader::readResultFolder(dir.path());
        QCOMPARE(r.method, QStringLiteral("mgptq-gcn"));
        QCOMPARE(r.matrices.size(), size_t(1));
        const MatrixResult& m = r.matrices[0];
        QCOMPARE(m.columnBits, (std::vector<uint8_t>{2, 3, 2, 3}));
        QCOMPARE(m.averageBits(), 2.5);
        QCOMPARE(m.outputError, 0.125);
        QCOMPARE(m.fallback, QStringLiteral("RTN: H stayed indefinite after damping 0.1"));
        QCOMPARE(m.notes().size(), 1);
        QCOMPARE(m.curves.loss, (std::vector<double>{1, 0.5}));
        QCOMPARE(m.curves.alpha, 0.5);
        QCOMPARE(r.warnings, QStringList{QStringLiteral("w1")});
    }
    void corruptResultThrows()
    {
        QTemporaryDir dir;
        writeFile(dir.filePath(QStringLiteral("result.json")), "{\"format\":\"mpq-result\",\"version\":1,\"plan\":");
        QVERIFY_THROWS_EXCEPTION(mpq::Error, ResultReader::readResultFolder(dir.path()));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, ResultReader::readResultFolder(dir.filePath(QStringLiteral("none"))));
    }
    void oldIndexStillOpensAndCorruptionIsNamed()
    {
        QTemporaryDir dir;
        const QString result = dir.filePath(QStringLiteral("run1"));
        QDir().mkpath(result);
        writeFile(QDir(result).filePath(QStringLiteral("result.json")), kResultJson);
        // An index as the workbench wrote them before the HDF5 session (nothing writes one now).
        const QString file = dir.filePath(QStringLiteral("s.mpqwb"));
        writeFile(file, QStringLiteral(R"({"format": "mpq-workbench", "version": 1, "model": "/m", "synthetic": false,
  "folder": "%1", "mxq_costs": "", "reference": {"wikitext2": 10},
  "runs": [{"name": "mg α=0.5", "method": "mgptq-gcn", "result_dir": "%2", "sweep_axis": "alpha",
            "sweep_value": 0.5, "perplexity": {"c4": 12}},
           {"name": "gone", "method": "mgptq-gcn", "result_dir": "%3", "sweep_axis": "alpha",
            "sweep_value": 0.5, "perplexity": {"c4": 12}}]})")
                            .arg(dir.path(), result, dir.filePath(QStringLiteral("deleted")))
                            .toUtf8());
        QStringList problems;
        const Workbench back = WorkbenchFile::load(file, &problems);
        QCOMPARE(back.runs.size(), size_t(1));
        QCOMPARE(problems.size(), 1);
        QCOMPARE(back.runs[0].name, QStringLiteral("mg α=0.5"));
        QCOMPARE(back.runs[0].perplexity.value(QStringLiteral("c4")), 12.0);
        QCOMPARE(back.reference.value(QStringLiteral("wikitext2")), 10.0);
        const auto series = back.tradeoff(QStringLiteral("c4"));
        QCOMPARE(series.size(), size_t(1));
        QCOMPARE(series[0].points[0].knob, 0.5);
        QCOMPARE(series[0].points[0].perplexity, 12.0);

        writeFile(file, "not json at all");
        QVERIFY_THROWS_EXCEPTION(mpq::Error, WorkbenchFile::load(file, nullptr));
        writeFile(file, "{\"format\":\"mpq-workbench\",\"version\":99}");
        QVERIFY_THROWS_EXCEPTION(mpq::Error, WorkbenchFile::load(file, nullptr));
    }
    // Result folders evaluated into a session (`mpq eval DIR --session FILE`; the synthetic 7B
    // workspace is written so) are shown as runs with their perplexities and knobs; a folder that
    // no longer reads is named, not fatal.
    void sessionShowsEvaluatedResultFolders()
    {
        QTemporaryDir dir;
        const Workbench made = SyntheticRuns::llama7b();
        const QString file = SyntheticRuns::writeWorkspace(made, dir.filePath(QStringLiteral("7b")));
        QVERIFY(file.endsWith(QLatin1String("synthetic-7b.h5")));
        Workbench wb = SessionReader::load(file);
        QCOMPARE(wb.runs.size(), made.runs.size());
        QVERIFY(wb.problems.isEmpty());
        QCOMPARE(wb.reference.value(QStringLiteral("wikitext2")), 5.68);
        for (const RunData& m : made.runs) {
            const RunData* r = wb.run(m.name);
            QVERIFY2(r, qPrintable(m.name));
            QCOMPARE(r->perplexity, m.perplexity);
            QCOMPARE(r->sweepAxis, m.sweepAxis);
            QCOMPARE(r->sweepValue, m.sweepValue);
            QCOMPARE(r->matrices.size(), m.matrices.size());
            QVERIFY(!r->resultDir.isEmpty());
        }
        QCOMPARE(wb.tradeoff(QStringLiteral("c4")).size(), made.tradeoff(QStringLiteral("c4")).size());
        // Written again into the same folder: the session is replaced, not appended to.
        QCOMPARE(SyntheticRuns::writeWorkspace(made, dir.filePath(QStringLiteral("7b"))), file);
        QCOMPARE(int(mpq::session::Session::open(file.toStdString()).evaluations().size()), 2 + 2 * int(made.runs.size()));
        // A damaged folder: the others still show, the damaged one is named.
        writeFile(QDir(wb.runs[0].resultDir).filePath(QStringLiteral("result.json")), "{\"format\":");
        wb = SessionReader::load(file);
        QCOMPARE(wb.runs.size(), made.runs.size() - 1);
        QCOMPARE(wb.problems.size(), 1);
        QVERIFY2(wb.problems[0].contains(QLatin1String("result.json")), qPrintable(wb.problems[0]));
        // A run without a perplexity cannot be carried.
        Workbench bare = made;
        bare.runs[1].perplexity.clear();
        QVERIFY_THROWS_EXCEPTION(mpq::Error, SyntheticRuns::writeWorkspace(bare, dir.filePath(QStringLiteral("bare"))));
    }
    void layerTreeModel()
    {
        LayerTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRun(syntheticRun());
        QCOMPARE(model.rowCount(), 2);
        const QModelIndex layer1 = model.index(1, 0);
        QCOMPARE(model.rowCount(layer1), 2);
        const QModelIndex down = model.index(1, LayerTreeModel::Shape, layer1);
        QCOMPARE(down.data().toString(), QStringLiteral("16 × 64"));
        QCOMPARE(model.indexOfTensor(syntheticRun().matrices[3].tensor).row(), 1);
        // Nothing unusual: no marks.
        QVERIFY(!model.index(0, LayerTreeModel::Name).data().toString().contains(QChar(0x26a0)));
        QVERIFY(!model.index(1, LayerTreeModel::Name, layer1).data(Qt::ForegroundRole).isValid());

        // GPTQ's fallback and an expert's all-token Hessian are marked on the matrix and its layer.
        RunData noted = syntheticRun();
        noted.matrices[3].fallback = QStringLiteral("RTN: H stayed indefinite after damping 0.1");
        noted.matrices[2].hessianSource = QStringLiteral("all-tokens");
        noted.matrices[2].calibrationTokens = 4096;
        noted.matrices[0].hessianSource = QStringLiteral("routed");
        noted.matrices[0].calibrationTokens = 12;
        model.setRun(noted);
        const QModelIndex l1 = model.index(1, LayerTreeModel::Name);
        QVERIFY(l1.data().toString().contains(QChar(0x26a0)));
        QVERIFY(l1.data(Qt::ForegroundRole).isValid());
        QVERIFY(l1.data(Qt::ToolTipRole).toString().contains(QLatin1String("2 matrices")));
        const QModelIndex fb = model.index(1, LayerTreeModel::Name, l1);
        QVERIFY(fb.data().toString().endsWith(QChar(0x26a0)));
        QVERIFY(fb.data(Qt::ToolTipRole).toString().contains(QLatin1String("RTN: H stayed indefinite")));
        QVERIFY(model.index(0, LayerTreeModel::Name, l1).data(Qt::ToolTipRole).toString().contains(QLatin1String("all 4096")));
        const QModelIndex l0 = model.index(0, LayerTreeModel::Name);
        QVERIFY(!l0.data().toString().contains(QChar(0x26a0)));
        const QModelIndex routed = model.index(0, LayerTreeModel::Name, l0);
        QVERIFY(!routed.data().toString().contains(QChar(0x26a0)));
        QVERIFY(routed.data(Qt::ToolTipRole).toString().contains(QLatin1String("12 calibration tokens routed")));
        model.setRun({});
        QCOMPARE(model.rowCount(), 0);
    }
    void viewsRenderAndExport()
    {
        QTemporaryDir dir;
        const RunData run = syntheticRun();
        BitMapView bitmap;
        bitmap.resize(900, 500);
        bitmap.setMatrices(run.matrices, run.name);
        QCOMPARE(bitmap.tensors().size(), 4);
        QSignalSpy clicked(&bitmap, &BitMapView::matrixClicked);
        QVERIFY(bitmap.caption().contains(QLatin1String("4 matrices")));

        TradeoffView tradeoff;
        tradeoff.resize(900, 500);
        TradeoffSeries s;
        s.method = QStringLiteral("MG-PTQ (GCN)");
        s.knobName = QStringLiteral("α");
        s.points = {{0.01, 3.9, 10, QStringLiteral("a")}, {0.1, 3.0, 11, QStringLiteral("b")}, {1.0, 2.2, 15, QStringLiteral("c")}};
        QSignalSpy chosen(&tradeoff, &TradeoffView::pointChosen);
        tradeoff.setSeries({s}, QStringLiteral("wikitext2"), 9.5);
        QCOMPARE(tradeoff.currentMethod(), s.method);
        tradeoff.moveSlider(tradeoff.sliderSteps());
        QVERIFY(!chosen.isEmpty());
        QCOMPARE(chosen.last().at(0).toString(), QStringLiteral("c"));
        tradeoff.moveSlider(tradeoff.sliderSteps() / 2); // α = 0.1 on the log scale
        QCOMPARE(chosen.last().at(0).toString(), QStringLiteral("b"));

        PerplexityView ppl;
        Workbench wb;
        wb.upsert(run);
        wb.reference[QStringLiteral("wikitext2")] = 9.5;
        ppl.setTable(wb.perplexityTable({QStringLiteral("wikitext2"), QStringLiteral("c4")}));

        TrainingCurvesView curves;
        curves.setCurves(run.matrices[0].curves, QStringLiteral("layer 0 q_proj"));
        QVERIFY(curves.caption().contains(QLatin1String("3 epochs")));

        HessianGraphView graph;
        graph.resize(1000, 500);
        HessianGraphData none;
        none.tensor = QStringLiteral("layer 0 q_proj");
        graph.setGraph(none);
        QVERIFY(graph.caption().contains(QLatin1String("no Hessian stored")));
        HessianGraphData g;
        g.available = true;
        g.tensor = QStringLiteral("test");
        g.source = QStringLiteral("synthetic test data");
        g.cols = 24;
        for (int i = 0; i < 24; ++i) {
            g.diagonal.push_back(1.0 + i);
            g.bits.push_back(uint8_t(2 + i % 3));
        }
        g.adjacency.assign(24 * 24, 0.f);
        for (int i = 0; i < 24; ++i)
            for (int j = 0; j < 24; ++j)
                g.adjacency[size_t(i * 24 + j)] = i == j ? 0.f : float(1.0 / (1 + std::abs(i - j)));
        graph.setGraph(g);
        graph.setActOrder(true);
        QVERIFY(graph.caption().contains(QLatin1String("24 columns")));

        for (PlotView* v : std::initializer_list<PlotView*>{&bitmap, &tradeoff, &ppl, &curves, &graph}) {
            v->show();
            QVERIFY(!v->grab().isNull());
            for (const char* ext : {"png", "svg", "pdf"}) {
                const QString file = dir.filePath(QStringLiteral("%1.%2").arg(v->metaObject()->className()).arg(ext)
                                                      .replace(QLatin1String("::"), QLatin1String("_")));
                QString error;
                QVERIFY2(v->exportTo(file, &error), qPrintable(error));
                QVERIFY(QFileInfo(file).size() > 100);
            }
            QVERIFY(!v->toolTip().isEmpty());
        }
        QString error;
        QVERIFY(!bitmap.exportTo(dir.filePath(QStringLiteral("x.bmpx")), &error));
        QVERIFY(error.contains(QLatin1String("unknown format")));
    }
    void jobRunnerProgressLayersAndFailure()
    {
        QTemporaryDir dir;
        JobRequest r = tinyModelRequest(dir, QStringLiteral("gptq"));

        WorkerThread<JobRunner> worker;
        JobRunner* runner = worker.worker;
        QSignalSpy progress(runner, &JobRunner::progress);
        QSignalSpy layers(runner, &JobRunner::layerReady);
        QSignalSpy finishedRun(runner, &JobRunner::runFinished);
        QSignalSpy finished(runner, &JobRunner::finished);
        QSignalSpy failed(runner, &JobRunner::failed);
        QSignalSpy cancelled(runner, &JobRunner::cancelled);

        r.values = {4};
        r.outFolder = dir.filePath(QStringLiteral("runs"));
        QMetaObject::invokeMethod(runner, [runner, r] { runner->run(r); });
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
        QVERIFY(failed.isEmpty());
        QCOMPARE(layers.size(), 2);
        QCOMPARE(layers.at(0).at(1).value<std::vector<MatrixResult>>().size(), size_t(7));
        QCOMPARE(finishedRun.size(), 1);
        const RunData run = finishedRun.at(0).at(0).value<RunData>();
        QCOMPARE(run.matrices.size(), size_t(14));
        QCOMPARE(run.matrices[0].columnBits.front(), uint8_t(4));
        QVERIFY(!progress.isEmpty());

        // A missing model: failed() with a message naming it, no crash.
        JobRequest bad = r;
        bad.params.model = dir.filePath(QStringLiteral("no-such-model")).toStdString();
        QMetaObject::invokeMethod(runner, [runner, bad] { runner->run(bad); });
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 30000);
        QVERIFY(failed.last().at(0).toString().contains(QLatin1String("no-such-model")));

        // Cancel at the first progress report: cancelled(), and no result folder left behind.
        JobRequest slow = r;
        slow.values = {3};
        slow.runNames = {QStringLiteral("cancelled run")};
        auto conn = connect(runner, &JobRunner::progress, runner, [runner] { runner->cancel(); }, Qt::DirectConnection);
        QMetaObject::invokeMethod(runner, [runner, slow] { runner->run(slow); });
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.size(), 1, 30000);
        disconnect(conn);
        QVERIFY(!QFileInfo::exists(QDir(slow.outFolder).filePath(QStringLiteral("cancelled-run"))));
        worker.stop();
    }
    /// MXQ from the run dialog's request: --cost auto with a calibration tokens file is probed,
    /// said in a note (not a warning) and recorded in the run's solver record; fnorm as asked.
    void mxqJobChoosesItsCost()
    {
        QTemporaryDir dir;
        JobRequest r = tinyModelRequest(dir, QStringLiteral("mxq"));
        WorkerThread<JobRunner> worker;
        JobRunner* runner = worker.worker;
        QSignalSpy notes(runner, &JobRunner::note);
        QSignalSpy warnings(runner, &JobRunner::warning);
        QSignalSpy finishedRun(runner, &JobRunner::runFinished);
        QSignalSpy finished(runner, &JobRunner::finished);
        QSignalSpy failed(runner, &JobRunner::failed);
        r.axis = QStringLiteral("budget");
        r.values = {4.5};
        r.mxqConfigs = mpq::parseMxqConfigs("2,4x32,128");
        r.outFolder = dir.filePath(QStringLiteral("runs"));
        QMetaObject::invokeMethod(runner, [runner, r] { runner->run(r); });
        QTRY_COMPARE_WITH_TIMEOUT(finished.size() + failed.size(), 1, 120000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        QCOMPARE(notes.size(), 1);
        QVERIFY2(notes.at(0).at(0).toString().startsWith(QLatin1String("MXQ cost auto: probed")),
                 qPrintable(notes.at(0).at(0).toString()));
        for (const auto& w : warnings)
            QVERIFY2(!w.at(0).toString().contains(QLatin1String("MXQ cost")), qPrintable(w.at(0).toString()));
        const mpq::SolverRecord solver =
            mpq::readResultDescription(finishedRun.at(0).at(0).value<RunData>().resultDir.toStdString()).solver;
        QCOMPARE(solver.costKind, std::string("probed"));
        QVERIFY2(solver.costChoice.rfind("auto: probed", 0) == 0, solver.costChoice.c_str());

        JobRequest fn = r;
        fn.mxqCost = QStringLiteral("fnorm");
        fn.outFolder = dir.filePath(QStringLiteral("runs-fnorm"));
        QMetaObject::invokeMethod(runner, [runner, fn] { runner->run(fn); });
        QTRY_COMPARE_WITH_TIMEOUT(finished.size() + failed.size(), 2, 120000);
        QVERIFY(failed.isEmpty());
        QCOMPARE(notes.size(), 1);
        const mpq::SolverRecord plain =
            mpq::readResultDescription(finishedRun.at(1).at(0).value<RunData>().resultDir.toStdString()).solver;
        QCOMPARE(plain.costKind, std::string("fnorm"));
        QVERIFY(plain.costChoice.empty());
        worker.stop();
    }
    /// A job written into an HDF5 session: layers arrive from the session's journal, the run,
    /// its Hessian graph, evaluations, sweeps and cost tables read back into the views' structs;
    /// damaged, truncated, foreign and newer-version files throw the engine's message.
    void jobIntoHdf5SessionAndBadSessions()
    {
        QTemporaryDir dir;
        JobRequest r = tinyModelRequest(dir, QStringLiteral("mgptq"));
        const QString model = QString::fromStdString(r.params.model);
        const QString file = dir.filePath(QStringLiteral("s.h5"));

        WorkerThread<JobRunner> worker;
        JobRunner* runner = worker.worker;
        QSignalSpy layers(runner, &JobRunner::layerReady);
        QSignalSpy finishedRun(runner, &JobRunner::runFinished);
        QSignalSpy finished(runner, &JobRunner::finished);
        QSignalSpy failed(runner, &JobRunner::failed);
        QSignalSpy cancelled(runner, &JobRunner::cancelled);
        r.axis = QStringLiteral("target-bits");
        r.values = {3.0, 2.5};
        r.runNames = {QStringLiteral("mg-3"), QStringLiteral("mg-2.5")};
        r.sweepName = QStringLiteral("sweep-mg");
        r.params.mgptq.epochs = 5;
        r.session = file;
        QMetaObject::invokeMethod(runner, [runner, r] { runner->run(r); });
        QTRY_COMPARE_WITH_TIMEOUT(finished.size() + failed.size(), 1, 120000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        QCOMPARE(layers.size(), 4); // two layers of each point, read from the session's journal
        QCOMPARE(layers.at(0).at(1).value<std::vector<MatrixResult>>().size(), size_t(7));
        QCOMPARE(finishedRun.size(), 2);
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("mg-3")))); // no result folder

        const mpq::session::Session s = mpq::session::Session::open(file.toStdString());
        QCOMPARE(s.runs().size(), size_t(2));
        QCOMPARE(s.runs()[0].status, mpq::session::RunStatus::Complete);
        QCOMPARE(s.sweeps().size(), size_t(1));
        QCOMPARE(s.sweeps()[0].points.size(), size_t(2));
        // Evaluations the GUI stores (synthetic models have no tokenizer: add them as `mpq eval` would).
        mpq::session::Evaluation ev;
        ev.run = "mg-3";
        ev.model = file.toStdString() + "#mg-3";
        ev.dataset = "wikitext2";
        ev.perplexity = 42.5;
        mpq::session::addEvaluation(file.toStdString(), ev);
        ev.run.clear();
        ev.model = model.toStdString();
        ev.perplexity = 30.25;
        mpq::session::addEvaluation(file.toStdString(), ev);

        const Workbench wb = SessionReader::load(file);
        QCOMPARE(wb.runs.size(), size_t(2));
        QCOMPARE(QFileInfo(wb.model).absoluteFilePath(), QFileInfo(model).absoluteFilePath());
        QVERIFY(wb.synthetic);
        QCOMPARE(wb.reference.value(QStringLiteral("wikitext2")), 30.25);
        const RunData* mg3 = wb.run(QStringLiteral("mg-3"));
        QVERIFY(mg3);
        QVERIFY(mg3->complete);
        QCOMPARE(mg3->method, QStringLiteral("mgptq-gcn"));
        QCOMPARE(mg3->sweepAxis, QStringLiteral("target-bits"));
        QCOMPARE(mg3->sweepValue, 3.0);
        QCOMPARE(mg3->perplexity.value(QStringLiteral("wikitext2")), 42.5);
        QCOMPARE(mg3->matrices.size(), size_t(14));
        QCOMPARE(mg3->matrices[0].columnBits.size(), size_t(32));
        QVERIFY(!mg3->matrices[0].curves.empty());
        QVERIFY(mg3->matrices[0].curves.loss.size() <= size_t(5));
        // The bits the views show are the session's stored allocation.
        const auto detail = s.matrix("mg-3", mg3->matrices[0].tensor.toStdString());
        QVERIFY(mg3->matrices[0].columnBits == detail.columnBits);
        const auto series = wb.tradeoff(QStringLiteral("wikitext2"));
        QCOMPARE(series.size(), size_t(1));
        QCOMPARE(series[0].points.size(), size_t(2));
        QCOMPARE(series[0].points[1].perplexity, 42.5);

        // The Hessian graph from the stored diag H and sparse adjacency, made symmetric.
        const HessianGraphData g = SessionReader::hessianGraph(s, QStringLiteral("mg-3"), mg3->matrices[0].tensor);
        QVERIFY2(g.available, qPrintable(g.source));
        QCOMPARE(g.cols, int64_t(32));
        QCOMPARE(g.diagonal.size(), size_t(32));
        QCOMPARE(g.diagonal[5], double(detail.hessianDiagonal[5]));
        size_t nonzero = 0;
        for (int64_t i = 0; i < g.cols; ++i)
            for (int64_t j = 0; j < g.cols; ++j) {
                QCOMPARE(g.weight(i, j), g.weight(j, i));
                nonzero += g.weight(i, j) > 0;
            }
        QVERIFY(nonzero >= detail.adjacency.row.size());
        QVERIFY(g.weight(detail.adjacency.row[0], detail.adjacency.col[0]) >= std::abs(detail.adjacency.value[0]));
        HessianGraphView view;
        view.resize(900, 500);
        view.setGraph(g);
        QVERIFY2(view.caption().contains(QLatin1String("strongest edges")), qPrintable(view.caption()));

        // Cancelled into the session: the run stays, resumable, not shown as complete.
        JobRequest slow = r;
        slow.values = {3.0};
        slow.runNames = {QStringLiteral("mg-cancelled")};
        slow.sweepName.clear();
        auto conn = connect(runner, &JobRunner::layerReady, runner, [runner] { runner->cancel(); }, Qt::DirectConnection);
        QMetaObject::invokeMethod(runner, [runner, slow] { runner->run(slow); });
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.size() + finished.size(), 2, 60000);
        disconnect(conn);
        QCOMPARE(cancelled.size(), 1);
        worker.stop();
        const Workbench after = SessionReader::load(file);
        QCOMPARE(after.runs.size(), size_t(3));
        QVERIFY(!after.run(QStringLiteral("mg-cancelled"))->complete);
        QCOMPARE(after.run(QStringLiteral("mg-cancelled"))->status, QStringLiteral("cancelled"));
        QCOMPARE(after.tradeoff(QStringLiteral("wikitext2"))[0].points.size(), size_t(2));

        // Bad files: one readable message each, never a crash.
        const auto messageOf = [](const QString& path) {
            try {
                SessionReader::load(path);
            } catch (const mpq::Error& e) {
                return QString::fromStdString(e.what());
            }
            return QString();
        };
        const QString random = dir.filePath(QStringLiteral("random.h5"));
        QByteArray noise(4096, '\0');
        for (int i = 0; i < noise.size(); ++i)
            noise[i] = char((i * 7919 + 13) % 251);
        writeFile(random, noise);
        QVERIFY2(messageOf(random).contains(QLatin1String("not HDF5 at all")), qPrintable(messageOf(random)));
        const QString truncated = dir.filePath(QStringLiteral("truncated.h5"));
        QVERIFY(QFile::copy(file, truncated));
        QVERIFY(QFile::resize(truncated, QFileInfo(file).size() / 2));
        QVERIFY2(messageOf(truncated).contains(QLatin1String("damaged or truncated")), qPrintable(messageOf(truncated)));
        const QString foreign = dir.filePath(QStringLiteral("foreign.h5"));
        {
            const hid_t f = H5Fcreate(foreign.toLocal8Bit().constData(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            QVERIFY(f >= 0);
            H5Gclose(H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
            H5Fclose(f);
        }
        QVERIFY2(messageOf(foreign).contains(QLatin1String("not an MPQ session")), qPrintable(messageOf(foreign)));
        const QString newer = dir.filePath(QStringLiteral("newer.h5"));
        QVERIFY(QFile::copy(file, newer));
        QFile::setPermissions(newer, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        {
            const hid_t f = H5Fopen(newer.toLocal8Bit().constData(), H5F_ACC_RDWR, H5P_DEFAULT);
            QVERIFY(f >= 0);
            const int64_t v = mpq::session::kSchemaVersion + 1;
            const hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
            QVERIFY(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
            H5Aclose(a);
            H5Fclose(f);
        }
        QVERIFY2(messageOf(newer).contains(QLatin1String("is newer than this build")), qPrintable(messageOf(newer)));
    }
    void resolverNewestWins()
    {
        const auto table = mpq::test::upProjCostTable(3);
        WorkerThread<MxqResolver> worker;
        MxqResolver* resolver = worker.worker;
        QSignalSpy solved(resolver, &MxqResolver::solved);
        QSignalSpy failed(resolver, &MxqResolver::failed);
        resolver->request(3.0); // no table yet
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 5000);
        resolver->setTable(table);
        for (double b : {2.5, 2.9, 3.3, 3.7, 4.5})
            resolver->request(b);
        const quint64 newest = resolver->latest();
        QTRY_VERIFY_WITH_TIMEOUT(!solved.isEmpty() && solved.last().at(0).value<MxqResolved>().generation == newest, 10000);
        const MxqResolved last = solved.last().at(0).value<MxqResolved>();
        QCOMPARE(last.budget, 4.5);
        QCOMPARE(last.matrices.size(), size_t(3));
        for (const auto& m : last.matrices)
            QCOMPARE(m.columnBits.front(), uint8_t(4)); // enough budget for 4 bits everywhere
        for (const auto& args : solved) // stale requests were skipped or are older
            QVERIFY(args.at(0).value<MxqResolved>().generation <= newest);
        worker.stop();
    }
};

QTEST_MAIN(TestWidgets)
#include "tst_widgets.moc"
