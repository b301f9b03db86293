#pragma once
// A small MXQ cost table for the suites that drive the live re-solve (tst_widgets, tst_gui).

#include "alloc/mxq/MxqProblem.h"

#include <memory>
#include <string>

namespace mpq::test {

/// `matrices` up_proj matrices of layers 0, 1, … (64 × 128) with configurations b2g64 and b4g64:
/// matrix i costs 10·(i + 1) at 2 bits and 1 at 4 bits, so a budget for 4 bits everywhere gives
/// every matrix 4 bits.
inline std::shared_ptr<MxqCostTable> upProjCostTable(int matrices)
{
    auto table = std::make_shared<MxqCostTable>();
    table->configs = {{2, 64}, {4, 64}};
    for (int i = 0; i < matrices; ++i) {
        MxqMatrixCosts m;
        m.tensor = "model.layers." + std::to_string(i) + ".mlp.up_proj.weight";
        m.layer = i;
        m.linear = "up_proj";
        m.rows = 64;
        m.cols = 128;
        m.cost = {10.0 * (i + 1), 1.0};
        for (const auto& c : table->configs)
            m.storageBits.push_back(mxqStorageBits(m.rows, m.cols, c));
        table->matrices.push_back(m);
    }
    return table;
}

} // namespace mpq::test
