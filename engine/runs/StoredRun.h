#pragma once

#include <string>

namespace mpq {

/// True when `spec` names a stored quantization run: a result folder, "SESSION#RUN" or a packed
/// export (runs/detail/QuantizedRun.h). Cheap; does not validate the contents.
bool isQuantizedRun(const std::string& spec);
/// The base model of a stored run (absolute path). Throws mpq::Error.
std::string quantizedRunModelPath(const std::string& spec);

} // namespace mpq
