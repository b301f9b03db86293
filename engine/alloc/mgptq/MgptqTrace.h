#pragma once

// MG-PTQ's training recorded for the teaching view (issue 19; docs/teaching.md): how the
// allocator's softmax over the widths and its Gumbel-softmax samples change as τ falls. Plain
// C++ types: the GUI includes this header.

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// The allocator after one epoch.
struct MgptqTraceFrame {
    int epoch = 0;                    ///< 0-based
    double tau = 0;                   ///< Gumbel-Softmax temperature τ of the epoch
    std::vector<float> probabilities; ///< softmax(logits), row-major [cols × widths]
    /// The epoch's soft Gumbel-Softmax sample softmax((logits + g)/τ), [cols × widths]: what the
    /// loss saw (one-hot in the forward pass when straight-through).
    std::vector<float> sample;
    double expectedBits = 0;          ///< mean over columns of Σ_b p_b·b
    double argmaxBits = 0;            ///< mean width of the argmax
    double loss = 0, lQuant = 0, lBit = 0; ///< the epoch's training record
};

struct MgptqTrace {
    std::string tensor;
    std::string allocator;            ///< "mgptq-gcn" or "mgptq-mlp"
    int64_t cols = 0;
    std::vector<int> widths;          ///< the candidates, ascending
    std::string knob;                 ///< "α 0.5" or "target 3 bits"
    int epochs = 0;
    std::vector<MgptqTraceFrame> frames;
    std::vector<uint8_t> columnBits;  ///< the allocation at the end (target repair included)
    std::vector<float> hessianDiagonal;
};

/// Re-runs MG-PTQ's allocator on matrix `tensor` of MG-PTQ run `run` of a session, with the
/// run's options (seed included), W from the base model and the stored full H, keeping about
/// `frames` evenly spaced epochs (the last always). On the CPU the allocation equals the run's
/// (the training is deterministic for a seed). Throws mpq::Error when the run is not MG-PTQ,
/// the matrix has no stored H, or the weights cannot be read.
MgptqTrace traceMgptqFromSession(const std::string& sessionPath, const std::string& run, const std::string& tensor,
                                 int frames = 40);

} // namespace mpq
