#pragma once

#include "core/Error.h"

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace mpq {

/// An Error about the value of named settings (fields of a params struct, named by keys such as
/// "mgptq.targetBits"). The message speaks of the setting in words ("target bits"), as the GUI
/// shows it; a front end with its own names for settings (the CLI's options) adds them from
/// settings() (app/cli/SettingFlags.h).
class SettingError : public Error {
public:
    SettingError(std::string setting, const std::string& message) : Error(message), m_settings{std::move(setting)} {}
    SettingError(std::initializer_list<std::string> settings, const std::string& message)
        : Error(message), m_settings(settings) {}
    SettingError(std::vector<std::string> settings, const std::string& message)
        : Error(message), m_settings(std::move(settings)) {}
    const std::vector<std::string>& settings() const { return m_settings; }

private:
    std::vector<std::string> m_settings;
};

} // namespace mpq
