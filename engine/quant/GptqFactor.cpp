#include "quant/detail/GptqFactor.h"

namespace mpq::detail {

namespace {

bool usable(const at::Tensor& info, const at::Tensor& factor)
{
    return info.item<int>() == 0 && at::isfinite(factor).all().item<bool>();
}

} // namespace

at::Tensor gptqHinv(at::Tensor Hd, HinvMethod method)
{
    if (method == HinvMethod::Auto)
        method = Hd.is_cuda() ? HinvMethod::Reversed : HinvMethod::CholeskyInverse;
    if (method == HinvMethod::CholeskyInverse) {
        at::Tensor inverse; // Hd⁻¹, with L gone before the second factorisation (memory)
        {
            auto [L, info] = at::linalg_cholesky_ex(Hd);
            Hd.reset();
            if (!usable(info, L))
                return {};
            inverse = at::cholesky_inverse(L);
        }
        auto [U, info2] = at::linalg_cholesky_ex(inverse, /*upper=*/true);
        return usable(info2, U) ? U : at::Tensor();
    }
    // Two n × n matrices besides the caller's: the reversed copy, whose memory then holds the
    // identity that the triangular solve overwrites with L⁻¹ in place, and L.
    at::Tensor work = Hd.flip({0, 1});
    Hd.reset();
    at::Tensor U;
    {
        auto [L, info] = at::linalg_cholesky_ex(work);
        if (!usable(info, L))
            return {};
        work.zero_();
        work.diagonal().fill_(1);
        at::linalg_solve_triangular_out(work, L, work, /*upper=*/false);
    }
    U = work.flip({0, 1});
    work.reset();
    return at::isfinite(U).all().item<bool>() ? U : at::Tensor();
}

} // namespace mpq::detail
