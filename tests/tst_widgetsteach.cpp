// Teaching mode's GPTQ view (issue 19): steps, text, controls, keys and CSV on a small trace.
// Offscreen.
#include "GptqTeachView.h"
#include "MgptqTeachView.h"
#include "MxqTeachView.h"

#include "quant/GptqTrace.h"

#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTextStream>
#include <QtTest>

#include <random>

using namespace mpq;
using namespace mpq::gui;

namespace {

std::shared_ptr<const GptqTrace> smallTrace()
{
    const int64_t rows = 12, cols = 20;
    std::mt19937 gen(5);
    std::normal_distribution<float> n;
    std::vector<float> W(size_t(rows * cols)), X(size_t(60 * cols)), H(size_t(cols * cols), 0.0f);
    for (auto& w : W)
        w = n(gen);
    for (auto& x : X)
        x = n(gen);
    for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = 0; j < cols; ++j)
            for (int64_t k = 0; k < 60; ++k)
                H[size_t(i * cols + j)] += X[size_t(k * cols + i)] * X[size_t(k * cols + j)] / 30.0f;
    GptqTraceOptions o;
    o.bits = 3;
    o.blockSize = 8;
    return std::make_shared<const GptqTrace>(traceGptq(W, rows, cols, H, o));
}

QWidget* plotWidget(QWidget* view)
{
    for (QWidget* w : view->findChildren<QWidget*>())
        if (QString::fromLatin1(w->metaObject()->className()) == QLatin1String("QCustomPlot"))
            return w;
    return nullptr;
}

} // namespace

class TestWidgetsTeach : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stepsAndText()
    {
        GptqTeachView v;
        QVERIFY(!v.hasTrace());
        QVERIFY(v.caption().contains(QStringLiteral("Teaching mode")));
        const auto t = smallTrace();
        v.setTrace(t, QStringLiteral("test matrix"));
        QCOMPARE(v.steps(), 20 + 2); // 20 columns, blocks of 8: two lazy updates
        QCOMPARE(v.step(), 0);
        QVERIFY(v.stepText().contains(QStringLiteral("Start")));
        QVERIFY(v.caption().contains(QStringLiteral("test matrix (12 × 20), 3 bits")));
        v.next();
        QCOMPARE(v.step(), 1);
        QVERIFY(v.stepText().contains(QStringLiteral("quantize column 0")));
        QVERIFY(v.stepText().contains(QString::number(t->steps[0].loss, 'g', 3)));
        v.setStep(9); // after columns 0..7: the first block's update
        QVERIFY(v.stepText().contains(QStringLiteral("lazy batch update")));
        QVERIFY(v.stepText().contains(QStringLiteral("Block 0–7")));
        v.setStep(8); // column 7: the last of its block
        QVERIFY(v.stepText().contains(QStringLiteral("last column of its block")));
        v.setStep(1000);
        QCOMPARE(v.step(), v.steps());
        v.next();
        QCOMPARE(v.step(), v.steps());
        v.setStep(-4);
        QCOMPARE(v.step(), 0);
        v.previous();
        QCOMPARE(v.step(), 0);
        auto* prev = v.findChildren<QPushButton*>().front();
        QVERIFY(!prev->isEnabled());
        // The slider follows and drives.
        auto* slider = v.findChild<QSlider*>(QStringLiteral("teachSlider"));
        slider->setValue(5);
        QCOMPARE(v.step(), 5);
        v.setStep(7);
        QCOMPARE(slider->value(), 7);
    }

    void playAndKeys()
    {
        GptqTeachView v;
        v.setTrace(smallTrace(), QStringLiteral("m"));
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        v.setPlaying(true);
        QVERIFY(v.playing());
        QTRY_VERIFY_WITH_TIMEOUT(v.step() >= 2, 5000);
        v.setPlaying(false);
        const int at = v.step();
        QTest::qWait(800);
        QCOMPARE(v.step(), at);
        QWidget* plot = plotWidget(&v);
        plot->setFocus();
        QTest::keyClick(plot, Qt::Key_Home);
        QCOMPARE(v.step(), 0);
        QTest::keyClick(plot, Qt::Key_Right);
        QCOMPARE(v.step(), 1);
        QTest::keyClick(plot, Qt::Key_End);
        QCOMPARE(v.step(), v.steps());
        QTest::keyClick(plot, Qt::Key_Left);
        QCOMPARE(v.step(), v.steps() - 1);
        // Play at the end starts again from the beginning.
        v.setStep(v.steps());
        v.setPlaying(true);
        QCOMPARE(v.step(), 0);
        v.setPlaying(false);
        // A message clears the trace and the controls.
        v.setMessage(QStringLiteral("nothing"));
        QVERIFY(!v.hasTrace());
        QVERIFY(!v.playing());
        QCOMPARE(v.caption(), QStringLiteral("nothing"));
    }

    void csvIsTheCurrentStep()
    {
        GptqTeachView v;
        const auto t = smallTrace();
        v.setTrace(t, QStringLiteral("m"));
        v.setStep(3);
        QString text;
        QTextStream out(&text);
        QVERIFY(v.writeCsv(out));
        const QStringList lines = text.trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 1 + 12 * 20);
        QCOMPARE(lines[0], QStringLiteral("step,row,column,weight,change"));
        const QStringList f = lines[1 + 5 * 20 + 2].split(QLatin1Char(',')); // row 5, column 2
        QCOMPARE(f[0], QStringLiteral("3"));
        QCOMPARE(f[3].toFloat(), t->steps[2].weights[size_t(5 * 20 + 2)]);
    }

    void mgptqFrames()
    {
        // A hand-made trace: 4 columns, widths {2, 4}, three frames sharpening.
        auto t = std::make_shared<MgptqTrace>();
        t->allocator = "mgptq-gcn";
        t->cols = 4;
        t->widths = {2, 4};
        t->knob = "α 1";
        t->epochs = 3;
        t->columnBits = {2, 4, 4, 2};
        for (int e = 0; e < 3; ++e) {
            MgptqTraceFrame f;
            f.epoch = e;
            f.tau = 1.0 / (e + 1);
            const float hi = 0.5f + 0.2f * float(e);
            for (int j = 0; j < 4; ++j) {
                const bool four = j == 1 || j == 2;
                f.probabilities.insert(f.probabilities.end(), {four ? 1 - hi : hi, four ? hi : 1 - hi});
                f.sample.insert(f.sample.end(), {four ? 1 - hi : hi, four ? hi : 1 - hi});
            }
            f.expectedBits = 3;
            f.argmaxBits = 3;
            t->frames.push_back(f);
        }
        MgptqTeachView v;
        QVERIFY(!v.hasTrace());
        v.setTrace(t, QStringLiteral("m"));
        QCOMPARE(v.frames(), 3);
        QCOMPARE(v.frame(), 0);
        QVERIFY(v.caption().contains(QStringLiteral("widths {2, 4}, α 1, 3 epochs")));
        QVERIFY(v.frameText().contains(QStringLiteral("Epoch 1 of 3")));
        QVERIFY(v.frameText().contains(QStringLiteral("soft mixtures")));
        v.setFrame(2);
        QVERIFY(v.frameText().contains(QStringLiteral("nearly one-hot")));
        QVERIFY(v.frameText().contains(QStringLiteral("τ = 0.333")));
        v.setFrame(99);
        QCOMPARE(v.frame(), 2);
        v.setPlaying(true); // from the end: starts again
        QCOMPARE(v.frame(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(v.frame(), 2, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!v.playing(), 5000); // stops at the last frame
        v.setMessage(QStringLiteral("none"));
        QVERIFY(!v.hasTrace());
    }

    void mxqWalkPlayback()
    {
        // Two matrices, three configurations; the MIP's (the run's) choice given.
        auto run = std::make_shared<session::MxqRunChoice>();
        run->table.configs = parseMxqConfigs("b2g64,b3g64,b4g64");
        for (auto [name, cost] : {std::pair<const char*, std::vector<double>>{"a", {10, 4, 3}}, {"b", {8, 6, 1}}}) {
            MxqMatrixCosts m;
            m.tensor = name;
            m.linear = name;
            m.rows = 1;
            m.cols = 1;
            m.cost = cost;
            m.storageBits = {2, 3, 4};
            run->table.matrices.push_back(m);
        }
        run->budgetBits = 7.5;
        run->budgetSource = "test";
        run->choice = {2, 1}; // differs from the walk's {1, 2} in both
        MxqTeachView v;
        QVERIFY(!v.hasRun());
        v.setRun(run, QStringLiteral("mx"));
        QCOMPARE(v.steps(), 2 + 1); // two moves fit, then the MIP
        QVERIFY(v.caption().contains(QStringLiteral("2 matrices × 3 configurations")));
        QVERIFY(v.stepText().contains(QStringLiteral("Start")));
        v.setStep(1);
        QVERIFY(v.stepText().contains(QStringLiteral("Move 1 of 2")));
        QVERIFY(v.stepText().contains(QStringLiteral("from b2g64 to b3g64")));
        QVERIFY(v.stepText().contains(QStringLiteral("6 saved per bit")));
        v.setStep(3);
        QVERIFY(v.stepText().contains(QStringLiteral("budget is reached")));
        QVERIFY(v.stepText().contains(QStringLiteral("1 per bit"))); // the blocked move: λ
        QVERIFY(v.stepText().contains(QStringLiteral("differs from the walk in 2 matrices")));
        QCOMPARE(v.walk().greedyChoice, (std::vector<int>{1, 2}));
        v.setStep(-1);
        QCOMPARE(v.step(), 0);
        v.setMessage(QStringLiteral("none"));
        QVERIFY(!v.hasRun());
    }
};

QTEST_MAIN(TestWidgetsTeach)
#include "tst_widgetsteach.moc"
