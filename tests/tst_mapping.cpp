// Mapping maths behind the views, tested without a window.
#include "BitPalette.h"
#include "DurationText.h"
#include "GraphLayout.h"
#include "KnobScale.h"
#include "LogScale.h"
#include "TradeoffSeries.h"

#include <QtTest>

#include <cmath>

using namespace mpq::gui;

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
