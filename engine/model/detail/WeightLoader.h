#pragma once

#include "model/ModelSource.h"

#include <ATen/ATen.h>

namespace mpq::detail {

at::ScalarType scalarType(StorageType t);

/// Reads one tensor from disk (undoing llama2.c's interleaved rotary order for q/k) and returns
/// it with the given dtype on the given device. Throws mpq::Error on a read failure.
at::Tensor loadTensor(const ModelSource& source, const std::string& name, at::ScalarType dtype,
                      const at::Device& device);

/// Reads one entry's bytes into a CPU tensor of its storage type (no permutation).
at::Tensor readEntry(const TensorEntry& entry);

} // namespace mpq::detail
