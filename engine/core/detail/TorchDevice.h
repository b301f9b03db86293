#pragma once

#include "core/Device.h"

#include <ATen/ATen.h>

namespace mpq::detail {

at::ScalarType scalarType(DType t);
/// The torch device for a device string already checked by checkDevice().
at::Device torchDevice(const std::string& device);
/// Waits for queued GPU work (for timing); no-op on CPU.
void synchronize(const at::Device& device);

/// Small transfers between the host and a CUDA device through page-locked memory that the
/// object keeps between calls (grown as needed). A copy from or to ordinary (pageable) host memory
/// goes through the driver's staging buffers, and such copies from several threads wait on each
/// other: one thread's copy of a gigabyte held up the others' per-step read-backs by a second
/// (docs/mgptq.md, "LLaMA-70B", session 15). Each copy waits for the current stream only. On the
/// CPU the tensors pass through. Not thread-safe; one object per thread or per owner.
class PinnedTransfer {
public:
    /// `src` (on a device) in host memory: a view of the page-locked buffer, valid until the next
    /// call; `src` itself where it is on the CPU.
    at::Tensor toHost(const at::Tensor& src);
    /// The CPU tensor `src` copied into the device tensor `dst` (same shape and type).
    void toDevice(const at::Tensor& src, at::Tensor& dst);

private:
    at::Tensor staging(const at::Tensor& like);
    at::Tensor m_buffer; // bytes, page-locked
};

/// Lets fp32 matrix products use TF32 tensor cores while alive (CUDA). Used only where the
/// operands are fp16/bf16 values widened to fp32: TF32 keeps 10 mantissa bits, so such operands
/// lose nothing and the products still accumulate in fp32.
class Tf32Scope {
public:
    explicit Tf32Scope(bool enable);
    ~Tf32Scope();
    Tf32Scope(const Tf32Scope&) = delete;
    Tf32Scope& operator=(const Tf32Scope&) = delete;

private:
    bool m_active = false;
    at::Float32MatmulPrecision m_previous = at::Float32MatmulPrecision::HIGHEST;
};

/// Whether `a` is a bf16 / fp16 tensor on CUDA whose products LibTorch (2.9+, addmm's out_dtype)
/// can sum straight into an fp32 result.
bool halfProductInFloat(const at::Tensor& a);
/// out += a·b with fp32 sums into the fp32 `out`, a and b of one half type on CUDA (only where
/// halfProductInFloat(a)): the same arithmetic as widening both to fp32 and multiplying in TF32,
/// without the fp32 copies.
void addHalfProduct(at::Tensor& out, const at::Tensor& a, const at::Tensor& b);

} // namespace mpq::detail
