#include "RunData.h"

#include <algorithm>

namespace mpq::gui {

namespace {
int linearRank(const QString& linear)
{
    static const char* order[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    for (int i = 0; i < 7; ++i)
        if (linear == QLatin1String(order[i]))
            return i;
    return 7;
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
