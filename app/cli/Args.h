#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/Device.h"
#include "core/Error.h"

namespace mpq::cli {

/// A malformed command line (exit status 2).
class UsageError : public Error {
public:
    using Error::Error;
};

/// parseDType() that reports a malformed value as bad usage.
DType parseDTypeOption(const std::string& text);
/// Rejects device names that are not cpu / cuda / cuda:N as bad usage (availability is checked
/// later, as an ordinary error).
void checkDeviceOption(const std::string& device);

/// A small declarative option parser: each subcommand declares its options with help text, so
/// `--help` always lists every option, and unknown or malformed options are rejected.
class Args {
public:
    Args(std::string command, std::string summary);

    void positional(const std::string& name, const std::string& help);
    void option(const std::string& name, const std::string& valueName, const std::string& help,
                const std::string& defaultValue = {});
    void flag(const std::string& name, const std::string& help);
    /// Declares --demo (see Demo.h): with it, the positionals may be left out.
    void demoFlag(const std::string& help);

    /// Parses argv after the subcommand. Returns false when --help was given (help printed).
    /// Throws mpq::Error with a usage hint on bad input.
    bool parse(const std::vector<std::string>& argv);

    std::string helpText() const;

    const std::string& get(const std::string& name) const;
    bool has(const std::string& name) const; ///< given on the command line (or a flag set)
    int64_t getInt(const std::string& name) const;
    double getDouble(const std::string& name) const;
    std::vector<std::string> getList(const std::string& name) const; ///< comma-separated
    std::vector<double> getDoubles(const std::string& name) const;   ///< comma-separated numbers
    /// Replaces an option's value as if it had been given (sweeps set one point at a time).
    void set(const std::string& name, const std::string& value);
    /// Forgets that an option was given.
    void unset(const std::string& name);

private:
    struct Spec {
        std::string name, valueName, help, defaultValue;
        bool isFlag = false;
        bool isPositional = false;
    };
    const Spec* find(const std::string& name) const;

    std::string m_command, m_summary;
    std::vector<Spec> m_specs;
    std::map<std::string, std::string> m_values;
    std::map<std::string, bool> m_given;
    bool m_demo = false;
};

} // namespace mpq::cli
