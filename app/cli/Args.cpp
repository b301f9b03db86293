#include "Args.h"

#include <cmath>

#include "core/Error.h"

#include <iostream>
#include <sstream>

namespace mpq::cli {

DType parseDTypeOption(const std::string& text)
{
    try {
        return parseDType(text);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
}

void checkDeviceOption(const std::string& device)
{
    const bool cudaIndexed = device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                             device.find_first_not_of("0123456789", 5) == std::string::npos;
    if (device != "cpu" && device != "cuda" && !cudaIndexed)
        throw UsageError("unknown device \"" + device + "\" (use cpu, cuda or cuda:N)");
}

Args::Args(std::string command, std::string summary)
    : m_command(std::move(command)), m_summary(std::move(summary))
{
}

void Args::positional(const std::string& name, const std::string& help)
{
    m_specs.push_back({name, "", help, "", false, true});
}

void Args::option(const std::string& name, const std::string& valueName, const std::string& help,
                  const std::string& defaultValue)
{
    m_specs.push_back({name, valueName, help, defaultValue, false, false});
    m_values[name] = defaultValue;
}

void Args::flag(const std::string& name, const std::string& help)
{
    m_specs.push_back({name, "", help, "", true, false});
}

void Args::demoFlag(const std::string& help)
{
    flag("demo", help);
    m_demo = true;
}

const Args::Spec* Args::find(const std::string& name) const
{
    for (const auto& s : m_specs)
        if (!s.isPositional && s.name == name)
            return &s;
    return nullptr;
}

bool Args::parse(const std::vector<std::string>& argv)
{
    std::vector<const Spec*> positionals;
    for (const auto& s : m_specs)
        if (s.isPositional)
            positionals.push_back(&s);
    size_t nextPositional = 0;
    const std::string hint = " (see 'mpq " + m_command + " --help')";
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << helpText();
            return false;
        }
        if (a.rfind("--", 0) == 0) {
            std::string name = a.substr(2), value;
            const auto eq = name.find('=');
            const bool inlineValue = eq != std::string::npos;
            if (inlineValue) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const Spec* s = find(name);
            if (!s)
                throw UsageError("unknown option --" + name + hint);
            if (s->isFlag) {
                if (inlineValue)
                    throw UsageError("option --" + name + " takes no value" + hint);
                m_values[name] = "1";
            } else {
                if (!inlineValue) {
                    if (i + 1 >= argv.size())
                        throw UsageError("option --" + name + " needs a value " + s->valueName + hint);
                    value = argv[++i];
                }
                m_values[name] = value;
            }
            m_given[name] = true;
            continue;
        }
        if (nextPositional >= positionals.size())
            throw UsageError("unexpected argument \"" + a + "\"" + hint);
        m_values[positionals[nextPositional]->name] = a;
        m_given[positionals[nextPositional]->name] = true;
        ++nextPositional;
    }
    // --demo names the model itself (applyDemo, Demo.h).
    if (nextPositional < positionals.size() && !(m_demo && has("demo")))
        throw UsageError("missing " + positionals[nextPositional]->name + hint);
    return true;
}

std::string Args::helpText() const
{
    std::ostringstream out;
    out << "usage: mpq " << m_command;
    for (const auto& s : m_specs)
        if (s.isPositional)
            out << " " << s.name;
    out << " [options]\n\n" << m_summary << "\n";
    bool any = false;
    for (const auto& s : m_specs) {
        if (s.isPositional) {
            if (!any)
                out << "\n";
            any = true;
            out << "  " << s.name << "\n      " << s.help << "\n";
        }
    }
    out << "\noptions:\n";
    for (const auto& s : m_specs) {
        if (s.isPositional)
            continue;
        std::string head = "--" + s.name + (s.isFlag ? "" : " " + s.valueName);
        out << "  " << head << "\n      " << s.help;
        if (!s.defaultValue.empty())
            out << " [default: " << s.defaultValue << "]";
        out << "\n";
    }
    out << "  --help\n      show this help\n";
    return out.str();
}

const std::string& Args::get(const std::string& name) const
{
    static const std::string empty;
    auto it = m_values.find(name);
    return it == m_values.end() ? empty : it->second;
}

bool Args::has(const std::string& name) const
{
    auto it = m_given.find(name);
    return it != m_given.end() && it->second;
}

int64_t Args::getInt(const std::string& name) const
{
    const std::string& v = get(name);
    try {
        size_t used = 0;
        const long long x = std::stoll(v, &used);
        if (used == v.size())
            return x;
    } catch (const std::exception&) {
    }
    throw UsageError("option --" + name + " needs an integer, got \"" + v + "\"");
}

namespace {

/// `text` as a whole number of its own (no trailing characters), or a UsageError naming the option.
double parseNumber(const std::string& name, const std::string& text)
{
    try {
        size_t used = 0;
        const double x = std::stod(text, &used);
        if (used == text.size() && std::isfinite(x))
            return x;
    } catch (const std::exception&) {
    }
    throw UsageError("option --" + name + " needs a finite number, got \"" + text + "\"");
}

} // namespace

double Args::getDouble(const std::string& name) const
{
    return parseNumber(name, get(name));
}

std::vector<double> Args::getDoubles(const std::string& name) const
{
    std::vector<double> out;
    for (const std::string& item : getList(name))
        out.push_back(parseNumber(name, item));
    return out;
}

void Args::set(const std::string& name, const std::string& value)
{
    m_values[name] = value;
    m_given[name] = true;
}

void Args::unset(const std::string& name)
{
    m_given[name] = false;
}

std::vector<std::string> Args::getList(const std::string& name) const
{
    std::vector<std::string> out;
    std::stringstream ss(get(name));
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

} // namespace mpq::cli
