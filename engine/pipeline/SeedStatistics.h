#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// Mean and spread of one figure (e.g. a perplexity) over runs that differ only in the
/// allocator's seed: the seeds protocol of `mpq sweep --seeds` (docs/figures.md). Plain data,
/// shared by the CLI and the GUI.
struct SeedStatistics {
    int64_t count = 0;
    double mean = 0;
    double sd = 0;          ///< sample standard deviation (n − 1); 0 for one value
    double relativeSd = 0;  ///< sd / |mean| (0 when the mean is 0)
    double min = 0, max = 0;
};

/// Statistics of `values`. Throws mpq::Error when empty or when a value is not finite.
SeedStatistics seedStatistics(const std::vector<double>& values);

/// Parses a seed list "0,1,2" or a range "0-4" (both ends included), or a mix "0-2,7".
/// Throws SettingError (setting "seeds") for an empty list, a negative or malformed entry, a
/// descending range or a repeated seed.
std::vector<uint64_t> parseSeedList(const std::string& text);

/// "mean ± sd (rel %)" with `decimals` digits, e.g. "48.954 ± 3.334 (6.81%)".
std::string formatSeedStatistics(const SeedStatistics& s, int decimals = 3);

} // namespace mpq
