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

std::vector<TradeoffSeries> Workbench::tradeoff(const QString& dataset) const
{
    std::map<QString, TradeoffSeries> byFamily;
    for (const RunData& r : runs) {
        if (!r.complete)
            continue;
        const QString family = familyName(r.method);
        TradeoffSeries& s = byFamily[family];
        s.method = family;
        const bool uniform = r.sweepAxis.isEmpty() || r.sweepAxis == QLatin1String("bits");
        if (r.method == QLatin1String("mxq")) {
            s.knobName = QStringLiteral("budget (bits/weight)");
            s.liveResolve = true;
        } else if (r.sweepAxis == QLatin1String("alpha")) {
            s.knobName = QStringLiteral("α");
        } else if (r.sweepAxis == QLatin1String("target-bits")) {
            s.knobName = QStringLiteral("target bits");
        } else if (uniform) {
            s.knobName = QStringLiteral("bits");
        }
        TradeoffPoint p;
        if (r.method == QLatin1String("mxq"))
            // A budget is bits per weight with overhead; a run opened on its own has no sweep value.
            p.knob = r.sweepAxis.isEmpty() ? r.avgBitsWithOverhead : r.sweepValue;
        else
            p.knob = uniform ? std::round(r.avgBits) : r.sweepValue;
        p.avgBits = r.avgBitsWithOverhead;
        p.perplexity = r.perplexity.value(dataset, -1.0);
        p.run = r.name;
        s.points.push_back(p);
    }
    std::vector<TradeoffSeries> out;
    for (auto& [name, s] : byFamily) {
        std::stable_sort(s.points.begin(), s.points.end(),
                         [](const TradeoffPoint& a, const TradeoffPoint& b) { return a.knob < b.knob; });
        out.push_back(std::move(s));
    }
    return out;
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
        return a.method != b.method ? a.method < b.method : a.avgBits < b.avgBits;
    });
    return t;
}

} // namespace mpq::gui
