// mpq-synth-7b DIR [--seed N]: writes a synthetic LLaMA-7B-shaped workspace into DIR — five result
// folders (224 matrices, 4096/11008 columns; GPTQ 4/3 bits, MG-PTQ target 3/2.5, MXQ 3.5) and the
// session DIR/synthetic-7b.h5 (their perplexities) that `mpq-workbench DIR/synthetic-7b.h5` opens. No weights:
// only the records the views read; errors, perplexities and times are invented (SyntheticRuns.h).
#include "SyntheticRuns.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QStringList>

#include <cstdio>
#include <exception>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2 || args[1].startsWith(QLatin1Char('-'))) {
        std::fprintf(stderr, "usage: mpq-synth-7b DIR [--seed N]\n");
        return 2;
    }
    unsigned seed = 7;
    const qsizetype s = args.indexOf(QStringLiteral("--seed"));
    if (s > 0 && s + 1 < args.size())
        seed = args[s + 1].toUInt();
    try {
        QElapsedTimer t;
        t.start();
        const mpq::gui::Workbench wb = mpq::gui::SyntheticRuns::llama7b(seed);
        const QString session = mpq::gui::SyntheticRuns::writeWorkspace(wb, args[1]);
        std::printf("%s\n", qPrintable(session));
        for (const auto& r : wb.runs)
            std::printf("  %-28s %3zu matrices, %.3f code bits, %.3f with overhead\n", qPrintable(r.name),
                        r.matrices.size(), r.avgBits, r.avgBitsWithOverhead);
        std::printf("written in %.1f s\n", double(t.elapsed()) / 1e3);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpq-synth-7b: %s\n", e.what());
        return 1;
    }
    return 0;
}
