#include "RunData.h"

#include <algorithm>

namespace mpq::gui {

namespace {
/// Execution order within a layer: attention, the dense MLP or the shared expert, then the
/// routed experts by index; gate, up, down within each (Mixtral's w1, w3, w2).
int linearRank(const QString& linear)
{
    static const char* order[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                                  "w1", "w3", "w2"};
    const QString role = linear.section(QLatin1Char('.'), -1);
    int rank = 7;
    for (int i = 0; i < 10; ++i)
        if (role == QLatin1String(order[i]))
            rank = i < 7 ? i : i - 3;
    if (linear.startsWith(QLatin1String("shared_expert.")))
        return 10 + rank;
    if (linear.startsWith(QLatin1String("experts.")))
        return 20 + 10 * linear.section(QLatin1Char('.'), 1, 1).toInt() + rank;
    return rank;
}
} // namespace

const MatrixResult* RunData::find(const QString& tensor) const
{
    for (const auto& m : matrices)
        if (m.tensor == tensor)
            return &m;
    return nullptr;
}

void RunData::merge(const std::vector<MatrixResult>& update)
{
    for (const auto& u : update) {
        auto it = std::find_if(matrices.begin(), matrices.end(),
                               [&](const MatrixResult& m) { return m.tensor == u.tensor; });
        if (it != matrices.end())
            *it = u;
        else
            matrices.push_back(u);
    }
    std::stable_sort(matrices.begin(), matrices.end(), [](const MatrixResult& a, const MatrixResult& b) {
        if (a.layer != b.layer)
            return a.layer < b.layer;
        return linearRank(a.linear) < linearRank(b.linear);
    });
}

} // namespace mpq::gui
