#pragma once

#include <exception>
#include <string>
#include <vector>

namespace mpq::cli {

/// The option that sets an engine setting (a SettingError's key, e.g. "mgptq.targetBits" →
/// "--target-bits"); empty for a key the CLI has no option for.
std::string flagOfSetting(const std::string& setting);

/// " (--a, --b)": the options of the settings a SettingError names, for the end of its message
/// in the CLI's report; empty when none has an option.
std::string flagsSuffix(const std::vector<std::string>& settings);

/// flagsSuffix() of `e`'s settings when it is a SettingError, else empty: for the CLI's own
/// checks that re-throw an engine error with more context.
std::string flagsSuffix(const std::exception& e);

} // namespace mpq::cli
