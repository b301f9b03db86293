// Mapping maths behind the views, tested without a window.
#include "BitMapView.h"
#include "BitPalette.h"
#include "DurationText.h"
#include "GraphLayout.h"
#include "HessianGraphSummary.h"
#include "KnobScale.h"
#include "LogScale.h"
#include "PlotView.h"
#include "TradeoffSeries.h"
#include "Workbench.h"

#include <QtTest>

#include <cmath>

using namespace mpq::gui;

namespace {

// Colour science for the palette test: sRGB (D65) → linear → XYZ → CIELAB, and Machado, Oliveira
// and Fernandes (2009)'s simulation of deuteranopia (severity 1) on linear RGB.
double toLinear(double c)
{
    c /= 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

struct Lab {
    double L, a, b;
};

Lab labOfLinear(double r, double g, double b)
{
    const auto f = [](double t) { return t > std::pow(6.0 / 29, 3) ? std::cbrt(t) : t / (3 * std::pow(6.0 / 29, 2)) + 4.0 / 29; };
    const double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    const double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

Lab labOf(const QColor& c) { return labOfLinear(toLinear(c.red()), toLinear(c.green()), toLinear(c.blue())); }

Lab deuteranopeLabOf(const QColor& c)
{
    const double r = toLinear(c.red()), g = toLinear(c.green()), b = toLinear(c.blue());
    const auto clamp01 = [](double v) { return std::clamp(v, 0.0, 1.0); };
    return labOfLinear(clamp01(0.367322 * r + 0.860646 * g - 0.227968 * b),
                       clamp01(0.280085 * r + 0.672501 * g + 0.047413 * b),
                       clamp01(-0.011820 * r + 0.042940 * g + 0.968881 * b));
}

// Machado et al. (2009), severity 1, on linear RGB: protanopia, deuteranopia, tritanopia.
Lab simulatedLabOf(const QColor& c, const double m[3][3])
{
    const double r = toLinear(c.red()), g = toLinear(c.green()), b = toLinear(c.blue());
    const auto clamp01 = [](double v) { return std::clamp(v, 0.0, 1.0); };
    return labOfLinear(clamp01(m[0][0] * r + m[0][1] * g + m[0][2] * b), clamp01(m[1][0] * r + m[1][1] * g + m[1][2] * b),
                       clamp01(m[2][0] * r + m[2][1] * g + m[2][2] * b));
}

double deltaE(const Lab& p, const Lab& q) { return std::sqrt(std::pow(p.L - q.L, 2) + std::pow(p.a - q.a, 2) + std::pow(p.b - q.b, 2)); }

} // namespace

class TestMapping : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bitPaletteDistinctAndClamped()
    {
        QSet<QRgb> seen;
        for (int b = 1; b <= 8; ++b)
            seen.insert(BitPalette::color(b).rgb());
        QCOMPARE(seen.size(), 8);
        QCOMPARE(BitPalette::color(12), BitPalette::color(8));
        QVERIFY(BitPalette::color(0) != BitPalette::color(1));
        QCOMPARE(BitPalette::present({4, 2, 4, 3, 2}), (std::vector<int>{2, 3, 4}));
    }
    void bitPaletteLightnessOrderedInGreyAndUnderDeuteranopia()
    {
        // Issue 21: 2 and 4 bits printed as the same grey. Now CIELAB lightness rises with the
        // bit-width by at least 7 L* per step (distinct in greyscale), and under a simulated
        // deuteranopia the order holds and every two widths stay ≥ 10 ΔE*ab apart.
        for (int b = 2; b <= 8; ++b) {
            const double step = labOf(BitPalette::color(b)).L - labOf(BitPalette::color(b - 1)).L;
            QVERIFY2(step >= 7.0, qPrintable(QStringLiteral("L*(%1) - L*(%2) = %3").arg(b).arg(b - 1).arg(step)));
            const double greyStep = qGray(BitPalette::color(b).rgb()) - qGray(BitPalette::color(b - 1).rgb());
            QVERIFY2(greyStep >= 12, qPrintable(QStringLiteral("grey %1 vs %2: %3").arg(b).arg(b - 1).arg(greyStep)));
            QVERIFY(deuteranopeLabOf(BitPalette::color(b)).L > deuteranopeLabOf(BitPalette::color(b - 1)).L + 5.0);
        }
        for (int b = 1; b <= 8; ++b)
            for (int c = b + 1; c <= 8; ++c) {
                const double d = deltaE(deuteranopeLabOf(BitPalette::color(b)), deuteranopeLabOf(BitPalette::color(c)));
                QVERIFY2(d >= 10.0, qPrintable(QStringLiteral("deuteranopia: %1 vs %2 bits ΔE %3").arg(b).arg(c).arg(d)));
            }
        // The check itself separates: the old ramp's 2 and 4 bits were within 3 L* of each other.
        QVERIFY(std::abs(labOf(QColor(0xd5, 0x5e, 0x00)).L - labOf(QColor(0x00, 0x9e, 0x73)).L) < 7.0);
    }
    void bitPaletteNeighboursDifferUnderEveryDeficiency()
    {
        // Issue 19: neighbouring widths, 2 and 3 bits above all, must differ clearly for everyone.
        // 2/3 and 3/4 (the widths MG-PTQ mixes) stay >= 40 dE*ab apart for normal vision and under
        // simulated protanopia, deuteranopia and tritanopia; every neighbour pair >= 8.
        static const double identity[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        static const double protan[3][3] = {{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216},
                                            {-0.003882, -0.048116, 1.051998}};
        static const double deutan[3][3] = {{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413},
                                            {-0.011820, 0.042940, 0.968881}};
        static const double tritan[3][3] = {{1.255528, -0.076749, -0.178779}, {-0.078411, 0.930809, 0.147602},
                                            {0.004733, 0.691367, 0.303900}};
        const std::pair<const char*, const double(*)[3]> visions[] = {
            {"normal", identity}, {"protanopia", protan}, {"deuteranopia", deutan}, {"tritanopia", tritan}};
        for (const auto& [name, m] : visions)
            for (int b = 2; b <= 8; ++b) {
                const double d = deltaE(simulatedLabOf(BitPalette::color(b - 1), m), simulatedLabOf(BitPalette::color(b), m));
                const double need = (b == 3 || b == 4) ? 40.0 : 8.0;
                QVERIFY2(d >= need, qPrintable(QStringLiteral("%1: %2 vs %3 bits dE %4 < %5").arg(QLatin1String(name)).arg(b - 1).arg(b).arg(d).arg(need)));
            }
        // The check separates: the old cerulean 3 was 19 dE from the blue 2 under tritanopia.
        QVERIFY(deltaE(simulatedLabOf(QColor(0x26, 0x44, 0xac), tritan), simulatedLabOf(QColor(0x02, 0x77, 0xa9), tritan)) < 40);
    }
    void logScaleMapsDecades()
    {
        const LogScale s{1e-3, 1.0};
        QCOMPARE(s.map(1e-3), 0.0);
        QVERIFY(std::abs(s.map(1e-2) - 1.0 / 3) < 1e-12);
        QCOMPARE(s.map(10.0), 1.0);
        QCOMPARE(s.map(0.0), 0.0);
        QCOMPARE(s.map(-5.0), 0.0);
        const float data[] = {0.f, 1e-9f, 0.5f, 2.f, -1.f};
        const LogScale f = LogScale::fit(data, 5, 3.0);
        QCOMPARE(f.hi, 2.0);
        QVERIFY(std::abs(f.lo - 2e-3) < 1e-12); // clipped to 3 decades below the maximum
    }
    void graphLayoutKeepsStrongestEdgesAndOrder()
    {
        // 4 columns: edges (0,1)=0.5, (1,2)=2, (0,3)=1, (2,3)=0.
        std::vector<float> a(16, 0.f);
        auto set = [&](int i, int j, float w) { a[size_t(i * 4 + j)] = a[size_t(j * 4 + i)] = w; };
        set(0, 1, 0.5f);
        set(1, 2, 2.f);
        set(0, 3, 1.f);
        const GraphLayout g = GraphLayout::circular(a, 4, {}, 2);
        QCOMPARE(g.edges.size(), size_t(2));
        QCOMPARE(g.edges[0].a, 1);
        QCOMPARE(g.edges[0].b, 2);
        QCOMPARE(g.edges[1].a, 0);
        QCOMPARE(g.edges[1].b, 3);
        QVERIFY(std::abs(g.x[0]) < 1e-12 && std::abs(g.y[0] - 1) < 1e-12); // first position: top
        for (size_t i = 0; i < 4; ++i)
            QVERIFY(std::abs(g.x[i] * g.x[i] + g.y[i] * g.y[i] - 1) < 1e-12);
        // With an order, column 2 takes the top position.
        const GraphLayout o = GraphLayout::circular(a, 4, {2, 0, 1, 3}, 0);
        QVERIFY(std::abs(o.y[2] - 1) < 1e-12);
        QVERIFY(o.edges.empty());
        QCOMPARE(GraphLayout::actOrder({1.0, 3.0, 2.0, 3.0}), (std::vector<int64_t>{1, 3, 2, 0}));
    }
    void hessianGraphSummaryFromEdgesEqualsDense()
    {
        // A 40-column graph, dense and as the sparse edges a session stores: the same scale,
        // pooled heat map (both orders), strongest edges (GraphLayout::circular's) and dots.
        const int64_t n = 40;
        HessianGraphData dense;
        dense.available = true;
        dense.cols = n;
        dense.adjacency.assign(size_t(n * n), 0.f);
        for (int64_t i = 0; i < n; ++i) {
            dense.diagonal.push_back(1.0 + double((i * 7) % n));
            dense.bits.push_back(uint8_t(2 + i % 3));
        }
        HessianGraphData sparse = dense;
        sparse.adjacency.clear();
        for (int64_t i = 0; i < n; ++i)
            for (int64_t d : {1, 3, 11}) {
                const int64_t j = (i + d) % n;
                const float w = float(1e-3 * double(1 + (i * 13 + d) % 97));
                dense.adjacency[size_t(i * n + j)] = dense.adjacency[size_t(j * n + i)] = w;
                sparse.edges.push_back({int32_t(j), int32_t(i), w}); // either direction, duplicates allowed
                sparse.edges.push_back({int32_t(i), int32_t(j), w / 2});
            }
        HessianGraphData::normalise(sparse.edges);
        QCOMPARE(sparse.edges.size(), size_t(3 * n));
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j)
                QCOMPARE(sparse.weight(i, j), dense.weight(i, j));
        const auto a = HessianGraphSummary::compute(dense, 16, 10, 16);
        const auto b = HessianGraphSummary::compute(sparse, 16, 10, 16);
        QCOMPARE(a.block, int64_t(3));
        QCOMPARE(a.cells, 14);
        QCOMPARE(a.scale.lo, b.scale.lo);
        QCOMPARE(a.scale.hi, b.scale.hi);
        QVERIFY(a.heatNatural == b.heatNatural);
        QVERIFY(a.heatActOrder == b.heatActOrder);
        QVERIFY(a.heatNatural != a.heatActOrder);
        const GraphLayout ref = GraphLayout::circular(dense.adjacency, n, {}, 10);
        QCOMPARE(b.strongest.size(), ref.edges.size());
        for (size_t e = 0; e < ref.edges.size(); ++e) {
            QCOMPARE(b.strongest[e].a, ref.edges[e].a);
            QCOMPARE(b.strongest[e].b, ref.edges[e].b);
            QCOMPARE(b.strongest[e].weight, ref.edges[e].weight);
        }
        // 40 columns, at most 16 dots: 3 columns a dot, the last one 1; the first dot's bits are
        // the mean of columns 0..2 (2, 3, 4) = 3, at the angle of column 1.
        QCOMPARE(b.columnsPerDot, int64_t(3));
        QCOMPARE(b.dotsNatural.size(), size_t(14));
        QCOMPARE(b.dotsNatural[0].bits, 3);
        const GraphLayout pos = GraphLayout::circular({}, n, {}, 0);
        QVERIFY(std::abs(b.dotsNatural[0].x - pos.x[1]) < 1e-12 && std::abs(b.dotsNatural[0].y - pos.y[1]) < 1e-12);
        // Act-order: the first dot holds the three columns with the largest H_jj.
        QCOMPARE(b.actOrder, GraphLayout::actOrder(dense.diagonal));
        const GraphLayout act = GraphLayout::circular({}, n, b.actOrder, 0);
        QVERIFY(std::abs(b.dotsActOrder[0].x - act.x[size_t(b.actOrder[1])]) < 1e-12);
        // Up to maxDots columns: one dot per column, at the column's own place.
        const auto one = HessianGraphSummary::compute(sparse, 16, 10, 64);
        QCOMPARE(one.columnsPerDot, int64_t(1));
        QCOMPARE(one.dotsNatural.size(), size_t(n));
        QCOMPARE(one.dotsNatural[5].bits, int(dense.bits[5]));
    }
    void knobScaleRoundTrips()
    {
        const KnobScale lin = KnobScale::covering({3.0, 4.0, 3.5}, false, 100);
        QCOMPARE(lin.value(0), 3.0);
        QCOMPARE(lin.value(100), 4.0);
        QCOMPARE(lin.position(3.5), 50);
        QCOMPARE(lin.position(99.0), 100);
        const KnobScale lg = KnobScale::covering({0.01, 1.0, 0.1}, true, 100);
        QVERIFY(lg.logarithmic);
        QVERIFY(std::abs(lg.value(50) - 0.1) < 1e-12);
        QCOMPARE(lg.position(0.1), 50);
        const KnobScale withZero = KnobScale::covering({0.0, 1.0}, true, 10);
        QVERIFY(!withZero.logarithmic); // α = 0 cannot sit on a log axis
        const KnobScale single = KnobScale::covering({3.5}, false, 10);
        QCOMPARE(single.value(0), 3.0);
        QCOMPARE(single.value(10), 4.0);
    }
    void nearestPoint()
    {
        TradeoffSeries s;
        QCOMPARE(s.nearest(1.0), -1);
        s.points = {{0.01, 4, 10, "a"}, {0.1, 3, 11, "b"}, {1.0, 2, 15, "c"}};
        QCOMPARE(s.nearest(0.0), 0);
        QCOMPARE(s.nearest(0.4), 1);
        QCOMPARE(s.nearest(0.9), 2);
    }
    void tradeoffSeriesOnePerKnob()
    {
        // Issue 21, defect 1: MG-PTQ runs with α and with target bits were one series, so the α
        // slider read "α = 1.88 → mgptq-target2.5" and could not reach α = 3.
        Workbench wb;
        const auto add = [&](const QString& name, const QString& method, const QString& axis, double v, double bits) {
            RunData r;
            r.name = name;
            r.method = method;
            r.sweepAxis = axis;
            r.sweepValue = v;
            r.avgBits = bits - 0.25;
            r.avgBitsWithOverhead = bits;
            r.complete = true;
            r.perplexity[QStringLiteral("wikitext2")] = 20 - bits;
            wb.upsert(r);
        };
        add(QStringLiteral("gptq-4bit"), QStringLiteral("gptq"), QStringLiteral("bits"), 4, 4.25);
        add(QStringLiteral("mgptq-target3"), QStringLiteral("mgptq-gcn"), QStringLiteral("target-bits"), 3, 3.2);
        add(QStringLiteral("mgptq-target2.5"), QStringLiteral("mgptq-gcn"), QStringLiteral("target-bits"), 2.5, 2.7);
        for (double a : {0.3, 1.0, 3.0, 10.0, 30.0})
            add(QStringLiteral("mgptq-alpha%1").arg(a), QStringLiteral("mgptq-gcn"), QStringLiteral("alpha"), a, 4.2 - 0.4 * std::log10(a));
        const std::vector<TradeoffSeries> series = wb.tradeoff(QStringLiteral("wikitext2"));
        QCOMPARE(series.size(), size_t(3));
        const TradeoffSeries* alpha = nullptr;
        for (const auto& s : series) {
            for (const auto& p : s.points)
                QCOMPARE(Workbench::knobAxis(*wb.run(p.run)), s.axis); // no series mixes knobs
            if (s.axis == QLatin1String("alpha"))
                alpha = &s;
        }
        QVERIFY(alpha);
        QCOMPARE(alpha->method, QStringLiteral("MG-PTQ (GCN) · α"));
        QCOMPARE(alpha->family, QStringLiteral("MG-PTQ (GCN)"));
        QCOMPARE(alpha->knobName, QStringLiteral("α"));
        QCOMPARE(alpha->points.size(), size_t(5));
        // Every α is reachable on the slider's log scale: the nearest point at its position is it.
        std::vector<double> knobs;
        for (const auto& p : alpha->points)
            knobs.push_back(p.knob);
        const KnobScale scale = KnobScale::covering(knobs, true);
        for (size_t i = 0; i < alpha->points.size(); ++i)
            QCOMPARE(alpha->nearest(scale.value(scale.position(alpha->points[i].knob))), int(i));
        // A family with one knob keeps its plain name.
        QCOMPARE(series.front().method, QStringLiteral("GPTQ"));
        QCOMPARE(Workbench::knobText(*wb.run(QStringLiteral("mgptq-target2.5"))), QStringLiteral("target 2.5"));
        QCOMPARE(Workbench::knobText(*wb.run(QStringLiteral("mgptq-alpha3"))), QStringLiteral("α 3"));
        QCOMPARE(Workbench::knobText(*wb.run(QStringLiteral("gptq-4bit"))), QStringLiteral("4 bit"));
    }
    void perplexityLabelsTellRunsApart()
    {
        // Issue 21: "MG-PTQ (GCN) 2.24 b" three times. Labels now carry the knob, and the run name
        // where two entries still read the same.
        Workbench wb;
        for (auto [name, axis, v] : {std::tuple{"mg-a", "target-bits", 2.5}, {"mg-b", "alpha", 1.0}, {"mg-c", "alpha", 1.0}}) {
            RunData r;
            r.name = QString::fromLatin1(name);
            r.method = QStringLiteral("mgptq-gcn");
            r.sweepAxis = QString::fromLatin1(axis);
            r.sweepValue = v;
            r.avgBitsWithOverhead = 2.24;
            r.complete = true;
            r.perplexity[QStringLiteral("wikitext2")] = 30;
            wb.upsert(r);
        }
        const PerplexityTable t = wb.perplexityTable({QStringLiteral("wikitext2")});
        QCOMPARE(t.entries.size(), size_t(3));
        QSet<QString> labels;
        for (size_t i = 0; i < t.entries.size(); ++i)
            labels.insert(t.label(i));
        QCOMPARE(labels.size(), 3);
        QVERIFY(labels.contains(QStringLiteral("MG-PTQ (GCN)\ntarget 2.5 · 2.24 b")));
        QVERIFY(labels.contains(QStringLiteral("MG-PTQ (GCN)\nα 1 · 2.24 b\nmg-b")));
    }
    void evaluatedDatasetsIncludeTextFiles()
    {
        // Issue 15: runs evaluated on the demo's own text (by path) were missing from the
        // perplexity view, which asked only for wikitext2 and c4.
        Workbench wb;
        QCOMPARE(wb.evaluatedDatasets(), QStringList());
        RunData r;
        r.name = QStringLiteral("gptq-4bit");
        r.method = QStringLiteral("gptq");
        r.complete = true;
        r.avgBitsWithOverhead = 4.1;
        r.perplexity[QStringLiteral("/tmp/demo/demo-valid.txt")] = 1.4;
        wb.upsert(r);
        wb.reference[QStringLiteral("/tmp/demo/demo-valid.txt")] = 1.37;
        QCOMPARE(wb.evaluatedDatasets(), QStringList{QStringLiteral("/tmp/demo/demo-valid.txt")});
        r.name = QStringLiteral("gptq-3bit");
        r.perplexity[QStringLiteral("c4")] = 9;
        r.perplexity[QStringLiteral("wikitext2")] = 8;
        wb.upsert(r);
        r.name = QStringLiteral("running");
        r.complete = false;
        r.perplexity.clear();
        r.perplexity[QStringLiteral("unfinished.txt")] = 2;
        wb.upsert(r);
        QCOMPARE(wb.evaluatedDatasets(), (QStringList{QStringLiteral("wikitext2"), QStringLiteral("c4"),
                                                      QStringLiteral("/tmp/demo/demo-valid.txt")}));
        const PerplexityTable t = wb.perplexityTable(wb.evaluatedDatasets());
        QCOMPARE(t.entries.size(), size_t(2));
        QCOMPARE(t.reference.back(), 1.37);
    }
    void logTicksHaveDistinctLabels()
    {
        // Issue 21: repeated colour-scale tick labels inside one decade.
        for (const LogScale s : {LogScale{1.1e-3, 1.9e-3}, LogScale{2e-4, 9e-4}, LogScale{1e-4, 1.0}, LogScale{3e-3, 0.2},
                                 LogScale{0.5, 0.55}}) {
            const std::vector<double> ticks = s.ticks();
            QSet<QString> labels;
            for (double t : ticks) {
                QVERIFY(t >= s.lo * (1 - 1e-9) && t <= s.hi * (1 + 1e-9));
                labels.insert(QString::number(t, 'g', 2));
            }
            QCOMPARE(labels.size(), int(ticks.size()));
            QVERIFY(ticks.size() <= 6);
            QVERIFY2(ticks.size() >= 2, qPrintable(QStringLiteral("%1..%2").arg(s.lo).arg(s.hi)));
        }
        QCOMPARE(LogScale({1e-4, 1.0}).ticks(), (std::vector<double>{1e-4, 1e-3, 1e-2, 1e-1, 1.0}));
    }
    void rowLabelStride()
    {
        QCOMPARE(BitMapView::labelStride(20.0, 12.0), 1);
        QCOMPARE(BitMapView::labelStride(5.0, 12.0), 3);   // 56 rows in 280 px: every third row
        QCOMPARE(BitMapView::labelStride(0.0, 12.0), 1);
    }
    void exportPathTakesTheFilterSuffix()
    {
        // Issue 21: exporting to a name without an extension failed with unknown format "".
        QCOMPARE(PlotView::withFilterSuffix(QStringLiteral("/tmp/plot"), QStringLiteral("SVG drawing (*.svg)")),
                 QStringLiteral("/tmp/plot.svg"));
        QCOMPARE(PlotView::withFilterSuffix(QStringLiteral("/tmp/plot.pdf"), QStringLiteral("SVG drawing (*.svg)")),
                 QStringLiteral("/tmp/plot.pdf"));
        QCOMPARE(PlotView::withFilterSuffix(QStringLiteral("/tmp/plot"), QString()), QStringLiteral("/tmp/plot"));
    }
    void durations()
    {
        QCOMPARE(DurationText::format(4.4), QStringLiteral("4 s"));
        QCOMPARE(DurationText::format(187), QStringLiteral("3 min 07 s"));
        QCOMPARE(DurationText::format(3720), QStringLiteral("1 h 02 min"));
        QCOMPARE(DurationText::format(-1), QStringLiteral("unknown"));
    }
};

QTEST_APPLESS_MAIN(TestMapping)
#include "tst_mapping.moc"
