#include "PerplexityTable.h"

namespace mpq::gui {

QString PerplexityTable::label(size_t i) const
{
    const Entry& e = entries[i];
    const auto base = [](const Entry& x) {
        return x.knob.isEmpty() ? QStringLiteral("%1\n%2 b").arg(x.method).arg(x.avgBits, 0, 'f', 2)
                                : QStringLiteral("%1\n%2 · %3 b").arg(x.method, x.knob).arg(x.avgBits, 0, 'f', 2);
    };
    const QString text = base(e);
    for (size_t j = 0; j < entries.size(); ++j)
        if (j != i && base(entries[j]) == text)
            return text + QStringLiteral("\n") + e.run;
    return text;
}

} // namespace mpq::gui
