#pragma once

#include <string>

namespace mpq {

/// A quantization result folder (docs/result-folder.md): result.json, layers/layer-NNN.safetensors
/// with integer codes, scales, zeros and slots per matrix, and calibration.bin.
bool isResultFolder(const std::string& path);
/// The base model a result was made from (absolute path). Throws mpq::Error.
std::string resultModelPath(const std::string& resultDir);
/// result.json as text. Throws mpq::Error.
std::string readResultJson(const std::string& resultDir);

/// True when `spec` names a stored quantization run: a result folder, "SESSION#RUN" or a packed
/// export (pipeline/detail/QuantizedRun.h). Cheap; does not validate the contents.
bool isQuantizedRun(const std::string& spec);
/// The base model of a stored run (absolute path). Throws mpq::Error.
std::string quantizedRunModelPath(const std::string& spec);

} // namespace mpq
