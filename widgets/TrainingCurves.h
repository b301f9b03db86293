#pragma once

#include <vector>

namespace mpq::gui {

/// MG-PTQ's per-epoch training record of one matrix (the allocator's `diagnostics.curves`):
/// total loss, the bit penalty L_bit (expected average bits) and the argmax average bits.
/// Plain data; empty vectors when the run had no trained allocator.
struct TrainingCurves {
    std::vector<double> loss;
    std::vector<double> lQuant;
    std::vector<double> lBit;
    std::vector<double> avgBits;
    double alpha = 0; ///< the α the allocator ended with

    bool empty() const { return loss.empty(); }
};

} // namespace mpq::gui
