#pragma once

// Integers read from JSON that a user or a damaged file supplies. nlohmann::json's get<int>()
// on a stored floating-point value is a plain static_cast, which is undefined behaviour when the
// value does not fit (fuzz_packed: "version": 1e126). These accept JSON integers in the target
// type's range only and throw mpq::Error naming the field otherwise.

#include "core/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

namespace mpq::detail {

/// `v` as a T (an integer type); `what` names the field in the message ("file: field \"x\"").
template <typename T>
T jsonInt(const nlohmann::json& v, const std::string& what)
{
    static_assert(std::is_integral_v<T>);
    if (v.is_number_unsigned()) {
        const auto u = v.get<uint64_t>();
        if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max()))
            return static_cast<T>(u);
    } else if (v.is_number_integer()) {
        const auto i = v.get<int64_t>();
        if (std::is_signed_v<T> ? (i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                   i <= static_cast<int64_t>(std::numeric_limits<T>::max()))
                                : (i >= 0 && static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())))
            return static_cast<T>(i);
    } else {
        throw Error(what + " must be an integer");
    }
    throw Error(what + " is out of range (" + v.dump() + ")");
}

/// obj[key] as a T, or `fallback` when the key is absent or null.
template <typename T>
T jsonIntOr(const nlohmann::json& obj, const char* key, T fallback, const std::string& what)
{
    if (!obj.is_object())
        return fallback;
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return fallback;
    return jsonInt<T>(*it, what);
}

/// A JSON array of integers as std::vector<T>.
template <typename T>
std::vector<T> jsonInts(const nlohmann::json& v, const std::string& what)
{
    if (!v.is_array())
        throw Error(what + " must be a list of integers");
    std::vector<T> out;
    out.reserve(v.size());
    for (const auto& x : v)
        out.push_back(jsonInt<T>(x, what));
    return out;
}

template <typename T>
struct IsIntVector : std::false_type {};
template <typename T>
struct IsIntVector<std::vector<T>> : std::bool_constant<std::is_integral_v<T> && !std::is_same_v<T, bool>> {};

/// obj.value(key, fallback), but integers are range-checked for T (jsonInt) and lists of
/// integers element by element; other types (strings, bools, doubles) as nlohmann::json::value.
/// `source` names the file for messages.
template <typename T>
T jsonValue(const nlohmann::json& obj, const char* key, const T& fallback, const std::string& source)
{
    const std::string what = source + ": field \"" + key + "\"";
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        return jsonIntOr<T>(obj, key, fallback, what);
    } else if constexpr (IsIntVector<T>::value) {
        if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null())
            return fallback;
        return jsonInts<typename T::value_type>(obj.at(key), what);
    } else {
        return obj.value(key, fallback);
    }
}

} // namespace mpq::detail
