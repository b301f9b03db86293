#include "quant/detail/GptqFactor.h"

namespace mpq::detail {

namespace {

bool usable(const at::Tensor& info, const at::Tensor& factor)
{
    return info.item<int>() == 0 && at::isfinite(factor).all().item<bool>();
}

} // namespace

at::Tensor gptqHinv(const at::Tensor& Hd, HinvMethod method)
{
    if (method == HinvMethod::Auto)
        method = Hd.is_cuda() ? HinvMethod::Reversed : HinvMethod::CholeskyInverse;
    if (method == HinvMethod::CholeskyInverse) {
        at::Tensor inverse; // Hd⁻¹, with L gone before the second factorisation (memory)
        {
            auto [L, info] = at::linalg_cholesky_ex(Hd);
            if (!usable(info, L))
                return {};
            inverse = at::cholesky_inverse(L);
        }
        auto [U, info2] = at::linalg_cholesky_ex(inverse, /*upper=*/true);
        return usable(info2, U) ? U : at::Tensor();
    }
    at::Tensor L, info;
    {
        const at::Tensor reversed = Hd.flip({0, 1});
        std::tie(L, info) = at::linalg_cholesky_ex(reversed);
    }
    if (!usable(info, L))
        return {};
    at::Tensor Linv = at::linalg_solve_triangular(L, at::eye(Hd.size(0), Hd.options()), /*upper=*/false);
    L.reset();
    at::Tensor U = Linv.flip({0, 1});
    Linv.reset();
    return at::isfinite(U).all().item<bool>() ? U : at::Tensor();
}

} // namespace mpq::detail
