#pragma once

#include <string>

namespace mpq::session::detail {

/// SHA-256 of a file's bytes as lower-case hex (FIPS 180-4), read in 1 MiB blocks. Throws
/// mpq::Error naming the file when it cannot be read.
std::string sha256File(const std::string& path);
/// SHA-256 of a string, for tests against the FIPS examples.
std::string sha256(const std::string& bytes);

} // namespace mpq::session::detail
