// Issue 20: the GGUF trade-off — MXQ's program over llama.cpp's types as a curve beside
// llama.cpp's presets, scored by one cost table, and the evaluated GGUF runs' perplexity.
// The engine's trade-off data, the worker adapter (newest request wins) and the view
// (offscreen platform).
#include "GgufCurveBuilder.h"
#include "GgufTradeoffView.h"
#include "Workbench.h"

#include "alloc/GgufTradeoff.h"
#include "core/Error.h"

#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

using namespace mpq;
using namespace mpq::gui;

namespace {

/// A LLaMA-shaped cost table without a model: 8 layers × 7 linears of 256 (or 512) columns, every
/// type measured; the error falls by half per bit, with a per-matrix sensitivity so that the
/// program has something to choose.
GgufCostTable syntheticTable()
{
    GgufCostTable t;
    t.model = "synthetic";
    t.costKind = "fnorm";
    t.nHeads = 8;
    t.nKvHeads = 8;
    t.types = GgufCostParams::defaultTypes();
    const char* linears[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    for (int layer = 0; layer < 8; ++layer)
        for (int k = 0; k < 7; ++k) {
            GgufCostTable::Matrix m;
            m.layer = layer;
            m.linear = linears[k];
            m.tensor = "model.layers." + std::to_string(layer) + "." + m.linear + ".weight";
            m.rows = k >= 4 && k < 6 ? 512 : 256;
            m.cols = k == 6 ? 512 : 256;
            const double sensitivity = 1 + 0.37 * ((layer * 7 + k) % 5) + (k == 2 ? 2.0 : 0.0);
            for (ggml::Type type : t.types) {
                const double bpw = ggml::info(type).blockBytes * 8.0 / ggml::info(type).blockSize;
                m.cost.push_back(type == ggml::Type::F16 ? 0.0 : sensitivity * double(m.rows) * std::pow(2.0, -bpw));
            }
            t.matrices.push_back(std::move(m));
        }
    return t;
}

QString writeTable(const QTemporaryDir& dir, const GgufCostTable& t)
{
    const QString path = dir.filePath(QStringLiteral("gguf-costs.json"));
    std::ofstream(path.toStdString()) << ggufCostTableToJson(t);
    return path;
}

GgufCurve curveOf(const GgufCostTable& t)
{
    GgufCurve c;
    c.source = QStringLiteral("/tmp/gguf-costs.json");
    c.tradeoff = ggufTradeoff(t, ggufTradeoffBudgets(t, 25));
    return c;
}

} // namespace

class TestWidgetsGguf : public QObject {
    Q_OBJECT
private Q_SLOTS:
    /// The data behind the view: budgets from the smallest mix to Q8_0's size, every mix within
    /// its budget, the curve never rising, all 14 presets at their exact sizes, and no preset
    /// below the curve (the program is optimal at the preset's own size).
    void tradeoffData()
    {
        const GgufCostTable t = syntheticTable();
        const std::vector<double> budgets = ggufTradeoffBudgets(t, 25);
        QCOMPARE(int(budgets.size()), 25);
        QCOMPARE(budgets.front(), 2.625); // every matrix in Q2_K
        QCOMPARE(budgets.back(), 8.5);    // every matrix in Q8_0 (F16 is not on the curve)
        const GgufTradeoff tr = ggufTradeoff(t, budgets);
        QCOMPARE(int(tr.mixes.size()), 25);
        QVERIFY(tr.skipped.empty());
        for (size_t i = 0; i < tr.mixes.size(); ++i) {
            QVERIFY(tr.mixes[i].bitsPerWeight <= tr.mixes[i].budget + 1e-9);
            if (i > 0)
                QVERIFY(tr.mixes[i].cost <= tr.mixes[i - 1].cost * (1 + 1e-4));
        }
        QCOMPARE(int(tr.presets.size()), 14);
        for (const auto& p : tr.presets) {
            if (p.name == "Q8_0")
                QCOMPARE(p.bitsPerWeight, 8.5);
            if (p.name == "Q4_0")
                QCOMPARE(p.bitsPerWeight, 4.5);
            if (p.name == "Q4_K_M") {
                QVERIFY(p.typeCounts.at("Q6_K") > 0); // use_more_bits layers
                QVERIFY(p.bitsPerWeight > 4.5 && p.bitsPerWeight < 6.5625);
            }
            MxqSolveOptions exact;
            exact.relativeGap = 0;
            const AllocationPlan mix = ggufMixPlan(t, MxqBudget::bitsPerParameter(p.bitsPerWeight + 1e-9), exact, nullptr, nullptr);
            QVERIFY2(ggufScorePlan(t, mix).cost <= p.cost * (1 + 1e-9), p.name.c_str());
        }
    }

    /// A table the presets' command wrote (no costs) is refused with a message that says where
    /// costs come from; a preset whose type was not measured is left out, named.
    void tradeoffRefusals()
    {
        GgufCostTable t = syntheticTable();
        GgufCostTable empty = t;
        for (auto& m : empty.matrices)
            std::fill(m.cost.begin(), m.cost.end(), -1.0);
        QString message;
        try {
            ggufTradeoff(empty, {4.5});
        } catch (const mpq::Error& e) {
            message = QString::fromUtf8(e.what());
        }
        QVERIFY2(message.contains(QLatin1String("measured for gguf-mxq")), qPrintable(message));
        GgufCostTable noQ6 = t;
        const auto it = std::find(noQ6.types.begin(), noQ6.types.end(), ggml::Type::Q6_K);
        const size_t k = size_t(it - noQ6.types.begin());
        noQ6.types.erase(it);
        for (auto& m : noQ6.matrices)
            m.cost.erase(m.cost.begin() + long(k));
        const GgufTradeoff tr = ggufTradeoff(noQ6, {4.5, 5.5});
        QCOMPARE(int(tr.mixes.size()), 2);
        QVERIFY(std::none_of(tr.presets.begin(), tr.presets.end(), [](const auto& p) { return p.name == "Q6_K"; }));
        QVERIFY(std::any_of(tr.skipped.begin(), tr.skipped.end(), [](const std::string& s) { return s.rfind("Q6_K:", 0) == 0; }));
    }

    /// The adapter reads the file and solves; the newest request wins, a bad file fails with its name.
    void builder()
    {
        QTemporaryDir dir;
        const QString path = writeTable(dir, syntheticTable());
        GgufCurveBuilder b;
        QSignalSpy built(&b, &GgufCurveBuilder::built);
        QSignalSpy failed(&b, &GgufCurveBuilder::failed);
        b.request(dir.filePath(QStringLiteral("missing.json"))); // superseded before it runs
        const quint64 g = b.request(path);
        QVERIFY(built.wait(30000));
        QCOMPARE(failed.count(), 0);
        const auto curve = built.front().front().value<GgufCurve>();
        QCOMPARE(curve.generation, g);
        QCOMPARE(int(curve.tradeoff.mixes.size()), GgufCurveBuilder::kBudgetPoints);
        QCOMPARE(int(curve.tradeoff.presets.size()), 14);

        std::ofstream(dir.filePath(QStringLiteral("bad.json")).toStdString()) << "{\"format\": \"mpq-costs\"}";
        b.request(dir.filePath(QStringLiteral("bad.json")));
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.front().at(1).toString().contains(QLatin1String("bad.json")));
    }

    /// GGUF runs go to the GGUF view, not into the α trade-off's series.
    void workbenchRuns()
    {
        Workbench wb;
        const auto add = [&](const QString& name, const QString& method, const QString& mix, double bpw, double ppl) {
            RunData r;
            r.name = name;
            r.method = method;
            r.ggufMix = mix;
            r.ggufBitsPerWeight = bpw;
            r.avgBitsWithOverhead = bpw - 0.1;
            r.complete = true;
            if (ppl > 0)
                r.perplexity[QStringLiteral("wikitext2")] = ppl;
            wb.upsert(r);
        };
        add(QStringLiteral("mix45"), QStringLiteral("gguf-mxq"), QStringLiteral("MIP 4.5"), 4.49, 230);
        add(QStringLiteral("q4km"), QStringLiteral("gguf-Q4_K_M"), QStringLiteral("Q4_K_M"), 4.83, 231);
        add(QStringLiteral("q8"), QStringLiteral("gguf-Q8_0"), QString(), 8.5, -1);
        add(QStringLiteral("gptq-4bit"), QStringLiteral("gptq"), QString(), 4.25, 240);
        auto runs = wb.ggufRuns(QStringLiteral("wikitext2"));
        QCOMPARE(int(runs.size()), 3);
        // With the unquantized model's perplexity: a fourth point, the 16-bit level.
        wb.reference[QStringLiteral("wikitext2")] = 221.4;
        const auto withReference = wb.ggufRuns(QStringLiteral("wikitext2"));
        QCOMPARE(int(withReference.size()), 4);
        QVERIFY(withReference.back().unquantized);
        QCOMPARE(withReference.back().perplexity, 221.4);
        QCOMPARE(withReference.back().label, QStringLiteral("16-bit"));
        QCOMPARE(int(wb.ggufRuns(QStringLiteral("c4")).size()), 3);
        QCOMPARE(runs[0].label, QStringLiteral("MIP 4.5"));
        QVERIFY(!runs[0].preset && runs[1].preset);
        QCOMPARE(runs[2].label, QStringLiteral("Q8_0")); // from the method when the mix is not recorded
        QCOMPARE(runs[2].perplexity, -1.0);
        const auto series = wb.tradeoff(QStringLiteral("wikitext2"));
        QCOMPARE(int(series.size()), 1);
        QCOMPARE(series.front().family, QStringLiteral("GPTQ"));
    }

    /// The view: labelled axes, the curve, a labelled point per preset with no two labels on top
    /// of each other, the legend off the data, a hover readout, the perplexity panel, export.
    void view()
    {
        GgufTradeoffView v;
        v.resize(1000, 700);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        QVERIFY(v.caption().contains(QLatin1String("No GGUF cost table")));
        const GgufCostTable t = syntheticTable();
        const GgufCurve curve = curveOf(t);
        v.setCurve(curve);
        std::vector<GgufRunPoint> runs(2);
        runs[0] = {QStringLiteral("mix45"), QStringLiteral("MIP 4.5"), false, 4.49, 230.0};
        runs[1] = {QStringLiteral("q4km"), QStringLiteral("Q4_K_M"), true, 4.83, 231.5};
        v.setRuns(runs, QStringLiteral("wikitext2"));
        v.replotNow();
        QCOMPARE(v.mixPoints(), 25);
        QCOMPARE(v.runPoints(), 2);
        QCOMPARE(v.unquantizedLevel(), -1.0);
        // The unquantized model: a level line and its label, not a third point.
        runs.push_back({QStringLiteral("unquantized model"), QStringLiteral("16-bit"), false, 16.0, 221.4, true});
        v.setRuns(runs, QStringLiteral("wikitext2"));
        v.replotNow();
        QCOMPARE(v.runPoints(), 2);
        QCOMPARE(v.unquantizedLevel(), 221.4);
        const QStringList labels = v.presetLabels();
        QCOMPARE(labels.size(), 14);
        for (const char* name : {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"})
            QVERIFY2(labels.contains(QLatin1String(name)), name);
        QVERIFY(v.costAxisLabel().contains(QStringLiteral("‖W − Ŵ‖_F")));
        QVERIFY(v.perplexityAxisLabel().contains(QLatin1String("perplexity on wikitext2")));
        QVERIFY(v.caption().contains(QLatin1String("25 MIP mixes")) && v.caption().contains(QLatin1String("14 llama.cpp presets")));
        QVERIFY(!v.legendRect().isEmpty());
        QVERIFY(!v.legendRect().intersects(v.dataRect()));

        // Labels apart from each other wherever there is room (the synthetic presets crowd
        // 4.5–5.5 bits per weight as the real ones do).
        const QList<QRect> rects = v.labelRects();
        int overlaps = 0;
        for (int i = 0; i < rects.size(); ++i)
            for (int j = i + 1; j < rects.size(); ++j)
                overlaps += rects[i].intersects(rects[j]) ? 1 : 0;
        QCOMPARE(overlaps, 0);
        // … and off the MIP curve's markers.
        for (const auto& m : curve.tradeoff.mixes) {
            const QPoint at = v.pointPixel(QString::fromStdString(m.name));
            QVERIFY(at.x() >= 0);
            for (const QRect& r : rects)
                QVERIFY2(!r.contains(at), m.name.c_str());
        }

        // Hovering the Q4_K_M triangle names it, its size and its types.
        const QString text = v.hoverText(v.pointPixel(QStringLiteral("Q4_K_M")) + QPoint(2, -1));
        QVERIFY2(text.contains(QLatin1String("llama.cpp Q4_K_M")), qPrintable(text));
        QVERIFY(text.contains(QLatin1String("Q6_K")));
        QVERIFY(v.hoverText(QPoint(1, 1)).isEmpty());

        QTemporaryDir dir;
        QVERIFY(v.exportTo(dir.filePath(QStringLiteral("gguf.png"))));
        QVERIFY(v.exportTo(dir.filePath(QStringLiteral("gguf.svg"))));

        // No runs: the panel says how to get them; an unusable table: the caption says why.
        v.setRuns({}, QStringLiteral("c4"));
        QCOMPARE(v.runPoints(), 0);
        v.setCurveError(QStringLiteral("x.json: not a GGUF cost table"));
        QVERIFY(v.caption().contains(QLatin1String("not a GGUF cost table")));
        QCOMPARE(v.mixPoints(), 0);
    }
};

QTEST_MAIN(TestWidgetsGguf)
#include "tst_widgetsgguf.moc"
