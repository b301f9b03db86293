#pragma once

#include "model/SafetensorsWriter.h"
#include "runs/detail/QuantizedRun.h"
#include "quant/detail/QuantizedWeight.h"

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>

namespace mpq::detail {

/// Name of the manifest that marks an mpq-packed export folder.
inline const char* packedManifestName() { return "mpq-packed.json"; }
constexpr int kPackedFormatVersion = 1;

/// Adds one quantized matrix to a layer file of the mpq-packed format (docs/export-formats.md):
/// columns permuted so equal-width columns are contiguous (stable: ascending width, then
/// original index), each width's codes bit-packed per row into int32 words, the permutation,
/// per-column widths, slots, scales and zeros (fp32, exact). Throws mpq::Error naming `name`
/// for codes that do not fit their width.
void addPackedMatrix(SafetensorsWriter& w, const std::string& name, const QuantizedWeight& q);

/// Rebuilds one matrix from its entries ("perm", "codes_b3", … keyed without the tensor name),
/// checking every invariant; dequant is filled in. Throws mpq::Error naming `file` and `name`.
QuantizedWeight readPackedMatrix(const std::map<std::string, at::Tensor>& parts, const std::string& name,
                                 const std::string& file);

/// True when `path` is a folder holding mpq-packed.json. Cheap; does not validate.
bool isPackedExport(const std::string& path);
/// Opens an mpq-packed export as a stored run (checks format, version and the base model).
/// Throws mpq::Error naming the folder.
std::unique_ptr<QuantizedRun> openPackedRun(const std::string& dir);

} // namespace mpq::detail
