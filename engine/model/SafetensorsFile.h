#pragma once

#include "model/ModelSource.h"

#include <string>
#include <vector>

namespace mpq {

/// Reads and validates the header of one .safetensors file: header length within the file and
/// below 100 MB, JSON that parses with no duplicate names, known dtypes, non-negative shapes,
/// byte ranges that match the shapes, lie inside the data section and do not overlap.
/// Returns entries with absolute offsets. Throws mpq::Error naming the file.
std::vector<TensorEntry> readSafetensorsHeader(const std::string& file);

} // namespace mpq
