#pragma once
// Synthetic weights and Hessians for the MG-PTQ suites (tst_mgptq, tst_seeds).

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdint>

namespace mpq::test {

/// Correlated inputs whose scale varies strongly across columns (×e^-2 … ×e^2), so that columns
/// differ in importance.
inline at::Tensor mgptqHessian(int64_t cols, int64_t tokens, uint64_t seed)
{
    auto g = at::detail::createCPUGenerator(seed);
    const at::Tensor A = at::randn({cols, cols}, g) / std::sqrt(double(cols)) + at::eye(cols);
    const at::Tensor scale = at::exp(at::linspace(-2.0, 2.0, cols)).index_select(0, at::randperm(cols, g));
    const at::Tensor X = at::matmul(at::randn({tokens, cols}, g), A) * scale;
    return at::matmul(X.t(), X) * (2.0 / double(tokens));
}

/// Weights N(0, 0.02²).
inline at::Tensor mgptqWeight(int64_t rows, int64_t cols, uint64_t seed)
{
    auto g = at::detail::createCPUGenerator(seed);
    return at::randn({rows, cols}, g) * 0.02;
}

} // namespace mpq::test
