#pragma once

#include "core/Device.h"

#include <ATen/ATen.h>

namespace mpq::detail {

at::ScalarType scalarType(DType t);
/// The torch device for a device string already checked by checkDevice().
at::Device torchDevice(const std::string& device);
/// Waits for queued GPU work (for timing); no-op on CPU.
void synchronize(const at::Device& device);

} // namespace mpq::detail
