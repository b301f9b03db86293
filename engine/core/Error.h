#pragma once

#include <stdexcept>
#include <string>

namespace mpq {

/// The one exception type the engine throws for problems a user can act on: a bad file, a
/// missing tensor, an invalid option. The message is complete and names the file or setting.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Thrown by JobContext::checkCancelled() when the user asked a job to stop.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled by the user") {}
};

} // namespace mpq
