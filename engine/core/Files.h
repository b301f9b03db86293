#pragma once

#include <cstdint>
#include <string>

namespace mpq::files {

/// Size of a regular file in bytes. Throws mpq::Error if it does not exist or is not a file.
uint64_t size(const std::string& path);
bool exists(const std::string& path);
bool isDirectory(const std::string& path);
/// Whole file as bytes. Throws mpq::Error naming the file on failure.
std::string readAll(const std::string& path);
/// Reads exactly `n` bytes at `offset`. Throws mpq::Error naming the file on a short read.
void readAt(const std::string& path, uint64_t offset, uint64_t n, void* dst);
/// `dir` joined with `name` ("dir/name").
std::string join(const std::string& dir, const std::string& name);
/// Folder part of a path ("." when there is none).
std::string parent(const std::string& path);
/// Absolute, normalised form of a path (the file need not exist).
std::string absolute(const std::string& path);

} // namespace mpq::files
