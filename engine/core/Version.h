#pragma once

namespace mpq {

/// The version of MPQ Workbench, from CMake's project() (e.g. "0.1.0"): what `mpq --version`
/// and `mpq-workbench --version` print, and what packages are named after.
const char* version();

} // namespace mpq
