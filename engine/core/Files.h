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
/// Tells the kernel that `n` bytes at `offset` will be read soon (posix_fadvise WILLNEED): it
/// starts reading them into the page cache in the background. Advice only: false if the file
/// cannot be opened or the advice is refused, and nothing else happens.
bool adviseWillNeed(const std::string& path, uint64_t offset, uint64_t n);
/// `dir` joined with `name` ("dir/name").
std::string join(const std::string& dir, const std::string& name);
/// Folder part of a path ("." when there is none).
std::string parent(const std::string& path);
/// Absolute, normalised form of a path (the file need not exist).
std::string absolute(const std::string& path);
/// Removes a file or a folder with everything in it (symbolic links are removed, not followed).
/// Returns false, with `error` set, when something could not be removed; a missing path is no
/// error. Written on POSIX calls rather than std::filesystem::remove_all: pip torch's
/// libtorch.so exports its own copy of that function, which the dynamic linker then binds the
/// workbench's calls to, and which crashes there (docs/packaging.md, "The workbench on a CUDA
/// workstation").
bool removeAll(const std::string& path, std::string* error = nullptr);

} // namespace mpq::files
