#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mpq {

/// An allocator's training curves, one entry per epoch (all vectors have the same length; empty
/// when the allocator does not train). MG-PTQ writes them into its diagnostics JSON as
/// `curves` (docs/mgptq.md); sessions also keep them as arrays.
struct TrainingCurves {
    std::vector<double> loss;      ///< L = L_quant + α·L_bit
    std::vector<double> lQuant;    ///< L_quant
    std::vector<double> lBit;      ///< L_bit
    std::vector<double> avgBits;   ///< average code bits of the argmax allocation
    std::vector<double> alpha;     ///< α in effect
    std::vector<double> tau;       ///< Gumbel-Softmax temperature τ
    /// The diagnostics' own `alpha`, the α the allocator reports having used (0 when absent;
    /// sessions' arrays do not keep it).
    double finalAlpha = 0;
    size_t epochs() const { return loss.size(); }
};

/// The one reader of the curves in an allocator's diagnostics JSON (MatrixPlan::diagnostics):
/// `curves.{loss, l_quant, l_bit, avg_bits, alpha, tau}` and the top-level `alpha`. Missing
/// parts stay empty, a non-number counts as 0; text that is not a JSON object gives empty curves.
TrainingCurves parseTrainingCurves(const std::string& diagnosticsJson);

} // namespace mpq
