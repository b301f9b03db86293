#include "runs/SolverRecord.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

namespace mpq {

namespace {

using nlohmann::json;

template <typename T>
void put(json& j, const char* key, const std::optional<T>& v)
{
    if (v)
        j[key] = *v;
}

void put(json& j, const char* key, const std::string& v)
{
    if (!v.empty())
        j[key] = v;
}

/// j[key] as T when present; Error naming the key when it has another type.
template <typename T>
std::optional<T> take(const json& j, const char* key, const std::string& source)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return std::nullopt;
    const bool ok = std::is_same_v<T, bool> ? it->is_boolean()
                    : std::is_arithmetic_v<T> ? it->is_number()
                                              : it->is_string();
    if (!ok)
        throw Error(source + ": the solver record's \"" + key + "\" has the wrong type (" + it->dump() + ")");
    return it->get<T>();
}

} // namespace

bool SolverRecord::empty() const
{
    return status.empty() && solver.empty() && message.empty() && !budget && !objective && !gap &&
           !bitsPerParameter && !solveSeconds && costKind.empty() && costChoice.empty() && !costSeconds && ggufPreset.empty() &&
           ggufTypes.empty() && !ggufBitsPerWeight && !imatrix;
}

std::string SolverRecord::toJson() const
{
    if (empty())
        return {};
    json j = json::object();
    put(j, "status", status);
    put(j, "solver", solver);
    put(j, "message", message);
    if (budget)
        j["budget"] = budget->describe();
    put(j, "objective", objective);
    put(j, "gap", gap);
    put(j, "bits_per_parameter", bitsPerParameter);
    put(j, "solve_seconds", solveSeconds);
    put(j, "cost_kind", costKind);
    put(j, "cost_choice", costChoice);
    put(j, "cost_seconds", costSeconds);
    put(j, "preset", ggufPreset);
    if (!ggufTypes.empty())
        j["types"] = ggufTypes;
    put(j, "bits_per_weight", ggufBitsPerWeight);
    put(j, "imatrix", imatrix);
    return j.dump();
}

SolverRecord SolverRecord::fromJson(const std::string& text, const std::string& source)
{
    SolverRecord r;
    if (text.empty())
        return r;
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(source + ": the solver record is not a JSON object");
    r.status = take<std::string>(j, "status", source).value_or("");
    r.solver = take<std::string>(j, "solver", source).value_or("");
    r.message = take<std::string>(j, "message", source).value_or("");
    if (const auto b = take<std::string>(j, "budget", source)) {
        r.budget = MxqBudget::parse(*b);
        if (!r.budget)
            throw Error(source + ": the solver record's budget \"" + *b +
                        "\" is neither \"<bits> bits/parameter\" nor \"<size> MiB\"");
    }
    r.objective = take<double>(j, "objective", source);
    r.gap = take<double>(j, "gap", source);
    r.bitsPerParameter = take<double>(j, "bits_per_parameter", source);
    r.solveSeconds = take<double>(j, "solve_seconds", source);
    r.costKind = take<std::string>(j, "cost_kind", source).value_or("");
    r.costChoice = take<std::string>(j, "cost_choice", source).value_or("");
    r.costSeconds = take<double>(j, "cost_seconds", source);
    r.ggufPreset = take<std::string>(j, "preset", source).value_or("");
    if (const auto it = j.find("types"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            throw Error(source + ": the solver record's \"types\" is not an object of tensor names");
        for (const auto& [tensor, type] : it->items()) {
            if (!type.is_string())
                throw Error(source + ": the solver record's type of " + tensor + " is not a string");
            r.ggufTypes[tensor] = type.get<std::string>();
        }
    }
    r.ggufBitsPerWeight = take<double>(j, "bits_per_weight", source);
    r.imatrix = take<bool>(j, "imatrix", source);
    return r;
}

} // namespace mpq
