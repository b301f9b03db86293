#pragma once

#include <ATen/ATen.h>

namespace mpq::detail {

/// How GPTQ's Hinv is computed from the damped Hessian Hd.
enum class HinvMethod {
    Auto,            ///< Reversed on CUDA, CholeskyInverse on the CPU
    CholeskyInverse, ///< the reference scripts': chol(Hd), its inverse, chol of that (4/3 n³ flops)
    Reversed,        ///< chol of Hd with rows and columns reversed, then one triangular solve
};

/// GPTQ's Hinv: the upper Cholesky factor U of Hd⁻¹ (Hd⁻¹ = Uᵀ U, positive diagonal), fp32 on
/// Hd's device. Undefined when a factorisation fails or gives a non-finite value (the caller
/// raises the damping).
///
/// Reversed: with J the reversal permutation, chol(J Hd J) = L gives Hd = R Rᵀ for the upper
/// triangular R = J L J, so Hd⁻¹ = (R⁻¹)ᵀ R⁻¹ and U = R⁻¹ = J L⁻¹ J (the factor is unique). One
/// Cholesky and one triangular solve instead of a Cholesky, cholesky_inverse and a second
/// Cholesky: at LLaMA-70B's 28672 columns on an H100 that is the difference between about 1.5 s
/// and a fraction of it per down projection (docs/streaming.md). The two agree to rounding
/// (tst_gptq inverseCholeskyMethodsAgree); the CPU keeps CholeskyInverse so that its results
/// stay those of the reference scripts bit for bit.
/// Hd is taken by value: a caller that moves it in lets it go as soon as it is factorised, so
/// that at most two n × n temporaries live beside the caller's own tensors.
at::Tensor gptqHinv(at::Tensor Hd, HinvMethod method = HinvMethod::Auto);

} // namespace mpq::detail
