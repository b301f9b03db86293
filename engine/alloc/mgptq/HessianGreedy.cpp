#include "alloc/mgptq/HessianGreedy.h"

#include "core/Error.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace mpq {

std::vector<uint8_t> hessianGreedyBits(const std::vector<double>& score, std::vector<int> bitsSet,
                                       double targetBits)
{
    if (bitsSet.empty())
        throw Error("hessian-greedy: the set of candidate bit-widths is empty");
    std::sort(bitsSet.begin(), bitsSet.end());
    const int lo = bitsSet.front();
    if (targetBits < lo - 1e-9 || targetBits > bitsSet.back() + 1e-9)
        throw Error("hessian-greedy: target " + std::to_string(targetBits) + " bits is outside the candidates [" +
                    std::to_string(lo) + ", " + std::to_string(bitsSet.back()) + "]");
    const size_t n = score.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    std::vector<uint8_t> bits(n, uint8_t(lo));
    double budget = (targetBits - lo) * double(n); // extra bits above all-lowest
    for (size_t j : order) {
        for (auto it = bitsSet.rbegin(); it != bitsSet.rend(); ++it)
            if (*it - lo <= budget + 1e-9) {
                bits[j] = uint8_t(*it);
                budget -= *it - lo;
                break;
            }
        if (budget < 1e-9)
            break;
    }
    return bits;
}

} // namespace mpq
