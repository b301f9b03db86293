#pragma once

#include "alloc/mgptq/MgptqOptions.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace mpq::detail {

/// MG-PTQ's graph of one linear layer: one node per input column, weighted by the coupling of
/// columns in GPTQ's error compensation (docs/mgptq.md, "Adjacency"), normalised as a GCN's
/// Â = D^-½(|A| + I)D^-½. Dense [n, n] up to MgptqOptions::denseLimit columns; beyond, each row
/// keeps its topK strongest neighbours plus itself (index/value [n, k+1]).
struct HessianGraph {
    int64_t nodes = 0;
    bool dense = true;
    at::Tensor adjacency; ///< dense: Â [n, n]
    at::Tensor index;     ///< top-k: int64 [n, k+1], neighbour j of row i (self included)
    at::Tensor value;     ///< top-k: Â[i, index[i, m]] [n, k+1]
    int64_t k = 0;        ///< neighbours kept per row (top-k only)
    double damping = 0;   ///< λ used for the Cholesky factorisation

    /// Â X for node features X [n, d] (differentiable in X).
    at::Tensor propagate(const at::Tensor& X) const;
    /// "dense" or "top-k".
    const char* kind() const { return dense ? "dense" : "top-k"; }
};

/// The raw coupling |A| (no self loops, symmetric) from U, the upper Cholesky factor of the
/// damped H⁻¹ (GPTQ's): A_ij = |U_ij| / U_ii for i < j, symmetrised as A + Aᵀ. `damping`
/// receives λ. Dead inputs (H_jj = 0) get H_jj = 1 as in GPTQ. Throws mpq::Error when H cannot
/// be factorised even with 10⁴× the damping.
at::Tensor hessianCoupling(const at::Tensor& H, double dampPercent, double* damping = nullptr);

/// Builds the normalised graph from H (fp32 on any device; the graph lives there too).
HessianGraph buildHessianGraph(const at::Tensor& H, const MgptqOptions& opt);
/// Â from a given raw adjacency A (|A| is taken, self loops added); dense, or top-k per row
/// when k > 0 (degrees are the kept rows' sums).
HessianGraph normalizedGraph(const at::Tensor& A, int64_t k = 0);

/// Node features [n, featureDim + 4 + K] (docs/mgptq.md, "Node features"): a seeded Gaussian
/// projection of each column's d_out weights to featureDim values, then log ‖w_j‖, log max|w_j|,
/// log H_jj, log(H_jj‖w_j‖²) and per candidate log of the column's own error under H
/// (`ownError`, [n, K]); every feature standardised over the columns.
at::Tensor nodeFeatures(const at::Tensor& W, const at::Tensor& H, const at::Tensor& ownError,
                        int64_t featureDim, uint64_t seed);

} // namespace mpq::detail
