#include "alloc/mxq/MxqWalk.h"

#include "core/Error.h"

#include <algorithm>

namespace mpq {

std::vector<int> MxqWalk::choiceAfter(size_t n) const
{
    std::vector<int> c = start;
    for (size_t k = 0; k < n && k < steps.size(); ++k)
        c[size_t(steps[k].matrix)] = steps[k].to;
    return c;
}

MxqWalk mxqWalk(const MxqCostTable& table, double budgetBits)
{
    table.validate("MXQ walk");
    if (table.matrices.empty())
        throw Error("MXQ walk: the cost table has no matrices");
    MxqWalk w;
    w.budgetBits = budgetBits;
    w.parameters = table.totalParameters();
    std::vector<MxqWalkStep> moves;
    for (size_t i = 0; i < table.matrices.size(); ++i) {
        const auto& c = table.matrices[i].cost;
        const auto& st = table.matrices[i].storageBits;
        int at = 0;
        for (int k = 1; k < int(c.size()); ++k)
            if (st[size_t(k)] < st[size_t(at)] || (st[size_t(k)] == st[size_t(at)] && c[size_t(k)] < c[size_t(at)]))
                at = k;
        w.start.push_back(at);
        w.startStorageBits += st[size_t(at)];
        w.startCost += c[size_t(at)];
        // The lower convex hull from the smallest configuration: each move the steepest descent.
        while (true) {
            int next = -1;
            double best = 0;
            for (int k = 0; k < int(c.size()); ++k) {
                if (st[size_t(k)] <= st[size_t(at)] || c[size_t(k)] >= c[size_t(at)])
                    continue;
                const double rate = (c[size_t(at)] - c[size_t(k)]) / (st[size_t(k)] - st[size_t(at)]);
                if (next < 0 || rate > best || (rate == best && st[size_t(k)] > st[size_t(next)])) {
                    next = k;
                    best = rate;
                }
            }
            if (next < 0)
                break;
            MxqWalkStep m;
            m.matrix = int64_t(i);
            m.from = at;
            m.to = next;
            m.storageBits = st[size_t(next)] - st[size_t(at)];
            m.costSaved = c[size_t(at)] - c[size_t(next)];
            m.rate = best;
            moves.push_back(m);
            at = next;
        }
    }
    if (w.startStorageBits > budgetBits)
        throw Error("MXQ walk: the budget is below every matrix's smallest configuration");
    // Steepest first; a matrix's hull moves have falling rates, so their order is kept.
    std::stable_sort(moves.begin(), moves.end(), [](const MxqWalkStep& a, const MxqWalkStep& b) { return a.rate > b.rate; });
    double storage = w.startStorageBits, cost = w.startCost;
    w.blocked.matrix = -1;
    for (const MxqWalkStep& m : moves) {
        if (storage + m.storageBits > budgetBits) {
            w.blocked = m;
            break;
        }
        storage += m.storageBits;
        cost -= m.costSaved;
        MxqWalkStep s = m;
        s.totalStorageBits = storage;
        s.totalCost = cost;
        w.steps.push_back(s);
    }
    w.greedyChoice = w.choiceAfter(w.steps.size());
    return w;
}

} // namespace mpq
