#include "Workbench.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mpq::gui {

RunData* Workbench::run(const QString& name)
{
    for (auto& r : runs)
        if (r.name == name)
            return &r;
    return nullptr;
}

const RunData* Workbench::run(const QString& name) const
{
    return const_cast<Workbench*>(this)->run(name);
}

void Workbench::upsert(const RunData& r)
{
    if (RunData* existing = run(r.name))
        *existing = r;
    else
        runs.push_back(r);
}

QString Workbench::uniqueName(const QString& base) const
{
    if (!run(base))
        return base;
    for (int i = 2;; ++i) {
        const QString name = QStringLiteral("%1-%2").arg(base).arg(i);
        if (!run(name))
            return name;
    }
}

QString Workbench::familyName(const QString& method)
{
    if (method == QLatin1String("gptq"))
        return QStringLiteral("GPTQ");
    if (method == QLatin1String("rtn"))
        return QStringLiteral("RTN");
    if (method == QLatin1String("hqq"))
        return QStringLiteral("HQQ");
    if (method == QLatin1String("mgptq-gcn") || method == QLatin1String("mgptq"))
        return QStringLiteral("MG-PTQ (GCN)");
    if (method == QLatin1String("mgptq-mlp"))
        return QStringLiteral("MG-PTQ (MLP)");
    if (method == QLatin1String("hessian-greedy"))
        return QStringLiteral("Hessian-greedy");
    if (method == QLatin1String("mxq"))
        return QStringLiteral("MXQ");
    return method;
}

QString Workbench::knobAxis(const RunData& r)
{
    if (r.method == QLatin1String("mxq"))
        return QStringLiteral("budget");
    if (r.sweepAxis == QLatin1String("alpha") || r.sweepAxis == QLatin1String("target-bits"))
        return r.sweepAxis;
    return QStringLiteral("bits");
}

QString Workbench::knobName(const QString& axis)
{
    if (axis == QLatin1String("alpha"))
        return QStringLiteral("α");
    if (axis == QLatin1String("target-bits"))
        return QStringLiteral("target bits");
    if (axis == QLatin1String("budget"))
        return QStringLiteral("budget (bits/weight)");
    return QStringLiteral("bits");
}

namespace {
/// The knob value of a run on its axis.
double knobOf(const RunData& r, const QString& axis)
{
    if (axis == QLatin1String("budget"))
        // A budget is bits per weight with overhead; a run opened on its own has no sweep value.
        return r.sweepAxis.isEmpty() ? r.avgBitsWithOverhead : r.sweepValue;
    if (axis == QLatin1String("bits"))
        return r.sweepAxis == QLatin1String("bits") && r.sweepValue > 0 ? r.sweepValue : std::round(r.avgBits);
    return r.sweepValue;
}
} // namespace

QString Workbench::knobText(const RunData& r)
{
    const QString axis = knobAxis(r);
    const double v = knobOf(r, axis);
    if (axis == QLatin1String("alpha"))
        return QStringLiteral("α %1").arg(v, 0, 'g', 3);
    if (axis == QLatin1String("target-bits"))
        return QStringLiteral("target %1").arg(v, 0, 'g', 3);
    if (axis == QLatin1String("budget"))
        return QStringLiteral("budget %1").arg(v, 0, 'g', 3);
    return v > 0 ? QStringLiteral("%1 bit").arg(v, 0, 'g', 2) : QString();
}

std::vector<TradeoffSeries> Workbench::tradeoff(const QString& dataset) const
{
    std::map<std::pair<QString, QString>, TradeoffSeries> byKnob;
    for (const RunData& r : runs) {
        if (!r.complete || isGguf(r.method))
            continue; // GGUF runs have their own view (ggufRuns)
        const QString family = familyName(r.method);
        const QString axis = knobAxis(r);
        TradeoffSeries& s = byKnob[{family, axis}];
        s.family = family;
        s.axis = axis;
        s.knobName = knobName(axis);
        s.liveResolve = axis == QLatin1String("budget");
        TradeoffPoint p;
        p.knob = knobOf(r, axis);
        p.avgBits = r.avgBitsWithOverhead;
        p.perplexity = r.perplexity.value(dataset, -1.0);
        p.run = r.name;
        s.points.push_back(p);
    }
    // A family with one knob keeps its plain name; with several, each series names its knob.
    std::map<QString, int> knobsOfFamily;
    for (const auto& [key, s] : byKnob)
        ++knobsOfFamily[key.first];
    std::vector<TradeoffSeries> out;
    for (auto& [key, s] : byKnob) {
        s.method = knobsOfFamily[key.first] > 1 ? QStringLiteral("%1 · %2").arg(s.family, s.knobName) : s.family;
        std::stable_sort(s.points.begin(), s.points.end(),
                         [](const TradeoffPoint& a, const TradeoffPoint& b) { return a.knob < b.knob; });
        out.push_back(std::move(s));
    }
    return out;
}

bool Workbench::isGguf(const QString& method) { return method.startsWith(QLatin1String("gguf")); }

std::vector<GgufRunPoint> Workbench::ggufRuns(const QString& dataset) const
{
    std::vector<GgufRunPoint> out;
    for (const RunData& r : runs) {
        if (!r.complete || !isGguf(r.method))
            continue;
        GgufRunPoint p;
        p.run = r.name;
        p.preset = r.method != QLatin1String("gguf-mxq");
        p.label = !r.ggufMix.isEmpty() ? r.ggufMix : p.preset ? r.method.mid(5) : QStringLiteral("MIP");
        // Session runs do not keep the CLI's extra: their matrices' average (F16 ones are not
        // among them) stands in.
        p.bitsPerWeight = r.ggufBitsPerWeight > 0 ? r.ggufBitsPerWeight : r.avgBitsWithOverhead;
        p.perplexity = r.perplexity.value(dataset, -1.0);
        out.push_back(p);
    }
    if (reference.value(dataset, -1.0) > 0) {
        GgufRunPoint p;
        p.run = QStringLiteral("unquantized model");
        p.label = QStringLiteral("16-bit");
        p.bitsPerWeight = 16;
        p.perplexity = reference.value(dataset);
        p.unquantized = true;
        out.push_back(p);
    }
    return out;
}

QStringList Workbench::evaluatedDatasets() const
{
    QStringList found = reference.keys();
    for (const RunData& r : runs)
        if (r.complete)
            for (auto it = r.perplexity.cbegin(); it != r.perplexity.cend(); ++it)
                if (!found.contains(it.key()))
                    found << it.key();
    found.sort();
    QStringList out;
    for (const QString& d : {QStringLiteral("wikitext2"), QStringLiteral("c4")})
        if (found.removeAll(d) > 0)
            out << d;
    return out + found;
}

PerplexityTable Workbench::perplexityTable(const QStringList& datasets) const
{
    PerplexityTable t;
    t.datasets = datasets;
    for (const QString& d : datasets)
        t.reference.push_back(reference.value(d, -1.0));
    for (const RunData& r : runs) {
        if (!r.complete || r.perplexity.isEmpty())
            continue;
        PerplexityTable::Entry e;
        e.method = familyName(r.method);
        e.knob = knobText(r);
        e.run = r.name;
        e.avgBits = r.avgBitsWithOverhead;
        bool any = false;
        for (const QString& d : datasets) {
            e.value.push_back(r.perplexity.value(d, -1.0));
            any = any || e.value.back() > 0;
        }
        if (any)
            t.entries.push_back(std::move(e));
    }
    std::stable_sort(t.entries.begin(), t.entries.end(), [](const auto& a, const auto& b) {
        if (a.method != b.method)
            return a.method < b.method;
        return a.avgBits != b.avgBits ? a.avgBits < b.avgBits : a.run < b.run;
    });
    return t;
}

} // namespace mpq::gui
