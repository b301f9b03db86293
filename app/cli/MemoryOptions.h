#pragma once

// Memory limits and figures shared by the commands (docs/streaming.md): --max-host-memory and
// --max-device-memory, the "memory" object of every --json output, and over-budget refusals as
// bad usage (exit status 2, one line).

#include "Args.h"

#include "core/Memory.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace mpq::cli {

/// Declares --max-host-memory and --max-device-memory.
void addMemoryOptions(Args& args);
/// The limits given (0 where none); a malformed size is a UsageError.
MemoryBudget memoryBudgetFrom(const Args& args);

/// `j` with "memory": {"peak_host_bytes", "peak_device_bytes"}: the process's peak RSS so far and
/// LibTorch's peak CUDA allocation on `device` (-1 on the CPU).
nlohmann::json withMemory(nlohmann::json j, const std::string& device = "cpu");

/// A job refused by its memory plan, as bad usage: one line naming the option.
[[noreturn]] void refuseOverBudget(const MemoryBudgetError& e);

/// Runs `job`; a MemoryBudgetError becomes a UsageError (exit status 2).
template <class Job>
auto withinBudget(Job&& job) -> decltype(job())
{
    try {
        return std::forward<Job>(job)();
    } catch (const MemoryBudgetError& e) {
        refuseOverBudget(e);
    }
}

} // namespace mpq::cli
