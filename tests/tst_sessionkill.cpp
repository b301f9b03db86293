// Crash safety of session files, proven the hard way: `mpq quantize --session` on the embedded
// demo model (5 decoder layers; every clone, no MPQ_DATA_DIR) is
// killed with SIGKILL after a pseudo-random delay (a fixed list of seeds), then the session must
// open, `mpq quantize --resume` must finish the run, and its quantized codes, scales and zeros
// must equal an uninterrupted run's bit for bit. Also: Ctrl-C leaves a valid, resumable session,
// and bad session files give one clear message with exit status 1 from the CLI.
#include "TestData.h"

#include "core/Error.h"
#include "runs/detail/QuantizedRun.h"
#include "session/Session.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QThread>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <random>

#ifndef MPQ_CLI_PATH
#error "MPQ_CLI_PATH must name the mpq executable (tests/session.cmake)"
#endif

using namespace mpq;

namespace {

struct Run {
    int exitCode = -1;
    bool crashed = false;
    QString err;
    QString out;
    qint64 ms = 0;
};

QStringList quantizeArgs(const mpq::DemoModel& demo, const QString& session)
{
    return {"quantize", QString::fromStdString(demo.dir), "--method", "gptq", "--bits", "3", "--nsamples", "8",
            "--seqlen", "64", "--calib", QString::fromStdString(demo.calibText), "--session", session};
}

/// Runs mpq to the end, or kills it with SIGKILL `killAfterMs` (when ≥ 0) after it started or,
/// when `trigger` is given, after that file appeared. `sinceTrigger` receives the milliseconds
/// from the trigger to the end.
Run runMpq(const QStringList& args, int killAfterMs = -1, const QString& trigger = {}, qint64* sinceTrigger = nullptr)
{
    QProcess p;
    QElapsedTimer t;
    t.start();
    p.start(QStringLiteral(MPQ_CLI_PATH), args);
    Run r;
    if (!p.waitForStarted(10000))
        return r;
    QElapsedTimer tt;
    tt.start();
    if (!trigger.isEmpty()) {
        while (!QFile::exists(trigger) && p.state() == QProcess::Running && t.elapsed() < 120000)
            QThread::usleep(200);
        tt.restart();
    }
    if (killAfterMs >= 0 && !p.waitForFinished(killAfterMs)) {
        p.kill(); // SIGKILL
        p.waitForFinished(10000);
        r.crashed = true;
    } else {
        p.waitForFinished(120000);
    }
    r.ms = t.elapsed();
    if (sinceTrigger)
        *sinceTrigger = tt.elapsed();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.crashed = r.crashed || p.exitStatus() != QProcess::NormalExit;
    r.err = QString::fromUtf8(p.readAllStandardError());
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    return r;
}

/// The stored codes/scales/zeros of two runs are equal bit for bit.
bool sameQuantizedWeights(const std::string& a, const std::string& b, QString* why)
{
    const auto ra = mpq::detail::openQuantizedRun(a);
    const auto rb = mpq::detail::openQuantizedRun(b);
    if (ra->layers() != rb->layers()) {
        *why = "different stored layers";
        return false;
    }
    for (int64_t i : ra->layers()) {
        const auto la = ra->layer(i);
        const auto lb = rb->layer(i);
        if (la.size() != lb.size()) {
            *why = QString("layer %1: different matrix counts").arg(i);
            return false;
        }
        for (size_t k = 0; k < la.size(); ++k) {
            const auto& qa = la[k].second;
            const auto& qb = lb[k].second;
            if (la[k].first != lb[k].first || !at::equal(qa.codes, qb.codes) || !at::equal(qa.scales, qb.scales) ||
                !at::equal(qa.zeros, qb.zeros) || !at::equal(qa.slotOfColumn, qb.slotOfColumn)) {
                *why = QString::fromStdString(la[k].first) + " differs";
                return false;
            }
        }
    }
    return true;
}

} // namespace

class TestSessionKill : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        MPQ_DEMO_MODEL(demo);
        m_demo = demo;
        m_ref = m_dir.filePath("reference.h5");
        const Run r = runMpq(quantizeArgs(m_demo, m_ref), -1, m_ref + ".journal/gptq-1/header.h5", &m_runMs);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        m_refMs = r.ms;
        qInfo("uninterrupted run: %lld ms in all, %lld ms from the run's registration to the end", (long long)m_refMs,
              (long long)m_runMs);
    }

    void killAtRandomPointsThenResume_data()
    {
        QTest::addColumn<int>("seed");
        for (int seed : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
            QTest::newRow(qPrintable(QString("seed %1").arg(seed))) << seed;
    }

    void killAtRandomPointsThenResume()
    {
        QFETCH(int, seed);
        const QString file = m_dir.filePath(QString("killed-%1.h5").arg(seed));
        std::mt19937 gen{uint32_t(seed)};
        // Most kill points fall between the run's registration in the session (its journal
        // header) and its end — layers being written, the final merge — the rest anywhere from
        // process start.
        const bool fromStart = seed % 4 == 0;
        const double span = double(fromStart ? m_refMs : m_runMs);
        const int delay = int(std::uniform_real_distribution<double>(0.0, 1.05)(gen) * span);
        const Run killed = runMpq(quantizeArgs(m_demo, file), delay,
                                  fromStart ? QString() : file + ".journal/gptq-1/header.h5");
        QString outcome;
        int resumes = 0;
        if (!killed.crashed) {
            QVERIFY2(killed.exitCode == 0, qPrintable(killed.err));
            outcome = "finished before the kill";
        } else if (!QFile::exists(file)) {
            outcome = "killed before the session existed";
        }
        if (QFile::exists(file)) {
            // The session opens, whatever moment the kill hit.
            const Run ls = runMpq({"session", "ls", file, "--json"});
            QVERIFY2(ls.exitCode == 0, qPrintable(ls.err));
            const session::Session s = session::Session::open(file.toStdString());
            if (killed.crashed && !s.runs().empty()) {
                const session::RunInfo r = s.run("gptq-1");
                outcome = QString("killed %1 ms after %2 with %3 of 5 layers stored, status %4")
                              .arg(delay)
                              .arg(fromStart ? "the start" : "the run's registration")
                              .arg(r.layersDone.size())
                              .arg(session::statusName(r.status));
                // Resume, itself killed once for odd seeds, then resumed to the end.
                if (seed % 2 == 1 && r.status != session::RunStatus::Complete) {
                    const Run k2 = runMpq({"quantize", "--resume", file},
                                          int(std::uniform_real_distribution<double>(0.0, 1.0)(gen) * double(m_runMs)),
                                          file + ".journal/gptq-1/header.h5");
                    QVERIFY(k2.crashed || k2.exitCode == 0);
                    ++resumes;
                }
                if (session::Session::open(file.toStdString()).run("gptq-1").status != session::RunStatus::Complete) {
                    const Run res = runMpq({"quantize", "--resume", file, "--json"});
                    QVERIFY2(res.exitCode == 0, qPrintable(res.err));
                    ++resumes;
                }
            } else if (killed.crashed) {
                outcome = QString("killed at %1 ms before the run was registered").arg(delay);
            }
        }
        if (!QFile::exists(file) || session::Session::open(file.toStdString()).runs().empty()) {
            const Run again = runMpq(quantizeArgs(m_demo, file));
            QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        }
        const session::RunInfo done = session::Session::open(file.toStdString()).run("gptq-1");
        QCOMPARE(done.status, session::RunStatus::Complete);
        QString why;
        QVERIFY2(sameQuantizedWeights(m_ref.toStdString() + "#gptq-1", file.toStdString() + "#gptq-1", &why),
                 qPrintable(why));
        qInfo("seed %d: %s; %d resume(s); bit-identical", seed, qPrintable(outcome), resumes);
    }

    void ctrlCLeavesAResumableSession()
    {
        const QString file = m_dir.filePath("interrupted.h5");
        QProcess p;
        p.start(QStringLiteral(MPQ_CLI_PATH), quantizeArgs(m_demo, file));
        QVERIFY(p.waitForStarted(10000));
        // SIGINT once the run exists in the session (its journal appears), before it ends.
        QElapsedTimer t;
        t.start();
        while (!QFile::exists(file + ".journal/gptq-1/header.h5") && t.elapsed() < 60000 &&
               p.state() == QProcess::Running)
            QThread::msleep(2);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        if (p.exitCode() == 0)
            QSKIP("the run finished before Ctrl-C reached it");
        QCOMPARE(p.exitCode(), 130);
        QVERIFY2(err.contains("--resume"), qPrintable(err));
        const session::RunInfo r = session::Session::open(file.toStdString()).run("gptq-1");
        QCOMPARE(r.status, session::RunStatus::Cancelled);
        QVERIFY(!QFile::exists(file + ".journal/gptq-1")); // merged into the file
        const Run res = runMpq({"quantize", "--resume", file + "#gptq-1"});
        QVERIFY2(res.exitCode == 0, qPrintable(res.err));
        QString why;
        QVERIFY2(sameQuantizedWeights(m_ref.toStdString() + "#gptq-1", file.toStdString() + "#gptq-1", &why),
                 qPrintable(why));
        // A complete run cannot be resumed; an unknown run is named.
        const Run again = runMpq({"quantize", "--resume", file + "#gptq-1"});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.err.contains("is complete"), qPrintable(again.err));
    }

    void cliReportsBadSessions()
    {
        const QString junk = m_dir.filePath("junk.h5");
        const QString valid = QString::fromStdString(m_demo.validText); // no MPQ_DATA_DIR needed
        {
            QFile f(junk);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(1000, 'x'));
        }
        for (const QStringList& args :
             {QStringList{"session", "ls", junk}, QStringList{"eval", junk + "#gptq-1", "--dataset", valid},
              QStringList{"quantize", "--resume", junk}, QStringList{"session", "ls", m_dir.filePath("none.h5")},
              QStringList{"eval", m_ref + "#nope", "--dataset", valid}}) {
            const Run r = runMpq(args);
            QVERIFY2(!r.crashed && r.exitCode == 1, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.startsWith("mpq ") && r.err.count('\n') == 1, qPrintable(r.err));
        }
        const Run ls = runMpq({"session", "ls", m_ref});
        QCOMPARE(ls.exitCode, 0);
        QVERIFY2(ls.out.contains("gptq-1") && ls.out.contains("complete") && ls.out.contains("5/5"),
                 qPrintable(ls.out));
        const Run usage = runMpq({"session", "frobnicate"});
        QCOMPARE(usage.exitCode, 2);
    }

private:
    QTemporaryDir m_dir;
    mpq::DemoModel m_demo;
    QString m_ref;
    qint64 m_refMs = 0;
    qint64 m_runMs = 0;
};

QTEST_GUILESS_MAIN(TestSessionKill)
#include "tst_sessionkill.moc"
